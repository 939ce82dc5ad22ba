// A chat session: one actor per WebSocket connection, on the worker pool.
// It keeps its user's name, the rooms it joined (at most MAX_ROOMS) and its
// budget of requests (a token bucket: RATE a second, bursts of BURST; posts,
// joins, leaves and lists alike).
//
// Init: {name: str, out: pid (the server's inbox of this connection), dir: pid (the directory)}.
// From the server (MessagePack arrays; ref "" when the client gave none):
//   ["rooms", ref]  ["join", room, ref]  ["leave", room, ref]  ["post", room, text, ts, ref]
// Rooms send their frames (message, presence) to the connection's outbox
// themselves; the session's own answers (joined, left, ack, rooms, error)
// are JSON text as well, and anything else it receives (a frame, JSON text:
// first byte '{') goes to the outbox as it is.
//
// Build: node guest/assemblyscript/build.mjs (writes session.wasm).
import {
  Decoder, Encoder, MESSAGE, callBytes, initValue, lastStatus, now, receiveMessage, self, sendBytes, statusName, Value,
} from "../../guest/assemblyscript/assembly";
import { errorFrame, quote, refField, utf8 } from "./json";

const MAX_ROOMS = 10;
const RATE: f64 = 10; // requests a second
const BURST: f64 = 20;
/** How long a request to a room or the directory may take. */
const CALL_MS = 5000;

let out = 0;
let dir = 0;
let me = 0;
let name = "";
/** Its name as a MessagePack str. */
let nameRaw = new Uint8Array(0);
const rooms = new Map<string, i32>();
let tokens: f64 = BURST;
let lastRefill: i64 = 0;
const req = new Encoder(256);

function emit(frame: string): void {
  sendBytes(out, utf8(frame));
}

function fail(code: string, message: string, room: string, ref: string): void {
  emit(errorFrame(code, message, room, ref));
}

/** The answer of a call as text (the str it is), or null after failing the request with `unavailable`. */
function callText(to: i32, bytes: Uint8Array, what: string, room: string, ref: string): string | null {
  const m = callBytes(to, bytes, CALL_MS);
  if (m == null) {
    fail("unavailable", what + ": " + statusName(lastStatus()), room, ref);
    return null;
  }
  const d = m.decoder();
  const s = d.readString();
  if (!d.ok) {
    fail("unavailable", what + ": a bad answer", room, ref);
    return null;
  }
  return s;
}

/** Takes one request from the budget (every request: posts, joins, leaves, lists), or fails it with `rate_limited`. */
function allowed(room: string, ref: string): bool {
  const t = now();
  tokens += (<f64>(t - lastRefill) / 1000.0) * RATE;
  if (tokens > BURST) tokens = BURST;
  lastRefill = t;
  if (tokens < 1) {
    fail("rate_limited", "at most " + (<i32>RATE).toString() + " requests a second", room, ref);
    return false;
  }
  tokens -= 1;
  return true;
}

/** The error a refusal carries: ["code", "message"] (a directory's or a room's answer that is not what was asked). */
function refused(v: Value, what: string, room: string, ref: string): void {
  const code = v.at(0).asString();
  fail(code.length > 0 ? code : "unavailable", v.length > 1 ? v.at(1).asString() : what + ": a bad answer", room, ref);
}

function listRooms(ref: string): void {
  if (!allowed("", ref)) return;
  const list = callText(dir, req.reset().arrayHeader(1).str("list").finish(), "the directory", "", ref);
  if (list != null) emit('{"type":"rooms","rooms":' + list + refField(ref) + "}");
}

