/** For the built-in services' tests: what a handler's promise comes to, as its caller would see it. */
import { ServiceError } from '../service.js';

/** 'ok' when it resolves; the status of the ServiceError it rejects with (any other error is rethrown). */
export async function status(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof ServiceError) return e.status;
    throw e;
  }
}
