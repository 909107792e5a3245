// The scenario table as it applies to a browser: scenarios.json with the two things a
// browser's WebSocket cannot report replaced by what it can (S6 only):
//   - why an attempt failed before it opened: browsers report every such failure (refused,
//     DNS, TLS, unanswered handshake) as `error` + close 1006 with no detail, by design
//     (WebSocket spec: no port scanning), so `kind: "refused"` becomes `kind: "other"`;
//   - "TCP connected, handshake pending": a WebSocket has no such signal, so the whole
//     attempt is under the connect timeout: `handshake_timeout` becomes `connect_timeout`.
// Every other step and every other scenario is the table as it is.
//   node browser-table.mjs IN.json OUT.json
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
const table = JSON.parse(readFileSync(input, "utf8"));
let changed = 0;
const visit = (steps) => {
  for (const step of steps) {
    if (step.steps) visit(step.steps);
    if (step.kind === "refused") {
      step.kind = "other";
      changed++;
    }
    if (step.cause === "handshake_timeout") {
      step.cause = "connect_timeout";
      changed++;
    }
  }
};
for (const s of table.scenarios) if (s.id === "S6") visit(s.steps);
writeFileSync(output, JSON.stringify(table, null, 1));
console.error(`browser table: ${changed} S6 expectations adapted (kind refused -> other, handshake_timeout -> connect_timeout)`);
