// Exercises the SDK's typed generic helpers (encode/decode by static type),
// for the SDK's own tests.
//
// Init: an optional array of strings, read with initValue<string[]>().
// Messages are [type: str, value]; the answer (to the sender) is
// [ok: bool, value re-encoded as that type] where ok says whether value
// decoded as the type. Types: bool i8 u8 i16 u16 i32 u32 i64 u64 f32 f64
// string string? bin i32[] string[] i32[][] value.
// Special commands:
//   ["init"]             -> the init array (or [] when there was none), lastStatus at init
//   ["recv_i32", t]      -> [receive<i32>(t), lastStatus()]  (the next message)
//   ["recv_str", t]      -> [receive<string>(t), lastStatus()]
//   ["call", pid, str]   -> [call<string,string>(pid, str, 100), lastStatus()]
import {
  Decoder, Encoder, Value, decodeFrom, encodeInto,
  initValue, receiveMessage, receive, call, sendBytes, lastStatus,
} from "../../guest/assemblyscript/assembly";

let initNames: string[] = [];
let initStatus: i32 = 0;

export function main(): void {
  initNames = initValue<string[]>();
  initStatus = lastStatus();
  while (true) {
    const m = receiveMessage();
    if (m == null) continue;
    const from = m.sender;
    const d = m.decoder();
    d.readArrayHeader();
    const t = d.readString();
    const e = new Encoder();
    if (t == "init") {
      e.arrayHeader(2);
      encodeInto<string[]>(e, initNames);
      e.int(initStatus);
    } else if (t == "recv_i32") {
      const v = receive<i32>(d.readI32());
      e.arrayHeader(2).int(v).int(lastStatus());
    } else if (t == "recv_str") {
      const v = receive<string>(d.readI32());
      e.arrayHeader(2).str(v).int(lastStatus());
    } else if (t == "call") {
      const pid = d.readPid();
      const req = d.readString();
      const v = call<string, string>(pid, req, 100);
      e.arrayHeader(2).str(v).int(lastStatus());
    }
    else if (t == "bool") roundtrip<bool>(d, e);
    else if (t == "i8") roundtrip<i8>(d, e);
    else if (t == "u8") roundtrip<u8>(d, e);
    else if (t == "i16") roundtrip<i16>(d, e);
    else if (t == "u16") roundtrip<u16>(d, e);
    else if (t == "i32") roundtrip<i32>(d, e);
    else if (t == "u32") roundtrip<u32>(d, e);
    else if (t == "i64") roundtrip<i64>(d, e);
    else if (t == "u64") roundtrip<u64>(d, e);
    else if (t == "f32") roundtrip<f32>(d, e);
    else if (t == "f64") roundtrip<f64>(d, e);
    else if (t == "string") roundtrip<string>(d, e);
    else if (t == "string?") roundtrip<string | null>(d, e);
    else if (t == "bin") roundtrip<Uint8Array>(d, e);
    else if (t == "i32[]") roundtrip<i32[]>(d, e);
    else if (t == "string[]") roundtrip<string[]>(d, e);
    else if (t == "i32[][]") roundtrip<i32[][]>(d, e);
    else if (t == "value") roundtrip<Value>(d, e);
    else e.nil();
    sendBytes(from, e.finish());
  }
}

function roundtrip<T>(d: Decoder, e: Encoder): void {
  const v = decodeFrom<T>(d);
  e.arrayHeader(2).bool(d.ok);
  encodeInto<T>(e, v);
}
