// A chat room: one durable actor per room (key "room:<name>"), on the main
// thread. It keeps its members (the sessions that joined, monitored, each
// with its connection's outbox: the id under which the server writes to its
// WebSocket), its last HISTORY messages as the JSON frames it sent, and the
// next message id.
// Every message to it is journaled by the hive before it takes it, so a post
// it answered survives a crash; its state is checkpointed as it goes.
//
// Init: its name (a string). Requests (MessagePack arrays; the session puts
// its own pid in, as a call's sender is a reply address):
//   call ["join", session, outbox, name]  -> the str '"history":[...],"members":[...]'
//                                    (a fragment of the session's `joined` frame)
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
// Build: node guest/assemblyscript/build.mjs (writes room.wasm).
import {
  Encoder, DOWN, MESSAGE, Message, callService, demonitor, initValue, lastStatus, monitor, receiveMessage,
  NOT_FOUND, lookup, replyBytes, sendBytes, service, serviceError, statusName, logWarn,
} from "../../guest/assemblyscript/assembly";
import { errorFrame, quote, refField, stringArray, utf8 } from "./json";

/** Messages kept and sent on join. */
const HISTORY = 100;

class Member {
  constructor(public pid: i32, public out: i32, public name: string, public ref: i32) {}
}

const members = new Array<Member>();
const history = new Array<string>();
let name = "";
let roomField = "";
let nextId: i64 = 1;
let lastTs: i64 = 0;
const answer = new Encoder(64);

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
function toMembers(e: Encoder, frame: string, except: i32): void {
  e.bin(utf8(frame));
  e.arrayHeader(except == 0 ? members.length : members.length - 1);
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    if (m.pid != except) e.int(m.out);
  }
}

/** Adds a frame for one member. */
function toMember(e: Encoder, frame: string, m: Member): void {
  e.bin(utf8(frame)).arrayHeader(1).int(m.out);
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
  const e = deliveries(1);
  toMembers(e, '{"type":"presence"' + roomField + ',"name":' + quote(who) + ',"event":"' + event + '","members":' + stringArray(names()) + "}", except);
  deliver(e);
}

function join(session: i32, out: i32, name: string): void {
  if (memberAt(session) < 0) {
    members.push(new Member(session, out, name, monitor(session)));
    presence(name, "join", session);
  }
  const frag = '"history":[' + history.join(",") + '],"members":' + stringArray(names());
  replyBytes(answer.reset().str(frag).finish());
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

function post(author: Member, text: string, ts: i64, ref: string, mod: i32): void {
  let clean = text;
  if (mod >= 0) {
    clean = callService<string, string>(mod, "check", text, 2000);
    const s = lastStatus();
    if (s != 0) {
      const why = serviceError().length > 0 ? serviceError() : "moderation failed: " + statusName(s);
      const e = deliveries(1);
      toMember(e, errorFrame("rejected", why, name, ref), author);
      deliver(e);
      return;
    }
  }
  // Ids and times only grow (the server's clock may step back).
  if (ts > lastTs) lastTs = ts;
  const id = nextId++;
  const frame = '{"type":"message"' + roomField + ',"id":' + id.toString() + ',"name":' + quote(author.name) + ',"text":' + quote(clean) + ',"ts":' + lastTs.toString() + "}";
  history.push(frame);
  if (history.length > HISTORY) history.shift();
  const e = deliveries(2);
  toMember(e, '{"type":"ack"' + roomField + ',"id":' + id.toString() + refField(ref) + "}", author);
  toMembers(e, frame, 0);
  deliver(e);
}

/**
 * Handles one request; false when it cannot be read (only sessions, this
 * example's own code, write to a room: a request it cannot read is a bug).
 */
function handle(m: Message, mod: i32): bool {
  const d = m.decoder();
  const n = d.readArrayHeader();
  const op = d.readString();
  const session = d.readPid();
  if (!d.ok) return false;
  if (op == "post" && n == 7) {
    const out = d.readPid();
    const who = d.readString();
    const text = d.readString();
    const ts = d.readI64();
    const ref = d.readString();
    if (!d.ok) return false;
    post(new Member(session, out, who, 0), text, ts, ref, mod);
  } else if (op == "join" && n == 4) {
    const out = d.readPid();
    const who = d.readString();
    if (!d.ok) return false;
    join(session, out, who);
  } else if (op == "leave" && n == 2) {
    leave(session);
  } else {
    return false;
  }
  return true;
}

export function main(): void {
  name = initValue<string>();
  roomField = ',"room":' + quote(name);
  const mod = service("moderation");
  if (mod < 0) logWarn("room " + name + ": no moderation service");
  while (true) {
    const m = receiveMessage();
    if (m == null) continue;
    if (m.kind == DOWN) down(m.ref);
    // Let it crash: the server restarts a crashed room from its last checkpoint, without the message it
    // crashed on (durable crash restarts), so a bad request costs a restart, not the room.
    else if (m.kind == MESSAGE && !handle(m, mod)) abort("room " + name + ": a request it cannot read");
  }
}
