// wasmhive guest SDK for AssemblyScript: typed wrappers over the `hive` ABI v1
// (docs/guest-abi.md) and MessagePack helpers.
//
// Error convention
// - Wrappers whose result is an i32 return the ABI's value unchanged: a pid,
//   a size, a reference, 0, or a negative status (TIMEOUT ... LIMIT).
// - Wrappers that return a decoded value (`receive<T>`, `call<Req,Res>`,
//   `initValue<T>`, `Message.decode<T>`) cannot return a status in band: on a
//   negative status or a payload that is not a T they return T's default
//   (0, false, "", an empty Uint8Array/Array, a nil Value, or null for a
//   nullable T) and record why in `lastStatus()`.
// - Wrappers returning `Message | null` return null on a negative status,
//   recorded in `lastStatus()`.
// - `lastStatus()` is set by every wrapper that can fail: 0 (OK) on success,
//   the ABI status, or DECODE_ERROR (-100, SDK only) for a payload of the
//   wrong type. After a service call (`callService`) it is also the status
//   the service answered (FAILED, INTERRUPTED, BAD_ARGUMENT, ...), whose
//   text `serviceError()` gives.
//
// Do not call these functions from top-level code (module start): the host
// links the `hive` imports but an actor only runs inside `main`.

import * as abi from "./abi";
import { Decoder, Encoder, Value, decodeFrom, encodeInto, putScalar, putStr, rawLen, readScalarAt, strAt } from "./msgpack";

// The MessagePack API (its raw pointer helpers stay internal to the SDK).
export {
  EXT_PID, MAX_DEPTH, MsgType, ValueKind,
  Encoder, Decoder, Value,
  encodeInto, encode, decodeFrom, decode, decodeOk,
} from "./msgpack";
export {
  ABI_VERSION,
  OK, TIMEOUT, NOT_FOUND, FULL, INVALID, TAKEN, NO_MODULE, SPAWN_FAILED, BAD_ARGUMENT, TOO_LARGE, LIMIT,
  FAILED, INTERRUPTED,
  DECODE_ERROR,
  MESSAGE, EXIT, DOWN, INIT,
  LINK, SERVICES, SERVICE_BASE, FOREVER, NO_WAIT,
  LEVEL_TRACE, LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR, LEVEL_FATAL,
} from "./abi";

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

let status: i32 = 0;

/** Why the last wrapper that can fail failed (0 when it succeeded). */
export function lastStatus(): i32 {
  return status;
}

/** A readable name for a status (for logs). */
export function statusName(s: i32): string {
  switch (s) {
    case 0: return "OK";
    case -1: return "TIMEOUT";
    case -2: return "NOT_FOUND";
    case -3: return "FULL";
    case -4: return "INVALID";
    case -5: return "TAKEN";
    case -6: return "NO_MODULE";
    case -7: return "SPAWN_FAILED";
    case -8: return "BAD_ARGUMENT";
    case -9: return "TOO_LARGE";
    case -10: return "LIMIT";
    case -11: return "FAILED";
    case -12: return "INTERRUPTED";
    case -100: return "DECODE_ERROR";
  }
  return s >= 0 ? "OK" : "UNKNOWN(" + s.toString() + ")";
}

@inline function track(r: i32): i32 {
  status = r < 0 ? r : 0;
  return r;
}

// ---------------------------------------------------------------------------
// Scratch memory (no allocation for the common send/receive of small values)
// ---------------------------------------------------------------------------
//
// The per-message paths keep to plain pointers and integers: in the
// incremental runtime every function holding a managed reference pays a
// shadow-stack frame, and every store of one a write barrier.

/** Static scratch bytes: a scalar sent, and a message received that fits. */
const SCRATCH_BYTES: i32 = 256;
const scratch: usize = memory.data(SCRATCH_BYTES, 16);
/** Strings up to this many UTF-16 units are encoded straight into the scratch bytes (putStrRoom(84) = 254). */
const SCRATCH_STR_UNITS: i32 = (SCRATCH_BYTES - 3) / 3;
/** Above this, the input buffer is freed when a small message comes (so one big message does not pin it). */
const KEEP_INPUT_BYTES: i32 = 65536;

// Input buffer for messages above SCRATCH_BYTES: heap.alloc memory (the GC
// does not track it), 0 when none.
let inputPtr: usize = 0;
let inputCap: i32 = 0;

// Where encodeOut put the bytes to send.
let outPtr: usize = 0;

