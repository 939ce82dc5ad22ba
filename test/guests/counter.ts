// The WasmBox counter: "up" and "down" change the count, each answered with
// "value=<count>"; anything else is ignored.
import { receive, reply } from "../../guest/assemblyscript/assembly";

export function main(): void {
  let count = 0;
  while (true) {
    const msg = receive<string>();
    if (msg == "up") count++;
    else if (msg == "down") count--;
    else continue;
    reply<string>("value=" + count.toString());
  }
}
