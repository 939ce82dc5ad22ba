// Checks that the SDK's allocation-free message paths (scalars and short
// strings through static scratch memory) write and read the same MessagePack
// as its Encoder and Decoder, for the SDK's own tests.
//
// Messages are commands (arrays):
//   [type, value]        decodes value as type, then sends it back twice:
//                        send<T>(sender, v), then sendBytes(sender, encode<T>(v))
//   ["reply", type, value]  the same with reply<T>(v)
//   ["recv", type]       receive<T>() of the next message; answers [ok, v, lastStatus()]
//                        where ok says whether lastStatus() is 0 (v re-encoded with the Encoder)
//   ["call_i32", pid, n] call<i32, i32>(pid, n, 100); answers [result, lastStatus()]
//   ["call_str", pid, s] call<string, string>(pid, s, 100); answers [result, lastStatus()]
//   ["surrogates"]       sends a string with unpaired surrogates both ways
//   ["strptr", value]    Decoder.readStringPtr of value; answers [ok, lastLength, the str
//                        written again with Encoder.strHeader + rawAt (nil when not ok)]
// Types: bool i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 string string?
import {
  Decoder, Encoder, decodeFrom, encode, encodeInto,
  receiveMessage, receive, send, sendBytes, reply, replyBytes, call, lastStatus,
} from "../../guest/assemblyscript/assembly";

export function main(): void {
  while (true) {
    const m = receiveMessage();
    if (m == null) continue;
    const from = m.sender;
    const d = m.decoder();
    d.readArrayHeader();
    const t = d.readString();
    if (t == "recv") {
      const ty = d.readString();
      if (ty == "bool") recv<bool>(from);
      else if (ty == "i8") recv<i8>(from);
      else if (ty == "u8") recv<u8>(from);
      else if (ty == "i16") recv<i16>(from);
      else if (ty == "u16") recv<u16>(from);
      else if (ty == "i32") recv<i32>(from);
      else if (ty == "u32") recv<u32>(from);
      else if (ty == "i64") recv<i64>(from);
      else if (ty == "u64") recv<u64>(from);
      else if (ty == "f32") recv<f32>(from);
      else if (ty == "f64") recv<f64>(from);
      else if (ty == "string") recv<string>(from);
      else if (ty == "string?") recv<string | null>(from);
    } else if (t == "call_i32") {
      const pid = d.readPid();
      const v = call<i32, i32>(pid, d.readI32(), 100);
      const e = new Encoder();
      e.arrayHeader(2).int(v).int(lastStatus());
      sendBytes(from, e.finish());
    } else if (t == "call_str") {
      const pid = d.readPid();
      const v = call<string, string>(pid, d.readString(), 100);
      const e = new Encoder();
      e.arrayHeader(2).str(v).int(lastStatus());
      sendBytes(from, e.finish());
    } else if (t == "strptr") {
      const p = d.readStringPtr();
      const n = d.lastLength;
      const e = new Encoder();
      e.arrayHeader(3).bool(d.ok).int(n);
      if (d.ok) e.strHeader(n).rawAt(p, n);
      else e.nil();
      sendBytes(from, e.finish());
    } else if (t == "surrogates") {
      const s = "a" + String.fromCharCode(0xd800) + "b" + String.fromCharCode(0xdc00) + String.fromCharCodes([0xd83c, 0xdf89]) + String.fromCharCode(0xdbff);
      send<string>(from, s);
      sendBytes(from, encode<string>(s));
    } else {
      const isReply = t == "reply";
      const ty = isReply ? d.readString() : t;
      if (ty == "bool") echo<bool>(d, from, isReply);
      else if (ty == "i8") echo<i8>(d, from, isReply);
      else if (ty == "u8") echo<u8>(d, from, isReply);
      else if (ty == "i16") echo<i16>(d, from, isReply);
      else if (ty == "u16") echo<u16>(d, from, isReply);
      else if (ty == "i32") echo<i32>(d, from, isReply);
      else if (ty == "u32") echo<u32>(d, from, isReply);
      else if (ty == "i64") echo<i64>(d, from, isReply);
      else if (ty == "u64") echo<u64>(d, from, isReply);
      else if (ty == "f32") echo<f32>(d, from, isReply);
      else if (ty == "f64") echo<f64>(d, from, isReply);
      else if (ty == "string") echo<string>(d, from, isReply);
      else if (ty == "string?") echo<string | null>(d, from, isReply);
    }
  }
}

function echo<T>(d: Decoder, to: i32, isReply: bool): void {
  const v = decodeFrom<T>(d);
  if (isReply) {
    reply<T>(v);
    replyBytes(encode<T>(v));
  } else {
    send<T>(to, v);
    sendBytes(to, encode<T>(v));
  }
}

function recv<T>(to: i32): void {
  const v = receive<T>();
  const status = lastStatus();
  const e = new Encoder();
  e.arrayHeader(3).bool(status == 0);
  encodeInto<T>(e, v);
  e.int(status);
  sendBytes(to, e.finish());
}