let scratchEnc: Encoder | null = null;
let scratchDec: Decoder | null = null;
let failed: Decoder | null = null;

function encoder(): Encoder {
  let e = scratchEnc;
  if (e == null) scratchEnc = e = new Encoder(256);
  else e.reset();
  return e;
}

// Encodes value (see encodeInto) for sending: returns the byte count, the
// bytes are at outPtr. Scalars and short strings go to the static scratch.
// @ts-ignore: decorator
@inline function encodeOut<T>(value: T): i32 {
  if (isBoolean<T>() || isInteger<T>() || isFloat<T>()) {
    outPtr = scratch;
    return putScalar<T>(scratch, value);
  }
  if (isString<T>()) {
    if (!isNullable<T>() || changetype<usize>(value) != 0) {
      const s = changetype<string>(value);
      if (s.length <= SCRATCH_STR_UNITS) {
        outPtr = scratch;
        return putStr(scratch, s);
      }
    }
  }
  const e = encoder();
  encodeInto<T>(e, value);
  outPtr = e.ptr;
  return e.length;
}

// Memory for the current message's first n bytes.
function inputFor(n: i32): usize {
  if (n <= SCRATCH_BYTES) {
    if (inputCap > KEEP_INPUT_BYTES) {
      heap.free(inputPtr);
      inputPtr = 0;
      inputCap = 0;
    }
    return scratch;
  }
  if (n > inputCap) {
    if (inputPtr != 0) heap.free(inputPtr);
    inputPtr = heap.alloc(<usize>n);
    inputCap = n;
  }
  return inputPtr;
}

// Copies the current message (n bytes) into the input memory and returns a
// decoder over it.
function currentDecoder(n: i32): Decoder {
  const p = inputFor(n);
  if (n > 0) abi.read(p, n);
  let d = scratchDec;
  if (d == null) scratchDec = d = new Decoder(new Uint8Array(0));
  return d.resetPtr(p, n);
}

// The default of T (what decodeFrom returns from a failed decoder).
function defaultOf<T>(): T {
  if (isBoolean<T>() || isInteger<T>() || isFloat<T>()) return <T>0;
  let d = failed;
  if (d == null) {
    failed = d = new Decoder(new Uint8Array(0));
    d.fail();
  }
  return decodeFrom<T>(d);
}

// Decodes all of d as a T; sets status.
function decodeAll<T>(d: Decoder): T {
  const v = decodeFrom<T>(d);
  if (!d.error && d.pos != d.end) d.fail();
  status = d.error ? abi.DECODE_ERROR : 0;
  return v;
}

// The current message (n bytes, n >= 0) as a T; sets status. A scalar is
// read from its first bytes only: no scalar takes more than 9, so a longer
// message is a DECODE_ERROR whatever follows (its first value is returned,
// as decodeAll does).
// @ts-ignore: decorator
@inline function decodeCurrent<T>(n: i32): T {
  if (isBoolean<T>() || isInteger<T>() || isFloat<T>()) {
    const m = n < 16 ? n : 16;
    if (m > 0) abi.read(scratch, m);
    const v = readScalarAt<T>(scratch, m);
    status = rawLen != 0 && rawLen == n ? 0 : abi.DECODE_ERROR;
    return v;
  }
  if (isString<T>() && !isNullable<T>()) {
    const p = inputFor(n);
    if (n > 0) abi.read(p, n);
    const v = strAt(p, n);
    status = rawLen != 0 && rawLen == n ? 0 : abi.DECODE_ERROR;
    return changetype<T>(v);
  }
  return decodeAll<T>(currentDecoder(n));
}

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/** A message: its kind (MESSAGE, EXIT, DOWN, INIT), sender, and payload bytes. */
export class Message {
  constructor(
    public kind: i32,
    public sender: i32,
    public bytes: Uint8Array,
  ) {}

  get size(): i32 {
    return this.bytes.length;
  }
  get isMessage(): bool { return this.kind == abi.MESSAGE; }
  get isExit(): bool { return this.kind == abi.EXIT; }
  get isDown(): bool { return this.kind == abi.DOWN; }
  get isInit(): bool { return this.kind == abi.INIT; }

  /** The payload as a T (see the error convention at the top). */
  decode<T>(): T {
    return decodeAll<T>(new Decoder(this.bytes));
  }

  /** The payload as a dynamic Value (nil when malformed; lastStatus says). */
  value(): Value {
    return this.decode<Value>();
  }