function join(room: string, ref: string): void {
  if (!allowed(room, ref)) return;
  if (!rooms.has(room) && rooms.size >= MAX_ROOMS) {
    fail("too_many_rooms", "at most " + MAX_ROOMS.toString() + " rooms at once", room, ref);
    return;
  }
  // The directory makes the room, or finds it (restored or woken by the call).
  const m = callBytes(dir, req.reset().arrayHeader(2).str("room").str(room).finish(), CALL_MS);
  if (m == null) {
    fail("unavailable", "the directory: " + statusName(lastStatus()), room, ref);
    return;
  }
  const d = m.decoder();
  const v = d.readValue();
  if (v.isArray) {
    refused(v, "the directory", room, ref);
    return;
  }
  const pid = v.asPid();
  if (!d.ok || pid <= 0) {
    fail("unavailable", "the directory: a bad answer", room, ref);
    return;
  }
  const answer = callBytes(pid, req.reset().arrayHeader(4).str("join").pid(me).pid(out).str(name).finish(), CALL_MS);
  if (answer == null) {
    // The room may take the join later (it is journaled): it is told to forget it, so that a client told
    // `unavailable` is not a member.
    sendBytes(pid, req.reset().arrayHeader(2).str("leave").pid(me).finish(), CALL_MS);
    fail("unavailable", "the room: " + statusName(lastStatus()), room, ref);
    return;
  }
  const a = answer.decoder().readValue();
  if (a.isArray) {
    refused(a, "the room", room, ref);
    return;
  }
  if (!a.isString) {
    fail("unavailable", "the room: a bad answer", room, ref);
    return;
  }
  const frag = a.asString();
  rooms.set(room, pid);
  emit('{"type":"joined","room":' + quote(room) + "," + frag + refField(ref) + "}");
}

function leave(room: string, ref: string): void {
  if (!allowed(room, ref)) return;
  if (!rooms.has(room)) {
    fail("not_joined", "not in this room", room, ref);
    return;
  }
  const pid = rooms.get(room);
  rooms.delete(room);
  sendBytes(pid, req.reset().arrayHeader(2).str("leave").pid(me).finish(), CALL_MS);
  emit('{"type":"left","room":' + quote(room) + refField(ref) + "}");
}

/** A post: its text and ref as they came, MessagePack strs (the room reads them in place). */
function post(room: string, text: Uint8Array, ts: i64, ref: string, refRaw: Uint8Array): void {
  if (!rooms.has(room)) {
    fail("not_joined", "join the room first", room, ref);
    return;
  }
  if (!allowed(room, ref)) return;
  // Returns once the room's journal has it; the room answers the client itself (ack, or error), on the main thread.
  const s = sendBytes(rooms.get(room), req.reset().arrayHeader(7).str("post").pid(me).pid(out).raw(nameRaw).raw(text).int(ts).raw(refRaw).finish(), CALL_MS);
  if (s != 0) fail("unavailable", "the room: " + statusName(s), room, ref);
}

export function main(): void {
  const args = initValue<Value>();
  name = args.get("name").asString();
  nameRaw = new Encoder(64).str(name).finish();
  out = args.get("out").asPid();
  dir = args.get("dir").asPid();
  me = self();
  lastRefill = now();
  while (true) {
    const m = receiveMessage();
    if (m == null || m.kind != MESSAGE) continue;
    const bytes = m.bytes;
    if (bytes.length > 0 && bytes[0] == 0x7b) {
      // A frame from a room: to the client as it is.
      sendBytes(out, bytes);
      continue;
    }
    const d = m.decoder();
    const n = d.readArrayHeader();
    const op = d.readString();
    if (!d.ok) continue;
    if (op == "post" && n == 5) {
      const room = d.readString();
      const text = d.readRaw();
      const ts = d.readI64();
      const refRaw = d.readRaw();
      const ref = new Decoder(refRaw).readString();
      if (d.ok) post(room, text, ts, ref, refRaw);
    } else if (op == "join" && n == 3) {
      const room = d.readString();
      const ref = d.readString();
      if (d.ok) join(room, ref);
    } else if (op == "leave" && n == 3) {
      const room = d.readString();
      const ref = d.readString();
      if (d.ok) leave(room, ref);
    } else if (op == "rooms" && n == 2) {
      const ref = d.readString();
      if (d.ok) listRooms(ref);
    }
  }
}
