// The browser demo: a ReconnectingWebSocket (wasm core, recovery on) against the fault
// server (?ws=ws://…); shows the connection state, each reconnect attempt with its delay
// and cause, and the messages, marking those that arrived after a reconnect (replayed by
// the server from its recovery log). window.demo holds what the page shows, for the test.
import ReconnectingWebSocket from "steadysock";

const $ = (id) => document.getElementById(id);
const url = new URLSearchParams(location.search).get("ws");
const demo = (globalThis.demo = { state: "idle", opens: 0, recovered: null, attempts: [], messages: [] });

function show() {
  $("state").textContent = demo.state;
  $("state").className = demo.state;
  $("opens").textContent = demo.opens;
  $("recovered").textContent = demo.recovered === null ? "-" : String(demo.recovered);
  $("count").textContent = demo.messages.length;
}

const ws = new ReconnectingWebSocket(url, undefined, {
  minReconnectionDelay: 150,
  maxReconnectionDelay: 1500,
  reconnectionDelayGrowFactor: 2,
  jitter: "full",
  recovery: true,
  // What the Session decided, as it decided it (state changes, attempts and their delays).
  observe(o) {
    if (o.output === "state_changed") {
      demo.state = o.values[1];
      show();
    } else if (o.output === "reconnecting") {
      const [attempt, delay, , , why] = o.values;
      demo.attempts.push({ attempt, delay, why });
      const li = document.createElement("li");
      li.textContent = `attempt ${attempt} in ${delay} ms (${why})`;
      $("attempts").append(li);
    } else if (o.output === "open") {
      demo.opens++;
      demo.recovered = o.values[1];
      show();
    }
  },
});
ws.addEventListener("message", (e) => {
  demo.messages.push({ text: e.data, connection: demo.opens });
  const li = document.createElement("li");
  li.textContent = `${e.data} (connection ${demo.opens})`;
  if (demo.opens > 1) li.className = "replayed";
  $("messages").append(li);
  show();
});
show();