  /** A Decoder over the payload. */
  decoder(): Decoder {
    return new Decoder(this.bytes);
  }

  /** The payload is the str `s`. */
  is(s: string): bool {
    const d = new Decoder(this.bytes);
    return d.isString(s);
  }

  /** EXIT and DOWN: the exit reason ("" for other kinds). */
  get reason(): string {
    if (this.kind != abi.EXIT && this.kind != abi.DOWN) return "";
    return this.value().get("reason").asString();
  }

  /** DOWN: the monitor reference (0 for other kinds). */
  get ref(): i32 {
    if (this.kind != abi.DOWN) return 0;
    return this.value().get("ref").asI32();
  }
}

/** The kind of the current message, or NOT_FOUND when there is none. */
export function kind(): i32 {
  return abi.kind();
}

/** The sender of the current message (0 when there is none). */
export function sender(): i32 {
  return abi.sender();
}

/** The size of the current message, or NOT_FOUND when there is none. */
export function size(): i32 {
  return abi.size();
}

/** Copies the start of the current message into buf; returns the number of bytes copied, or NOT_FOUND. */
export function readInto(buf: Uint8Array): i32 {
  return track(abi.read(buf.dataStart, buf.length));
}

/** The current message (copied), or null when there is none (lastStatus NOT_FOUND). */
export function current(): Message | null {
  const k = abi.kind();
  const n = abi.size();
  if (k < 0 || n < 0) {
    status = abi.NOT_FOUND;
    return null;
  }
  const bytes = new Uint8Array(n);
  if (n > 0) abi.read(bytes.dataStart, n);
  status = 0;
  return new Message(k, abi.sender(), bytes);
}

/**
 * The init message given to `spawn`, or null when there was none (lastStatus
 * NOT_FOUND). Call it before the first receive or call: those replace the
 * current message.
 */
export function init(): Message | null {
  if (abi.kind() != abi.INIT) {
    status = abi.NOT_FOUND;
    return null;
  }
  return current();
}

/** The init message decoded as a T; T's default when there is none (NOT_FOUND) or it is not a T (DECODE_ERROR). */
export function initValue<T>(): T {
  if (abi.kind() != abi.INIT) {
    status = abi.NOT_FOUND;
    return defaultOf<T>();
  }
  return decodeCurrent<T>(abi.size());
}

/** Waits for the next message (of any kind). Null on TIMEOUT (lastStatus). */
export function receiveMessage(timeout: i32 = -1): Message | null {
  const n = abi.receive(timeout);
  if (n < 0) {
    status = n;
    return null;
  }
  const bytes = new Uint8Array(n);
  if (n > 0) abi.read(bytes.dataStart, n);
  status = 0;
  return new Message(abi.kind(), abi.sender(), bytes);
}

/**
 * Waits for the next message and decodes it as a T. On TIMEOUT, or when the
 * payload is not a T, returns T's default; lastStatus() says which (TIMEOUT,
 * DECODE_ERROR). `kind()` and `sender()` describe the message received.
 */
// @ts-ignore: decorator
@inline export function receive<T>(timeout: i32 = -1): T {
  // Inlined so that the default timeout costs no trampoline (an optional
  // argument makes a call go through one); the work is in receiveValue.
  return receiveValue<T>(timeout);
}

function receiveValue<T>(timeout: i32): T {
  const n = abi.receive(timeout);
  if (n < 0) {
    status = n;
    return defaultOf<T>();
  }
  return decodeCurrent<T>(n);
}

/** Sends bytes to `to`. Returns 0 or a negative status. */
export function sendBytes(to: i32, bytes: Uint8Array, timeout: i32 = -1): i32 {
  return track(abi.send(to, bytes.dataStart, bytes.length, timeout));
}

/** Sends `value`, MessagePack-encoded (see encodeInto), to `to`. Returns 0 or a negative status. */
// @ts-ignore: decorator
@inline export function send<T>(to: i32, value: T, timeout: i32 = -1): i32 {
  return sendValue<T>(to, value, timeout); // inlined: see receive
}

function sendValue<T>(to: i32, value: T, timeout: i32): i32 {
  const n = encodeOut<T>(value);
  return track(abi.send(to, outPtr, n, timeout));
}

/** Sends bytes to the sender of the current message. Returns 0 or a negative status. */
export function replyBytes(bytes: Uint8Array): i32 {
  return track(abi.reply(bytes.dataStart, bytes.length));
}

