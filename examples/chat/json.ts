// JSON text for the chat's actors: they build the frames the server writes
// to the WebSockets as they are (the server parses only what clients send).

/** `s` as a JSON string literal, quotes included. */
export function quote(s: string): string {
  let clean = true;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c == 0x22 || c == 0x5c) {
      clean = false;
      break;
    }
  }
  if (clean) return '"' + s + '"';
  const parts = new Array<string>();
  let start = 0;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (i > start) parts.push(s.substring(start, i));
    if (c == 0x22) parts.push('\\"');
    else if (c == 0x5c) parts.push("\\\\");
    else if (c == 0x0a) parts.push("\\n");
    else if (c == 0x0d) parts.push("\\r");
    else if (c == 0x09) parts.push("\\t");
    else parts.push("\\u00" + (c < 0x10 ? "0" : "1") + "0123456789abcdef".charAt(c & 15));
    start = i + 1;
  }
  if (start < s.length) parts.push(s.substring(start));
  return '"' + parts.join("") + '"';
}

/** `,"ref":"..."` when the request had a ref, else nothing. */
export function refField(ref: string): string {
  return ref.length == 0 ? "" : ',"ref":' + quote(ref);
}

/** An error frame for one client. */
export function errorFrame(code: string, message: string, room: string, ref: string): string {
  let s = '{"type":"error","code":' + quote(code) + ',"message":' + quote(message);
  if (room.length > 0) s += ',"room":' + quote(room);
  return s + refField(ref) + "}";
}

/** A JSON array of strings. */
export function stringArray(items: Array<string>): string {
  let s = "[";
  for (let i = 0; i < items.length; i++) {
    if (i > 0) s += ",";
    s += quote(items[i]);
  }
  return s + "]";
}

/** UTF-8 bytes of a frame (what the actors send the server). */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}
