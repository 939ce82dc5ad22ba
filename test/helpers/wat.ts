/**
 * Test helper: WebAssembly text to binary, with the `wabt` package from npm
 * (no system compiler needed).
 */
import wabtInit from 'wabt';

const wabt = await wabtInit();

/** Assembles a WAT module (all 2.0 features on, and tail calls). */
export function wat(text: string): Uint8Array {
  const m = wabt.parseWat('test.wat', text, { multi_value: true, bulk_memory: true, reference_types: true, sign_extension: true, sat_float_to_int: true, tail_call: true });
  try {
    m.resolveNames();
    m.validate();
    return new Uint8Array(m.toBinary({ write_debug_names: true }).buffer);
  } finally {
    m.destroy();
  }
}