/** Sends `value`, MessagePack-encoded, to the sender of the current message. Returns 0 or a negative status. */
export function reply<T>(value: T): i32 {
  const n = encodeOut<T>(value);
  return track(abi.reply(outPtr, n));
}

/** Request/reply with raw bytes: the answer, or null on a negative status (lastStatus). */
export function callBytes(to: i32, request: Uint8Array, timeout: i32 = -1): Message | null {
  const n = abi.call(to, request.dataStart, request.length, timeout);
  if (n < 0) {
    status = n;
    return null;
  }
  const bytes = new Uint8Array(n);
  if (n > 0) abi.read(bytes.dataStart, n);
  status = 0;
  return new Message(abi.kind(), abi.sender(), bytes);
}

/** Request/reply: the answer as a Message, or null on a negative status (lastStatus). */
export function callMessage<Req>(to: i32, request: Req, timeout: i32 = -1): Message | null {
  const len = encodeOut<Req>(request);
  const n = abi.call(to, outPtr, len, timeout);
  if (n < 0) {
    status = n;
    return null;
  }
  const bytes = new Uint8Array(n);
  if (n > 0) abi.read(bytes.dataStart, n);
  status = 0;
  return new Message(abi.kind(), abi.sender(), bytes);
}

/**
 * Request/reply: sends `request`, waits up to `timeout` for the answer and
 * decodes it as a Res. On a negative status, or an answer that is not a Res,
 * returns Res's default; lastStatus() says why.
 */
// @ts-ignore: decorator
@inline export function call<Req, Res>(to: i32, request: Req, timeout: i32 = -1): Res {
  return callValue<Req, Res>(to, request, timeout); // inlined: see receive
}

function callValue<Req, Res>(to: i32, request: Req, timeout: i32): Res {
  const len = encodeOut<Req>(request);
  const n = abi.call(to, outPtr, len, timeout);
  if (n < 0) {
    status = n;
    return defaultOf<Res>();
  }
  return decodeCurrent<Res>(n);
}

// ---------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------

/** This actor's pid. */
export function self(): i32 {
  return abi.self();
}

/**
 * Spawns an actor of the module defined under `module`, with `init` as its
 * init message (null: none), linked to this actor when `link`. `flags` adds
 * spawn flags: SERVICES grants the child this actor's services (see
 * `callService`; without it the child has none); LINK there is the same as
 * `link`. Returns the new pid or a negative status (NO_MODULE, SPAWN_FAILED,
 * BAD_ARGUMENT, ...).
 */
export function spawn(module: string, init: Uint8Array | null = null, link: bool = false, flags: i32 = 0): i32 {
  const name = utf8(module);
  if (link) flags |= abi.LINK;
  if (init == null) return track(abi.spawn(changetype<usize>(name), name.byteLength, 0, -1, flags));
  return track(abi.spawn(changetype<usize>(name), name.byteLength, init.dataStart, init.length, flags));
}

/** `spawn` with a typed init value, MessagePack-encoded (e.g. a Value map). */
export function spawnWith<T>(module: string, init: T, link: bool = false, flags: i32 = 0): i32 {
  const name = utf8(module);
  const n = encodeOut<T>(init);
  if (link) flags |= abi.LINK;
  return track(abi.spawn(changetype<usize>(name), name.byteLength, outPtr, n, flags));
}

/** Registers this actor under `name`. 0, TAKEN or BAD_ARGUMENT. */
export function register(name: string): i32 {
  const b = utf8(name);
  return track(abi.register(changetype<usize>(b), b.byteLength));
}

/** Drops this actor's name. 0 or NOT_FOUND. */
export function unregister(): i32 {
  return track(abi.unregister());
}

