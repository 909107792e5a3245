// `steadysock/partysocket` and `steadysock/reconnecting-websocket` as a bundler resolves
// them for a browser (their `browser` export conditions: the wasm core, no Node module),
// put on the page for entries.test.mjs.
import PartySocket, * as party from "steadysock/partysocket";
import RWS, * as rws from "steadysock/reconnecting-websocket";
import Main from "steadysock";

globalThis.entries = { PartySocket, party: { ...party }, RWS, rws: { ...rws }, Main };
