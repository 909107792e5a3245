// The CommonJS entry point: the same classes through require().
import steadysock = require("steadysock");

const ws: steadysock.WebSocket = new steadysock.WebSocket("ws://127.0.0.1:9/", "chat");
ws.onerror = (event: steadysock.ErrorEvent): void => {
  console.log(`expected failure: ${event.message}`);
};
ws.onclose = (event: steadysock.CloseEvent): void => {
  console.log(`closed with ${event.code}, clean: ${event.wasClean}`);
};
const fake = new steadysock.CloseEvent("close", { code: 4001, reason: "test" });
console.log(fake.code, fake.reason, fake instanceof Event);