/** The pid registered under `name`, or NOT_FOUND. */
export function lookup(name: string): i32 {
  const b = utf8(name);
  return track(abi.lookup(changetype<usize>(b), b.byteLength));
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------
//
// A service is a set of host functions the host registered and granted to
// this actor (docs/guest-abi.md, "Services"). `lookup` gives its address
// (SERVICE_BASE + its index in this actor's grant list); a service not
// granted is NOT_FOUND. A request is the MessagePack array
// [method: str, request] (nil: no request); the answer, [status: int, body]:
// status 0 with the response as body, or a negative status (FAILED,
// INTERRUPTED, BAD_ARGUMENT, INVALID, TIMEOUT, FULL) with a str error message.
//
// Like call<Req,Res>, the per-call path keeps to static memory: a scalar or
// short string request with a short method is encoded into reqScratch() (the
// method once while it stays the same), and an answer of up to
// SCRATCH_BYTES is read into the scratch bytes; a scalar response is
// decoded without allocating. An error text is kept as bytes and decoded
// when `serviceError()` asks for it.

/** A method of up to this many UTF-16 units and a scalar request fit reqScratch() (1 + putStrRoom(81) + 9 = 255 bytes). */
const SCRATCH_METHOD_UNITS: i32 = (SCRATCH_BYTES - 13) / 3;
/** A method and a string request of up to this many units together fit reqScratch() (1 + 2 + 2 + 3 * 83 = 254 bytes). */
const SCRATCH_PAIR_UNITS: i32 = (SCRATCH_BYTES - 5) / 3;

// The body of the last answer split by readAnswer.
let bodyPtr: usize = 0;
let bodyLen: i32 = 0;

// The body of the last error answer, as it came (a str), in heap.alloc
// memory; errText is its text once serviceError() decoded it (null: not yet).
let errPtr: usize = 0;
let errCap: i32 = 0;
let errLen: i32 = 0;
let errText: string | null = null;
// The last service call got an error answer.
let hasError: bool = false;

// Static bytes of a service request, apart from the scratch bytes (which an
// answer overwrites): [method, request] with a scalar or a short string
// request. Its first reqPrefix bytes are the array header and the method,
// kept while the method is the same string (held in reqMethod, so that its
// address stays its own), so a loop calling one method encodes it once.
// A function rather than a constant, so that a guest calling no service
// does not get the bytes (a top-level memory.data is always laid out).
function reqScratch(): usize {
  return memory.data(SCRATCH_BYTES, 16);
}
let reqMethod: string | null = null;
let reqPrefix: i32 = 0;

// The size of the array header and method at reqScratch() (encoded when it is another method than the last).
// @ts-ignore: decorator
@inline function requestPrefix(method: string): i32 {
  if (changetype<usize>(method) != changetype<usize>(reqMethod)) {
    store<u8>(reqScratch(), 0x92);
    reqPrefix = 1 + putStr(reqScratch() + 1, method);
    reqMethod = method;
  }
  return reqPrefix;
}

// Encodes [method, request] for sending: returns the byte count, the bytes
// are at outPtr.
// @ts-ignore: decorator
@inline function encodeRequest<Req>(method: string, request: Req): i32 {
  const units = method.length;
  if (isBoolean<Req>() || isInteger<Req>() || isFloat<Req>()) {
    if (units <= SCRATCH_METHOD_UNITS) {
      const n = requestPrefix(method);
      outPtr = reqScratch();
      return n + putScalar<Req>(reqScratch() + <usize>n, request);
    }
  } else if (isString<Req>()) {
    if (!isNullable<Req>() || changetype<usize>(request) != 0) {
      const s = changetype<string>(request);
      if (units + s.length <= SCRATCH_PAIR_UNITS) {
        const n = requestPrefix(method);
        outPtr = reqScratch();
        return n + putStr(reqScratch() + <usize>n, s);
      }
    }
  }
  const e = encoder();
  e.arrayHeader(2).str(method);
  encodeInto<Req>(e, request);
  outPtr = e.ptr;
  return e.length;
}

// The size of the header of an array of 2 items at p (avail bytes there), or 0.
function pairHeaderAt(p: usize, avail: i32): i32 {
  if (avail < 1) return 0;
  const b = load<u8>(p);
  if (b == 0x92) return 1;
  if (b == 0xdc && avail >= 3 && load<u16>(p, 1) == bswap<u16>(2)) return 3;
  if (b == 0xdd && avail >= 5 && load<u32>(p, 1) == bswap<u32>(2)) return 5;
  return 0;
}

// Keeps the body of an error answer (m > 0 bytes at p) for serviceError().
function keepError(p: usize, m: i32): void {
  hasError = true;
  // The same text as the last error (a service failing the same way again): keep it.
  if (m == errLen && memory.compare(p, errPtr, <usize>m) == 0) return;
  if (m > errCap || errCap > KEEP_INPUT_BYTES) {
    if (errPtr != 0) heap.free(errPtr);
    errPtr = heap.alloc(<usize>m);
    errCap = m;
  }
  memory.copy(errPtr, p, <usize>m);
  errLen = m;
  errText = null;
}

// Reads the answer of a service call (the current message, n >= 0 bytes)
// and splits it: the body goes to bodyPtr/bodyLen. Returns and records in
// status: 0, the service's negative status (its error kept for
// serviceError()), or DECODE_ERROR when the answer is not [status: int, body].
function readAnswer(n: i32): i32 {
  const p = inputFor(n);
  if (n > 0) abi.read(p, n);
  hasError = false;
  const h = pairHeaderAt(p, n);
  let s = abi.DECODE_ERROR;
  if (h != 0) {
    const v = readScalarAt<i32>(p + <usize>h, n - h);
    const at = h + rawLen;
    if (rawLen != 0 && v <= 0 && at < n) {
      bodyPtr = p + <usize>at;
      bodyLen = n - at;
      if (v < 0) keepError(bodyPtr, bodyLen);
      s = v;
    }
  }
  status = s;
  return s;
}

// The body of the answer readAnswer split (status 0) as a Res; sets status.
// Res's default when it is not one whole Res (DECODE_ERROR).
// @ts-ignore: decorator
@inline function decodeBody<Res>(): Res {
  const p = bodyPtr;
  const m = bodyLen;
  if (isBoolean<Res>() || isInteger<Res>() || isFloat<Res>()) {
    const v = readScalarAt<Res>(p, m);
    if (rawLen == m) return v;
    status = abi.DECODE_ERROR;
    return <Res>0;
  }
  if (isString<Res>() && !isNullable<Res>()) {
    const v = strAt(p, m);
    if (rawLen == m) return changetype<Res>(v);
    status = abi.DECODE_ERROR;
    return changetype<Res>("");
  }
  let d = scratchDec;
  if (d == null) scratchDec = d = new Decoder(new Uint8Array(0));
  const v = decodeAll<Res>(d.resetPtr(p, m));
  if (status == 0) return v;
  return defaultOf<Res>();
}

/**
 * The address of the service granted to this actor under `name` (for
 * `callService`), or NOT_FOUND (no such service, or it was not granted to
 * this actor), or BAD_ARGUMENT. This is `lookup(name)`: a name registered by
 * an actor gives its pid, which `callService` can call as well when the
 * actor answers in the services' format.
 */
export function service(name: string): i32 {
  return lookup(name);
}

/**
 * Calls `method` of the service at `svc` with `request` (MessagePack-encoded
 * as encodeInto does; null of a nullable type: none) and decodes the
 * response as a Res. On any failure returns Res's default (see the error
 * convention at the top); lastStatus() says why: the call's own status
 * (NOT_FOUND, TIMEOUT, ...), the status the service answered (FAILED,
 * INTERRUPTED, BAD_ARGUMENT, INVALID, TIMEOUT, FULL; `serviceError()` has
 * its text), or DECODE_ERROR (the answer or the response is not what was
 * asked for). 0 on success.
 */
// @ts-ignore: decorator
@inline export function callService<Req, Res>(svc: i32, method: string, request: Req, timeout: i32 = -1): Res {
  return callServiceValue<Req, Res>(svc, method, request, timeout); // inlined: see receive
}

function callServiceValue<Req, Res>(svc: i32, method: string, request: Req, timeout: i32): Res {
  const len = encodeRequest<Req>(method, request);
  const n = abi.call(svc, outPtr, len, timeout);
  if (n < 0) {
    status = n;
    hasError = false;
    return defaultOf<Res>();
  }
  if (readAnswer(n) != 0) return defaultOf<Res>();
  return decodeBody<Res>();
}

/**
 * `callService` with raw MessagePack: `request` is one encoded value (null
 * or empty: none, sent as nil). Returns a copy of the response's encoded
 * bytes, or null on any failure (lastStatus() and serviceError() as for
 * `callService`).
 */
export function callServiceBytes(svc: i32, method: string, request: Uint8Array | null, timeout: i32 = -1): Uint8Array | null {
  const e = encoder();
  e.arrayHeader(2).str(method);
  if (request == null || request.length == 0) e.nil();
  else e.raw(request);
  const n = abi.call(svc, e.ptr, e.length, timeout);
  if (n < 0) {
    status = n;
    hasError = false;
    return null;
  }
  if (readAnswer(n) != 0) return null;
  let d = scratchDec;
  if (d == null) scratchDec = d = new Decoder(new Uint8Array(0));
  d.resetPtr(bodyPtr, bodyLen).skip();
  if (d.error || d.pos != d.end) {
    status = abi.DECODE_ERROR;
    return null;
  }
  const out = new Uint8Array(bodyLen);
  memory.copy(out.dataStart, bodyPtr, <usize>bodyLen);
  return out;
}

/**
 * Sends `method` with `request` to the service at `svc` without waiting
 * for an answer (the service runs it and drops its result; its failures
 * are not reported). Returns 0 or a negative status (NOT_FOUND, FULL, ...).
 */
// @ts-ignore: decorator
@inline export function sendService<Req>(svc: i32, method: string, request: Req, timeout: i32 = -1): i32 {
  return sendServiceValue<Req>(svc, method, request, timeout); // inlined: see receive
}

function sendServiceValue<Req>(svc: i32, method: string, request: Req, timeout: i32): i32 {
  const len = encodeRequest<Req>(method, request);
  return track(abi.send(svc, outPtr, len, timeout));
}

/**
 * The error message of the last service call (`callService`,
 * `callServiceBytes`) when the service answered with a negative status;
 * "" otherwise (a success, or a failure of the call itself).
 */
export function serviceError(): string {
  if (!hasError) return "";
  const t = errText;
  if (t != null) return t;
  let s = strAt(errPtr, errLen);
  if (rawLen != errLen) s = "";
  errText = s;
  return s;
}

// ---------------------------------------------------------------------------
// Failure
// ---------------------------------------------------------------------------

/** Links this actor and `pid`. 0 or NOT_FOUND. */
export function link(pid: i32): i32 {
  return track(abi.link(pid));
}

/** Removes the link with `pid`. 0. */
export function unlink(pid: i32): i32 {
  return track(abi.unlink(pid));
}

/** Monitors `pid`; returns the reference (positive). */
export function monitor(pid: i32): i32 {
  return track(abi.monitor(pid));
}

/** Stops a monitor. 0 or NOT_FOUND. */
export function demonitor(ref: i32): i32 {
  return track(abi.demonitor(ref));
}

/** Exits this actor with `reason`. Does not return. */
export function exit(reason: string = "normal"): void {
  const b = utf8(reason);
  abi.exit(abi.self(), changetype<usize>(b), b.byteLength);
  unreachable(); // the host does not return from an exit of the caller
}

/**
 * Sends `pid` an exit signal with `reason` ("kill": untrappable). 0 or
 * NOT_FOUND. With this actor's own pid it is `exit(reason)` and does not return.
 */
export function exitActor(pid: i32, reason: string): i32 {
  const b = utf8(reason);
  return track(abi.exit(pid, changetype<usize>(b), b.byteLength));
}

/** Sets whether exit signals arrive as EXIT messages; returns the previous setting. */
export function trapExit(on: bool): bool {
  return abi.trap_exit(on ? 1 : 0) != 0;
}

// ---------------------------------------------------------------------------
// Time, randomness, logs
// ---------------------------------------------------------------------------

/** Waits `ms` milliseconds of the hive's clock. */
export function sleep(ms: i32): void {
  abi.sleep(ms);
}

/** Milliseconds since the Unix epoch on the hive's clock. */
export function now(): i64 {
  return abi.now();
}

/** `n` pseudo-random bytes from this actor's generator. */
export function random(n: i32): Uint8Array {
  const b = new Uint8Array(n);
  if (n > 0) abi.random(b.dataStart, n);
  return b;
}

/** Fills `buf` with pseudo-random bytes. */
export function randomFill(buf: Uint8Array): void {
  if (buf.length > 0) abi.random(buf.dataStart, buf.length);
}

/** A log line at a pino level (LEVEL_TRACE ... LEVEL_FATAL). */
export function log(level: i32, text: string): void {
  const b = utf8(text);
  abi.log(level, changetype<usize>(b), b.byteLength);
}

export function logTrace(text: string): void { log(abi.LEVEL_TRACE, text); }
export function logDebug(text: string): void { log(abi.LEVEL_DEBUG, text); }
export function logInfo(text: string): void { log(abi.LEVEL_INFO, text); }
export function logWarn(text: string): void { log(abi.LEVEL_WARN, text); }
export function logError(text: string): void { log(abi.LEVEL_ERROR, text); }
export function logFatal(text: string): void { log(abi.LEVEL_FATAL, text); }

/** The host's ABI version (1). */
export function abiVersion(): i32 {
  return abi.abi_version();
}
