// The directory of rooms: one durable actor (key "directory"), on the main
// thread. It keeps the names of the rooms (at most MAX_ROOMS) and is the only
// actor granted the server's `rooms` service, which makes or restores a
// room's durable actor (`rooms.open(name)` answers its pid).
//
// Requests (calls; MessagePack arrays):
//   ["room", name] -> the room's pid, or [code, message] saying why not
//                     (code "too_many_rooms", or "unavailable": the room could not be opened)
//   ["list"]       -> the str '["a","b",...]' (a JSON array of the names, sorted; made again only when a room is added)
//
// Build: node guest/assemblyscript/build.mjs (writes directory.wasm).
import {
  Encoder, MESSAGE, Value, callService, lastStatus, receiveMessage, replyBytes, service, serviceError, statusName,
} from "../../guest/assemblyscript/assembly";
import { stringArray } from "./json";

const MAX_ROOMS = 1000;

export function main(): void {
  const svc = service("rooms");
  const names = new Array<string>();
  const known = new Set<string>();
  const answer = new Encoder(64);
  let list = "[]";
  while (true) {
    const m = receiveMessage();
    if (m == null || m.kind != MESSAGE) continue;
    const d = m.decoder();
    const n = d.readArrayHeader();
    const op = d.readString();
    if (!d.ok) continue;
    if (op == "list" && n == 1) {
      replyBytes(answer.reset().str(list).finish());
    } else if (op == "room" && n == 2) {
      const name = d.readString();
      if (!d.ok) continue;
      if (!known.has(name) && names.length >= MAX_ROOMS) {
        replyBytes(answer.reset().arrayHeader(2).str("too_many_rooms").str("at most " + MAX_ROOMS.toString() + " rooms").finish());
        continue;
      }
      // Asked each time: the service gives the room's actor now (restored, or woken).
      const pid = callService<string, Value>(svc, "open", name, 5000).asPid();
      if (lastStatus() != 0 || pid <= 0) {
        replyBytes(answer.reset().arrayHeader(2).str("unavailable").str("the room could not be opened: " + statusName(lastStatus()) + " " + serviceError()).finish());
        continue;
      }
      if (!known.has(name)) {
        known.add(name);
        names.push(name);
        names.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
        list = stringArray(names);
      }
      replyBytes(answer.reset().pid(pid).finish());
    }
  }
}
