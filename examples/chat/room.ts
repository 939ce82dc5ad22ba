// A chat room: one durable actor per room (key "room:<name>"), on the main
// thread. It keeps its members (the sessions that joined, monitored, each
// with its connection's outbox: the id under which the server writes to its
// WebSocket), its last HISTORY messages as the JSON frames it sent, and the
// next message id. Every message to it is journaled by the hive before it
// takes it, so a post it answered survives a crash; its state is
// checkpointed as it goes.
//
// Init: its name (a string). Requests (MessagePack arrays; the session puts
// its own pid in, as a call's sender is a reply address):
//   call ["join", session, outbox, name]  -> the str '"history":[...],"members":[...]'
//                                            (a fragment of the session's `joined` frame),
//                                            or ["room_full", message] past MAX_MEMBERS
//   send ["leave", session]
//   send ["post", session, outbox, name, text, ts, ref]: the author's outbox
//        gets `ack` (the post was journaled before the room took it) or an
//        `error`. A post is taken whether its author is still a member or
//        not: it was acknowledged when it was journaled, and a replay after
//        a restart meets the authors' sessions gone (their DOWN messages,
//        noproc, come before the replayed posts: signals overtake messages).
// Its frames (JSON text, UTF-8: `message`, `presence`, and `ack` or `error`
// for a post's author) go to the server's gateway (an inbox registered as
// "gateway"), one message per event: [frame, [outbox, ...], frame, [...]...],
// which the server writes to those connections. One send per post, not one
// per member: a guest's send waits for the receiver's answer (its slice ends
// there), so a loop of 20 sends would cost the room 20 turns of the
// scheduler, and a send to a session on a worker thread a round trip each.
//
// A post is the hot path (about 1,200 a second over 10 rooms in the load
// test): it is read in place (the text's UTF-8 bytes are never decoded),
// and its frames are written as bytes (JsonBytes), not built from strings.
//
// Build: node guest/assemblyscript/build.mjs (writes room.wasm).
import {
  Decoder, Encoder, DOWN, MESSAGE, NOT_FOUND, callServiceBytes, demonitor, initValue, lastStatus, logWarn, lookup,
  monitor, replyBytes, sendBytes, service, serviceError, statusName,
} from "../../guest/assemblyscript/assembly";
import * as abi from "../../guest/assemblyscript/assembly/abi";
import { JsonBytes, errorFrame, quote, stringArray, utf8 } from "./json";

/** Messages kept and sent on join. */
const HISTORY = 100;
/** Members at once (each is monitored: an actor holds at most 1,000 monitors). */
const MAX_MEMBERS = 500;

class Member {
  constructor(public pid: i32, public out: i32, public name: string, public ref: i32) {}
}

const members = new Array<Member>();
/** The last HISTORY message frames, a ring: the oldest at `first`. */
const history = new StaticArray<Uint8Array | null>(HISTORY);
let first = 0;
let kept = 0;
let name = "";
let roomField = "";
let nextId: i64 = 1;
let lastTs: i64 = 0;
const answer = new Encoder(64);
// Frame prefixes, made once: `{"type":"message","room":"<name>","id":` and `{"type":"ack","room":"<name>","id":`.
let messageHead = new Uint8Array(0);
let ackHead = new Uint8Array(0);
const NAME_KEY = utf8(',"name":');
const TEXT_KEY = utf8(',"text":');
const TS_KEY = utf8(',"ts":');
const REF_KEY = utf8(',"ref":');
const frame = new JsonBytes(512);
const ack = new JsonBytes(128);
const request = new Encoder(256);

function memberAt(pid: i32): i32 {
  for (let i = 0; i < members.length; i++) if (members[i].pid == pid) return i;
  return -1;
}

function names(): Array<string> {
  const out = new Array<string>(members.length);
  for (let i = 0; i < members.length; i++) out[i] = members[i].name;
  out.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
  return out;
}

/** The gateway's pid (looked up again when it is gone: a restarted server has a new one). */
let gateway = 0;
const out = new Encoder(1024);

/** Starts a message to the gateway of `frames` frames. */
function deliveries(frames: i32): Encoder {
  return out.reset().arrayHeader(frames * 2);
}

/** Adds a frame for every member but `except` (0: for all). */
function toMembers(e: Encoder, p: usize, n: i32, except: i32): void {
  e.binHeader(n).rawAt(p, n);
  e.arrayHeader(except == 0 ? members.length : members.length - 1);
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    if (m.pid != except) e.int(m.out);
  }
}

/** Adds a frame for one outbox. */
function toOne(e: Encoder, p: usize, n: i32, outbox: i32): void {
  e.binHeader(n).rawAt(p, n).arrayHeader(1).int(outbox);
}

/** Sends what `e` holds to the gateway (waiting for room: the server writes as fast as it can). */
function deliver(e: Encoder): void {
  const bytes = e.finish();
  if (gateway <= 0) gateway = lookup("gateway");
  if (gateway > 0 && sendBytes(gateway, bytes) == NOT_FOUND) {
    gateway = lookup("gateway");
    if (gateway > 0) sendBytes(gateway, bytes);
  }
}

function presence(who: string, event: string, except: i32): void {
  const f = utf8('{"type":"presence"' + roomField + ',"name":' + quote(who) + ',"event":"' + event + '","members":' + stringArray(names()) + "}");
  const e = deliveries(1);
  toMembers(e, f.dataStart, f.length, except);
  deliver(e);
}

