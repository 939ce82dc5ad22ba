// Svc: calls a service in a loop (the tests of services, and the benchmark
// of service calls per second).
//
// Init {service: str, method: str, n: int, report: pid}. Looks the service
// up; when that fails, sends {lookup: <status>} to report and returns.
// Otherwise calls `method` n times with the request i (the loop index, an
// int) through callService<i32, i64>, then sends to report
// {lookup: 0, ok: <calls with status 0>, sum: <sum of their responses>,
//  last: <lastStatus() of the last call>, error: <serviceError() of the last
//  failed call, or "">} and returns.
//
// The loop allocates nothing itself: a call goes through the SDK's scratch
// memory, and serviceError() decodes an error text only when it differs
// from the one before.
import { Encoder, init, service, callService, lastStatus, serviceError, sendBytes, exit } from "../../guest/assemblyscript/assembly";

export function main(): void {
  const msg = init();
  if (msg == null) {
    exit("svc: no init message");
    return;
  }
  const args = msg.value();
  const name = args.get("service").asString();
  const method = args.get("method").asString();
  const n = args.get("n").asI32();
  const report = args.get("report").asPid();

  const svc = service(name);
  if (svc < 0) {
    sendBytes(report, new Encoder().mapHeader(1).str("lookup").int(svc).finish());
    return;
  }

  let ok: i32 = 0;
  let sum: i64 = 0;
  let last: i32 = 0;
  let error = "";
  for (let i = 0; i < n; i++) {
    const v = callService<i32, i64>(svc, method, i);
    last = lastStatus();
    if (last == 0) {
      ok++;
      sum += v;
    } else {
      error = serviceError();
    }
  }

  const e = new Encoder();
  e.mapHeader(5);
  e.str("lookup").int(0);
  e.str("ok").int(ok);
  e.str("sum").int(sum);
  e.str("last").int(last);
  e.str("error").str(error);
  sendBytes(report, e.finish());
}
