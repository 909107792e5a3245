// The conformance fault server (conformance/src/bin/fault-server.rs) as a child process, and
// its line-based control port.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createConnection } from "node:net";
import { createInterface } from "node:readline";

export async function startFaultServer(bin = process.env.FAULT_SERVER) {
  if (!bin) throw new Error("FAULT_SERVER is not set (path of the fault-server binary)");
  const child = spawn(bin, [], { stdio: ["pipe", "pipe", "inherit"] });
  const [first] = await once(createInterface({ input: child.stdout }), "line");
  const { ws, control } = JSON.parse(first);
  const [host, port] = control.split(":");
  const sock = createConnection({ host, port: Number(port) });
  await once(sock, "connect");
  const answers = createInterface({ input: sock });
  const waiting = [];
  answers.on("line", (l) => waiting.shift()?.(l));
  return {
    ws,
    /** One control command; resolves with its answer line. */
    command(line) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        sock.write(line + "\n");
      });
    },
    async close() {
      sock.destroy();
      child.stdin.end();
      await once(child, "exit");
    },
  };
}