function join(session: i32, outbox: i32, who: string): void {
  if (memberAt(session) < 0 && members.length >= MAX_MEMBERS) {
    replyBytes(answer.reset().arrayHeader(2).str("room_full").str("at most " + MAX_MEMBERS.toString() + " members in a room").finish());
    return;
  }
  if (memberAt(session) < 0) {
    members.push(new Member(session, outbox, who, monitor(session)));
    presence(who, "join", session);
  }
  const j = new JsonBytes(256);
  j.bytes(utf8('"history":['));
  for (let i = 0; i < kept; i++) {
    if (i > 0) j.byte(0x2c);
    j.bytes(history[(first + i) % HISTORY]!);
  }
  j.bytes(utf8('],"members":' + stringArray(names())));
  replyBytes(answer.reset().strHeader(j.len).rawAt(j.ptr, j.len).finish());
}

function leave(session: i32): void {
  const i = memberAt(session);
  if (i < 0) return;
  const m = members[i];
  members.splice(i, 1);
  demonitor(m.ref);
  presence(m.name, "leave", 0);
}

function down(ref: i32): void {
  for (let i = 0; i < members.length; i++) {
    if (members[i].ref == ref) {
      const m = members[i];
      members.splice(i, 1);
      presence(m.name, "leave", 0);
      return;
    }
  }
}

/**
 * A post: its name, text and ref are the UTF-8 bytes of strs in the request
 * (at `namePtr`, ...). The moderation service answers nil for a text it
 * leaves as it is, else the text to post instead (a str), or a failure.
 */
function post(outbox: i32, namePtr: usize, nameLen: i32, textPtr: usize, textLen: i32, ts: i64, refPtr: usize, refLen: i32, mod: i32): void {
  let tp = textPtr;
  let tn = textLen;
  let checked: Uint8Array | null = null;
  if (mod >= 0) {
    // The request: one str, the text.
    checked = callServiceBytes(mod, "check", request.reset().strHeader(textLen).rawAt(textPtr, textLen).finish(), 2000);
    if (checked == null) {
      const why = serviceError().length > 0 ? serviceError() : "moderation failed: " + statusName(lastStatus());
      const f = utf8(errorFrame("rejected", why, name, refLen == 0 ? "" : String.UTF8.decodeUnsafe(refPtr, <usize>refLen)));
      const e = deliveries(1);
      toOne(e, f.dataStart, f.length, outbox);
      deliver(e);
      return;
    }
    const d = new Decoder(checked);
    if (!d.isNil()) {
      tp = d.readStringPtr();
      tn = d.lastLength;
      if (!d.ok) {
        tp = textPtr;
        tn = textLen;
      }
    }
  }
  // Ids and times only grow (the server's clock may step back).
  if (ts > lastTs) lastTs = ts;
  const id = nextId++;
  const m = frame.reset().bytes(messageHead).int(id).bytes(NAME_KEY).str(namePtr, nameLen).bytes(TEXT_KEY).str(tp, tn).bytes(TS_KEY).int(lastTs).byte(0x7d);
  const kept1 = m.copy();
  if (kept < HISTORY) history[(first + kept++) % HISTORY] = kept1;
  else {
    history[first] = kept1;
    first = (first + 1) % HISTORY;
  }
  const a = ack.reset().bytes(ackHead).int(id);
  if (refLen > 0) a.bytes(REF_KEY).str(refPtr, refLen);
  a.byte(0x7d);
  const e = deliveries(2);
  toOne(e, a.ptr, a.len, outbox);
  toMembers(e, m.ptr, m.len, 0);
  deliver(e);
}

/** The current message, read into a buffer kept from one to the next. */
let inbox = new Uint8Array(1024);
const reader = new Decoder(inbox);

/**
 * Handles one request of `n` bytes (in `inbox`); false when it cannot be
 * read (only sessions, this example's own code, write to a room: a request
 * it cannot read is a bug).
 */
function handle(n: i32, mod: i32): bool {
  const d = reader.reset(inbox, n);
  const items = d.readArrayHeader();
  const op = d.readStringPtr();
  const opLen = d.lastLength;
  const session = d.readPid();
  if (!d.ok) return false;
  // The op's first byte tells them apart: post, join, leave.
  const o = opLen == 4 || opLen == 5 ? load<u8>(op) : 0;
  if (o == 0x70 && opLen == 4 && items == 7) {
    const outbox = d.readPid();
    const np = d.readStringPtr();
    const nn = d.lastLength;
    const tp = d.readStringPtr();
    const tn = d.lastLength;
    const ts = d.readI64();
    const rp = d.readStringPtr();
    const rn = d.lastLength;
    if (!d.ok) return false;
    post(outbox, np, nn, tp, tn, ts, rp, rn, mod);
  } else if (o == 0x6a && opLen == 4 && items == 4) {
    const outbox = d.readPid();
    const who = d.readString();
    if (!d.ok) return false;
    join(session, outbox, who);
  } else if (o == 0x6c && opLen == 5 && items == 2) {
    leave(session);
  } else {
    return false;
  }
  return true;
}

export function main(): void {
  name = initValue<string>();
  roomField = ',"room":' + quote(name);
  messageHead = utf8('{"type":"message"' + roomField + ',"id":');
  ackHead = utf8('{"type":"ack"' + roomField + ',"id":');
  const mod = service("moderation");
  if (mod < 0) logWarn("room " + name + ": no moderation service");
  while (true) {
    const n = abi.receive(abi.FOREVER);
    if (n < 0) continue;
    const kind = abi.kind();
    if (n > inbox.length) inbox = new Uint8Array(n);
    abi.read(inbox.dataStart, n);
    if (kind == DOWN) {
      const d = reader.reset(inbox, n).readValue();
      down(d.get("ref").asI32());
    }
    // Let it crash: the server restarts a crashed room from its last checkpoint, without the message it
    // crashed on (durable crash restarts), so a bad request costs a restart, not the room.
    else if (kind == MESSAGE && !handle(n, mod)) abort("room " + name + ": a request it cannot read");
  }
}
