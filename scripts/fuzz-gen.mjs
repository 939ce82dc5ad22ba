/**
 * A random generator of valid WebAssembly 2.0 modules written as stack code,
 * for scripts/fuzz-v8.mjs (`--gen stack`). binaryen's `-ttf` writes trees
 * (every value consumed right where it is made); this one writes what the
 * lowering's virtual stack finds hard: values left on the stack across
 * blocks, drops, tees and sets of locals that are still pending on the stack,
 * constants and local.gets in every operand position, br/br_if/br_table
 * with values, multi-value blocks with parameters, dead code after branches.
 *
 * Modules import the same `fuzzing-support` log functions as binaryen's (and
 * `call-export`, as newer binaryen versions do, to call back into the
 * instance from the host), and
 * bound their work the same way: a `hangLimit` global is decremented at every
 * function entry and loop iteration and traps at zero; the exported
 * `hangLimitInitializer` resets it (the harness calls it before each export).
 * Float arithmetic results are "de-NaN-ed" (a NaN becomes 0), so NaN bits,
 * which the spec lets engines choose, never steer the run.
 */

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c;
const FR = 0x70; // funcref
const NUM = [I32, I64, F32, F64];

/** A seeded random number generator (mulberry32): seed -> () => [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- encoding ----------------------------------------------------------------

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(v) {
  let n = BigInt(v);
  const out = [];
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function vec(items) {
  return [...uleb(items.length), ...items.flat()];
}

function section(id, body) {
  return [id, ...uleb(body.length), ...body];
}

function str(s) {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
}

// ---- instruction tables -------------------------------------------------------

/** [opcode bytes, pops, push, arithmetic float result (gets de-NaN-ed)] */
const OPS = [];
function def(bytes, pops, push, arith = false) {
  OPS.push({ bytes: Array.isArray(bytes) ? bytes : [bytes], pops, push, arith });
}
def(0x45, [I32], I32);
def(0xd1, [FR], I32); // ref.is_null
for (let o = 0x46; o <= 0x4f; o++) def(o, [I32, I32], I32);
def(0x50, [I64], I32);
for (let o = 0x51; o <= 0x5a; o++) def(o, [I64, I64], I32);
for (let o = 0x5b; o <= 0x60; o++) def(o, [F32, F32], I32);
for (let o = 0x61; o <= 0x66; o++) def(o, [F64, F64], I32);
for (const o of [0x67, 0x68, 0x69]) def(o, [I32], I32);
for (let o = 0x6a; o <= 0x78; o++) def(o, [I32, I32], I32);
for (const o of [0x79, 0x7a, 0x7b]) def(o, [I64], I64);
for (let o = 0x7c; o <= 0x8a; o++) def(o, [I64, I64], I64);
def(0x8b, [F32], F32);
def(0x8c, [F32], F32);
for (let o = 0x8d; o <= 0x91; o++) def(o, [F32], F32, true);
for (let o = 0x92; o <= 0x97; o++) def(o, [F32, F32], F32, true);
def(0x98, [F32, F32], F32);
def(0x99, [F64], F64);
def(0x9a, [F64], F64);
for (let o = 0x9b; o <= 0x9f; o++) def(o, [F64], F64, true);
for (let o = 0xa0; o <= 0xa5; o++) def(o, [F64, F64], F64, true);
def(0xa6, [F64, F64], F64);
def(0xa7, [I64], I32);
def(0xa8, [F32], I32); def(0xa9, [F32], I32); def(0xaa, [F64], I32); def(0xab, [F64], I32);
def(0xac, [I32], I64); def(0xad, [I32], I64);
def(0xae, [F32], I64); def(0xaf, [F32], I64); def(0xb0, [F64], I64); def(0xb1, [F64], I64);
def(0xb2, [I32], F32); def(0xb3, [I32], F32); def(0xb4, [I64], F32); def(0xb5, [I64], F32);
def(0xb6, [F64], F32, true);
def(0xb7, [I32], F64); def(0xb8, [I32], F64); def(0xb9, [I64], F64); def(0xba, [I64], F64);
def(0xbb, [F32], F64, true);
def(0xbc, [F32], I32); def(0xbd, [F64], I64); def(0xbe, [I32], F32); def(0xbf, [I64], F64);
def(0xc0, [I32], I32); def(0xc1, [I32], I32);
def(0xc2, [I64], I64); def(0xc3, [I64], I64); def(0xc4, [I64], I64);
def([0xfc, 0], [F32], I32); def([0xfc, 1], [F32], I32); def([0xfc, 2], [F64], I32); def([0xfc, 3], [F64], I32);
def([0xfc, 4], [F32], I64); def([0xfc, 5], [F32], I64); def([0xfc, 6], [F64], I64); def([0xfc, 7], [F64], I64);

/** Opcodes that trap on some inputs (division, trapping float-to-int): picked less often, so runs get further. */
const TRAPPY = new Set([0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82, 0xa8, 0xa9, 0xaa, 0xab, 0xae, 0xaf, 0xb0, 0xb1]);

/** loads: [opcode, result, natural alignment log2] */
const LOADS = [[0x28, I32, 2], [0x29, I64, 3], [0x2a, F32, 2], [0x2b, F64, 3], [0x2c, I32, 0], [0x2d, I32, 0], [0x2e, I32, 1],
  [0x2f, I32, 1], [0x30, I64, 0], [0x31, I64, 0], [0x32, I64, 1], [0x33, I64, 1], [0x34, I64, 2], [0x35, I64, 2]];
const STORES = [[0x36, I32, 2], [0x37, I64, 3], [0x38, F32, 2], [0x39, F64, 3], [0x3a, I32, 0], [0x3b, I32, 1], [0x3c, I64, 0],
  [0x3d, I64, 1], [0x3e, I64, 2]];

const I32_CONSTS = [0, 1, -1, 2, 3, 7, 8, 16, 31, 32, 33, 63, 64, 255, 256, 0xffff, 0x7fffffff, -0x80000000, 65536, -2];
const I64_CONSTS = [0n, 1n, -1n, 2n, 31n, 32n, 63n, 64n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, -0x8000000000000000n, 1n << 53n];
const F32_BITS = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x4f000000, 0x5f000000, 0x3fc00000, 0x00000001, 0x7f7fffff, 0x40490fdb];
const F64_BITS = [0n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n,
  0x41e0000000000000n, 0x43e0000000000000n, 0x3ff8000000000000n, 0x0000000000000001n, 0x400921fb54442d18n, 0xc1e0000000200000n];

// ---- the generator -------------------------------------------------------------

/**
 * Generates one module from a seed. Returns its bytes. With `opts.tailCall`,
 * functions also make tail calls (return_call, return_call_indirect: the
 * tail-call proposal, beyond WebAssembly 2.0).
 */
export function generateStackModule(seed, opts = {}) {
  const rnd = prng(seed);
  const int = (n) => Math.floor(rnd() * n);
  const pick = (a) => a[int(a.length)];
  const chance = (p) => rnd() < p;
  const randType = () => (chance(0.08) ? FR : pick(NUM));
  const randTypes = (max) => Array.from({ length: int(max + 1) }, randType);

  const types = [];
  const typeKey = new Map();
  const typeIdx = (params, results) => {
    const k = `${params.join(',')}:${results.join(',')}`;
    let i = typeKey.get(k);
    if (i === undefined) {
      i = types.length;
      types.push({ params, results });
      typeKey.set(k, i);
    }
    return i;
  };

  // Imports: the log functions, as binaryen's fuzzer has them.
  const LOG = { [I32]: 0, [I64]: 1, [F32]: 2, [F64]: 3 };
  // `call-export` (i) calls the module's i-th exported function (mod their number) from the host: a call back into the instance.
  const imports = [['log-i32', I32], ['log-i64', I64], ['log-f32', F32], ['log-f64', F64], ['call-export', I32]].map(([n, t]) => ({ name: n, type: typeIdx([t], []) }));
  const CALL_EXPORT = 4;
  const nImp = imports.length;

  // Globals: 0 is the hang limit; then a few of each type.
  const HANG_LIMIT = 0;
  const globals = [{ type: I32, init: 100 }];
  const ng = 2 + int(5);
  for (let i = 0; i < ng; i++) globals.push({ type: randType(), init: int(100) - 50 });

  // Functions: signatures first, so bodies can call any of them.
  const nf = 2 + int(6);
  const funcs = [];
  for (let i = 0; i < nf; i++) {
    const params = randTypes(3);
    const results = randTypes(chance(0.3) ? 3 : 1);
    const locals = randTypes(4);
    funcs.push({ params, results, locals, type: typeIdx(params, results) });
  }
  const hangInit = nImp + nf; // the hangLimitInitializer function's index

  function body(fi) {
    const f = funcs[fi];
    // scratch locals for de-NaN-ing, one per float type, after the declared ones
    const localTypes = [...f.params, ...f.locals, F32, F64];
    const scratch = { [F32]: localTypes.length - 2, [F64]: localTypes.length - 1 };
    const userLocals = f.params.length + f.locals.length;
    const code = [];
    const st = []; // type stack
    const ctl = []; // { kind, params, results, height, dead }
    let budget = 30 + int(150);
    const emit = (...b) => code.push(...b);
    const localsOf = (t) => {
      const r = [];
      for (let i = 0; i < userLocals; i++) if (localTypes[i] === t) r.push(i);
      return r;
    };
    const globalsOf = (t) => globals.map((g, i) => (g.type === t && i !== HANG_LIMIT ? i : -1)).filter((i) => i >= 0);
    const top = () => ctl[ctl.length - 1];
    const avail = () => st.length - top().height; // values the current block may pop
    const labelTypes = (c) => (c.kind === 'loop' ? c.params : c.results);

    const hangCheck = () => {
      emit(0x23, ...uleb(HANG_LIMIT), 0x45, 0x04, 0x40, 0x00, 0x0b);
      emit(0x23, ...uleb(HANG_LIMIT), 0x41, ...sleb(1), 0x6b, 0x24, ...uleb(HANG_LIMIT));
    };

    const constOf = (t) => {
      if (t === FR) {
        if (chance(0.4)) emit(0xd0, 0x70);
        else emit(0xd2, ...uleb(nImp + int(nf)));
      } else if (t === I32) emit(0x41, ...sleb(chance(0.7) ? pick(I32_CONSTS) : (int(2 ** 32) | 0)));
      else if (t === I64) emit(0x42, ...sleb(chance(0.7) ? pick(I64_CONSTS) : BigInt.asIntN(64, BigInt(int(2 ** 32)) << BigInt(int(33)) | BigInt(int(2 ** 32)))));
      else if (t === F32) {
        const b = chance(0.7) ? pick(F32_BITS) : int(2 ** 32);
        emit(0x43, b & 0xff, (b >>> 8) & 0xff, (b >>> 16) & 0xff, (b >>> 24) & 0xff);
      } else {
        let b = chance(0.7) ? pick(F64_BITS) : (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32));
        for (let i = 0; i < 8; i++, b >>= 8n) emit(Number(b & 0xffn));
        code.splice(code.length - 8, 0, 0x44);
      }
    };

    const denan = (t) => {
      if (t !== F32 && t !== F64) return;
      const s = scratch[t];
      emit(0x22, ...uleb(s)); // tee
      if (t === F32) emit(0x43, 0, 0, 0, 0); else emit(0x44, 0, 0, 0, 0, 0, 0, 0, 0);
      emit(0x20, ...uleb(s), 0x20, ...uleb(s), t === F32 ? 0x5b : 0x61, 0x1b);
    };

    const memarg = (nat) => {
      emit(...uleb(int(nat + 1)), ...uleb(chance(0.6) ? 0 : chance(0.95) ? pick([1, 2, 3, 4, 8, 100, 1000]) : pick([65530, 70000])));
    };

    /** Pushes one value of type t (an expression tree), with its type on st. */
    const produce = (t, depth = 0) => {
      budget--;
      if (t === FR) {
        produceRef(depth);
        return;
      }
      const r = rnd();
      if (depth >= 3 || r < 0.35) {
        const ls = localsOf(t);
        const gs = globalsOf(t);
        const q = rnd();
        if (q < 0.45 && ls.length > 0) emit(0x20, ...uleb(pick(ls)));
        else if (q < 0.55 && gs.length > 0) emit(0x23, ...uleb(pick(gs)));
        else constOf(t);
        st.push(t);
        return;
      }
      if (r < 0.7) {
        const cands = OPS.filter((o) => o.push === t);
        let o = pick(cands);
        if (TRAPPY.has(o.bytes[0]) && chance(0.8)) o = pick(cands);
        for (const p of o.pops) produce(p, depth + 1);
        emit(...o.bytes);
        st.length -= o.pops.length;
        st.push(t);
        if (o.arith) denan(t);
        return;
      }
      if (r < 0.78) {
        const [op, , nat] = pick(LOADS.filter((l) => l[1] === t));
        address(depth + 1);
        emit(op);
        memarg(nat);
        st.pop();
        st.push(t);
        return;
      }
      if (r < 0.84) {
        // a block computing the value, with its own stack code
        emit(0x02, t);
        blockBody('block', [], [t]);
        return;
      }
      if (r < 0.9) {
        const ls = localsOf(t);
        if (ls.length > 0) {
          produce(t, depth + 1);
          emit(0x22, ...uleb(pick(ls)));
          return;
        }
      }
      if (r < 0.95) {
        produce(t, depth + 1);
        produce(t, depth + 1);
        produce(I32, depth + 1);
        if (chance(0.5)) emit(0x1b);
        else emit(0x1c, 1, t);
        st.length -= 3;
        st.push(t);
        return;
      }
      // a call of a function with one result of type t
      const cs = funcs.map((g, i) => (g.results.length === 1 && g.results[0] === t && (i > fi || chance(0.1)) ? i : -1)).filter((i) => i >= 0);
      if (cs.length > 0 && budget > 0) {
        const g = pick(cs);
        for (const p of funcs[g].params) produce(p, depth + 1);
        emit(0x10, ...uleb(nImp + g));
        st.length -= funcs[g].params.length;
        st.push(t);
        return;
      }
      constOf(t);
      st.push(t);
    };

    /** Pushes a funcref: null, ref.func, a local or global, table.get, a typed select or a block. */
    const produceRef = (depth) => {
      const r = rnd();
      const ls = localsOf(FR);
      const gs = globalsOf(FR);
      if (depth >= 3 || r < 0.4) constOf(FR);
      else if (r < 0.5 && ls.length > 0) emit(0x20, ...uleb(pick(ls)));
      else if (r < 0.55 && gs.length > 0) emit(0x23, ...uleb(pick(gs)));
      else if (r < 0.75) {
        const tb = int(2);
        produce(I32, depth + 1);
        emit(0x41, tb === 0 ? 7 : 3, 0x71, 0x25, tb); // (i32.and idx 7|3) table.get
        st.pop();
      } else if (r < 0.85) {
        produce(FR, depth + 1);
        produce(FR, depth + 1);
        produce(I32, depth + 1);
        emit(0x1c, 1, FR);
        st.length -= 3;
      } else if (r < 0.92 && ls.length > 0) {
        produce(FR, depth + 1);
        emit(0x22, ...uleb(pick(ls)));
        st.pop();
      } else {
        emit(0x02, FR);
        blockBody('block', [], [FR]);
        st.pop();
      }
      st.push(FR);
    };

    /** A branch condition: often a leaf that is 0, so code after branches runs too. */
    const cond = () => {
      const q = rnd();
      const ls = localsOf(I32);
      if (q < 0.35) emit(0x41, 0);
      else if (q < 0.45) emit(0x41, 1);
      else if (q < 0.7 && ls.length > 0) emit(0x20, ...uleb(pick(ls)));
      else {
        produce(I32, 1);
        return;
      }
      st.push(I32);
    };

    const address = (depth) => {
      if (chance(0.85)) {
        produce(I32, depth);
        emit(0x41, ...sleb(pick([0xfff, 0x7ff8, 0xff, 0x3f])), 0x71); // and
      } else produce(I32, depth);
    };

    /** Makes the current block's stack end in `want` (keeping what already matches, bottom up). */
    const fixup = (want) => {
      const c = top();
      const have = st.slice(c.height);
      let k = 0;
      while (k < have.length && k < want.length && have[k] === want[k]) k++;
      if (chance(0.3)) k = Math.min(k, int(k + 1));
      for (let i = have.length - 1; i >= k; i--) {
        const t = st[st.length - 1];
        const ls = localsOf(t);
        const q = rnd();
        if (q < 0.3 && ls.length > 0) emit(0x21, ...uleb(pick(ls)));
        else if (q < 0.4 && globalsOf(t).length > 0) emit(0x24, ...uleb(pick(globalsOf(t))));
        else if (q < 0.5 && t !== FR) emit(0x10, ...uleb(LOG[t]));
        else emit(0x1a);
        st.pop();
      }
      for (let i = k; i < want.length; i++) produce(want[i]);
    };

    /** Pushes `want` on top (reusing what is there when it matches). */
    const ensureTop = (want) => {
      const n = want.length;
      if (n === 0) return;
      if (avail() >= n && want.every((t, i) => st[st.length - n + i] === t) && chance(0.7)) return;
      for (const t of want) produce(t);
    };

    const blockType = (params, results) => {
      if (params.length === 0 && results.length === 0) return [0x40];
      if (params.length === 0 && results.length === 1) return [results[0]];
      return sleb(typeIdx(params, results));
    };

    /** After `block`/`loop`/`if` (and its block type) was emitted: the body, up to and including `end`. */
    function blockBody(kind, params, results) {
      const c = { kind, params, results, height: st.length - params.length, dead: false };
      ctl.push(c);
      if (kind === 'loop' || kind === 'func') hangCheck();
      seq();
      if (kind === 'if' && (chance(0.6) || params.join() !== results.join())) {
        if (!c.dead) fixup(results);
        emit(0x05);
        st.length = c.height;
        st.push(...params);
        c.dead = false;
        c.kind = 'else';
        seq();
      }
      if (!c.dead) fixup(results);
      emit(0x0b);
      ctl.pop();
      st.length = c.height;
      st.push(...results);
    }

    /** Random instructions in the current block until the budget or chance ends it. */
    function seq() {
      const c = top();
      while (budget > 0 && !c.dead && !chance(0.08)) {
        budget--;
        step(c);
      }
    }

    /** Reference, table and segment instructions. */
    function refStep(n, t) {
      const q = rnd();
      const small = () => emit(0x41, ...sleb(int(10)));
      if (q < 0.15) {
        if (!(n > 0 && t === FR)) produce(FR, 1);
        emit(0xd1); // ref.is_null
        st.pop();
        st.push(I32);
      } else if (q < 0.3) {
        const tb = int(2);
        small();
        produce(FR, 1);
        emit(0x26, tb); // table.set
        st.pop();
      } else if (q < 0.4) {
        emit(0xfc, 16, int(2)); // table.size
        st.push(I32);
      } else if (q < 0.5) {
        produce(FR, 1);
        emit(0x41, ...sleb(int(3)), 0xfc, 15, int(2)); // table.grow
        st.pop();
        st.push(I32);
      } else if (q < 0.6) {
        small();
        produce(FR, 1);
        small();
        emit(0xfc, 17, int(2)); // table.fill
        st.pop();
      } else if (q < 0.7) {
        small(); small(); small();
        emit(0xfc, 14, int(2), int(2)); // table.copy
      } else if (q < 0.78) {
        small(); small(); small();
        emit(0xfc, 12, 1, int(2)); // table.init of the passive segment
      } else if (q < 0.8) {
        emit(0xfc, 13, 1); // elem.drop
      } else if (q < 0.92) {
        emit(0x41, ...sleb(int(60000)), 0x41, ...sleb(int(20)), 0x41, ...sleb(int(20)), 0xfc, 8, 1, 0x00); // memory.init
      } else if (q < 0.94) {
        emit(0xfc, 9, 1); // data.drop
      } else {
        // call_indirect through the second table
        const g = int(nf);
        ensureTop(funcs[g].params);
        emit(0x41, ...sleb(int(4)), 0x11, ...uleb(funcs[g].type), 0x01);
        st.length -= funcs[g].params.length;
        st.push(...funcs[g].results);
      }
    }

    function step(c) {
      const r = rnd();
      const n = avail();
      const t = n > 0 ? st[st.length - 1] : -1;
      if (r < 0.14) {
        produce(randType(), 2);
      } else if (r < 0.2 && chance(0.5)) {
        // an expression statement: computed, then dropped (what binaryen writes as (drop ...))
        produce(chance(0.6) ? I32 : randType(), 1);
        emit(0x1a);
        st.pop();
      } else if (r < 0.2) {
        // push a leaf: a local or a constant, left pending on the stack
        const ty = randType();
        const ls = localsOf(ty);
        if (ls.length > 0 && chance(0.6)) emit(0x20, ...uleb(pick(ls)));
        else constOf(ty);
        st.push(ty);
      } else if (r < 0.36 && n > 0) {
        // an operation on what is on top of the stack
        const cands = OPS.filter((o) => o.pops.length <= n && o.pops.every((p, i) => st[st.length - o.pops.length + i] === p));
        if (cands.length === 0) return;
        let o = pick(cands);
        if (TRAPPY.has(o.bytes[0]) && chance(0.8)) o = pick(cands);
        emit(...o.bytes);
        st.length -= o.pops.length;
        st.push(o.push);
        if (o.arith) denan(o.push);
      } else if (r < 0.46 && n > 0) {
        const ls = localsOf(t);
        const q = rnd();
        if (q < 0.4 && ls.length > 0) {
          emit(0x21, ...uleb(pick(ls)));
          st.pop();
        } else if (q < 0.7 && ls.length > 0) emit(0x22, ...uleb(pick(ls)));
        else if (q < 0.8 && globalsOf(t).length > 0) {
          emit(0x24, ...uleb(pick(globalsOf(t))));
          st.pop();
        } else if (q < 0.9 && t !== FR) {
          emit(0x10, ...uleb(LOG[t]));
          st.pop();
        } else {
          emit(0x1a);
          st.pop();
        }
      } else if (r < 0.56 && ctl.length < 6) {
        // block / loop / if, taking up to 2 values of the stack as parameters
        const np = Math.min(int(3), n);
        const params = st.slice(st.length - np);
        const results = randTypes(chance(0.5) ? 1 : 3);
        const q = rnd();
        if (q < 0.4) {
          emit(0x02, ...blockType(params, results));
          blockBody('block', params, results);
        } else if (q < 0.7) {
          emit(0x03, ...blockType(params, results));
          blockBody('loop', params, results);
        } else {
          if (chance(0.5)) cond(); else produce(I32, 2);
          emit(0x04, ...blockType(params, results));
          st.pop();
          blockBody('if', params, results);
        }
      } else if (r < 0.66) {
        // br_if to some enclosing label, with its values
        const l = int(ctl.length);
        const target = ctl[ctl.length - 1 - l];
        const lt = labelTypes(target);
        ensureTop(lt);
        if (chance(0.5) && n > 0 && st[st.length - 1] === I32 && lt.length === 0) {
          // use the value on top as the condition
        } else cond();
        emit(0x0d, ...uleb(l));
        st.pop();
      } else if (r < 0.7 && chance(0.5)) {
        // br, br_table or return: the rest of the block is dead
        const q = rnd();
        if (q < 0.4) {
          const l = int(ctl.length);
          ensureTop(labelTypes(ctl[ctl.length - 1 - l]));
          emit(0x0c, ...uleb(l));
        } else if (q < 0.8) {
          const l = int(ctl.length);
          const lt = labelTypes(ctl[ctl.length - 1 - l]).join();
          const same = ctl.map((x, i) => (labelTypes(x).join() === lt ? ctl.length - 1 - i : -1)).filter((i) => i >= 0);
          ensureTop(labelTypes(ctl[ctl.length - 1 - l]));
          produce(I32, 1);
          const targets = Array.from({ length: int(4) }, () => pick(same));
          emit(0x0e, ...uleb(targets.length), ...targets.flatMap((x) => uleb(x)), ...uleb(l));
        } else {
          const tails = opts.tailCall ? funcs.map((g, i) => (g.results.join() === f.results.join() ? i : -1)).filter((i) => i >= 0) : [];
          if (tails.length > 0 && chance(0.6)) {
            const g = pick(tails);
            ensureTop(funcs[g].params);
            if (chance(0.7)) emit(0x12, ...uleb(nImp + g));
            else {
              emit(0x41, ...sleb(chance(0.9) ? g : int(nf + 2)));
              emit(0x13, ...uleb(funcs[g].type), 0x00);
            }
          } else {
            ensureTop(f.results);
            emit(0x0f);
          }
        }
        c.dead = true;
        // a little dead code, which must be skipped
        if (chance(0.3)) emit(0x41, 1, 0x1a);
        if (chance(0.2)) emit(0x02, 0x40, 0x0b);
      } else if (r < 0.8 && (r < 0.74 || chance(0.1))) {
        // call, direct or indirect (mostly of later functions, so call trees stay small)
        const g = fi + 1 < nf && chance(0.9) ? fi + 1 + int(nf - fi - 1) : int(nf);
        ensureTop(funcs[g].params);
        if (chance(0.7)) emit(0x10, ...uleb(nImp + g));
        else {
          if (chance(0.9)) emit(0x41, ...sleb(g)); else constOf(I32);
          emit(0x11, ...uleb(funcs[g].type), 0x00);
        }
        st.length -= funcs[g].params.length;
        st.push(...funcs[g].results);
      } else if (r < 0.86) {
        // store, with the address below the value
        const [op, vt, nat] = pick(STORES);
        if (n >= 2 && st[st.length - 1] === vt && st[st.length - 2] === I32 && chance(0.5)) {
          // use the stack as it is
        } else if (n >= 1 && st[st.length - 1] === I32 && chance(0.5)) {
          produce(vt, 1);
        } else {
          address(1);
          produce(vt, 1);
        }
        emit(op);
        memarg(nat);
        st.length -= 2;
      } else if (r < 0.9) {
        const [op, rt, nat] = pick(LOADS);
        if (!(n > 0 && t === I32 && chance(0.5))) address(1);
        emit(op);
        memarg(nat);
        st.pop();
        st.push(rt);
      } else if (r < 0.94 && n >= 3 && st[st.length - 1] === I32 && st[st.length - 2] === st[st.length - 3]) {
        const ty = st[st.length - 2];
        if (ty === FR || chance(0.3)) emit(0x1c, 1, ty);
        else emit(0x1b);
        st.length -= 3;
        st.push(ty);
      } else if (r < 0.96) {
        const q = rnd();
        if (q < 0.3) {
          emit(0x3f, 0x00);
          st.push(I32);
        } else if (q < 0.5) {
          emit(0x41, ...sleb(int(2)), 0x40, 0x00);
          st.push(I32);
        } else if (q < 0.75) {
          emit(0x41, ...sleb(int(60000)), 0x41, ...sleb(int(256)), 0x41, ...sleb(int(300)), 0xfc, 11, 0x00);
        } else {
          emit(0x41, ...sleb(int(60000)), 0x41, ...sleb(int(60000)), 0x41, ...sleb(int(300)), 0xfc, 10, 0x00, 0x00);
        }
      } else if (r < 0.965) {
        emit(0x41, ...sleb(int(nf)), 0x10, CALL_EXPORT);
      } else if (r < 0.975) {
        refStep(n, t);
      } else if (r < 0.98) {
        emit(0x01); // nop
      } else if (r < 0.981) {
        emit(0x00); // unreachable
        c.dead = true;
      }
    }

    blockBody('func', [], f.results);
    code.pop(); // the function's `end` is added below
    // locals: declared ones plus the two scratch floats
    const decl = [...f.locals, F32, F64];
    const groups = decl.map((t) => [...uleb(1), t]);
    const b = [...vec(groups), ...code, 0x0b];
    return [...uleb(b.length), ...b];
  }

  const bodies = funcs.map((_, i) => body(i));
  // hangLimitInitializer
  const hangBody = [0x00, 0x41, ...sleb(500 + int(2000)), 0x24, ...uleb(HANG_LIMIT), 0x0b];
  const hangType = typeIdx([], []);

  const typeSec = vec(types.map((t) => [0x60, ...vec(t.params.map((x) => [x])), ...vec(t.results.map((x) => [x]))]));
  const importSec = vec(imports.map((im) => [...str('fuzzing-support'), ...str(im.name), 0x00, ...uleb(im.type)]));
  const funcSec = vec([...funcs.map((f) => uleb(f.type)), uleb(hangType)]);
  const tableSec = vec([[0x70, 0x00, ...uleb(nf)], [0x70, 0x01, 4, 10]]);
  const memSec = vec([[0x01, 0x01, 0x02]]);
  const globalSec = vec(globals.map((g) => {
    const init = g.type === FR ? [0xd0, 0x70] : g.type === I32 ? [0x41, ...sleb(g.init)] : g.type === I64 ? [0x42, ...sleb(g.init)]
      : g.type === F32 ? [0x43, ...new Uint8Array(new Float32Array([g.init]).buffer)] : [0x44, ...new Uint8Array(new Float64Array([g.init]).buffer)];
    return [g.type, 0x01, ...init, 0x0b];
  }));
  const exports = [...funcs.map((_, i) => [...str(`f${i}`), 0x00, ...uleb(nImp + i)]), [...str('hangLimitInitializer'), 0x00, ...uleb(hangInit)],
    [...str('memory'), 0x02, 0x00], ...globals.map((_, i) => [...str(`g${i}`), 0x03, ...uleb(i)])];
  const exportSec = vec(exports);
  const elemSec = vec([[0x00, 0x41, 0x00, 0x0b, ...vec(funcs.map((_, i) => uleb(nImp + i)))],
    [0x01, 0x00, ...vec(Array.from({ length: 6 }, () => uleb(nImp + int(nf))))]]); // passive
  const codeSec = vec([...bodies, [...uleb(hangBody.length), ...hangBody]]);
  const data = Array.from({ length: 64 }, () => int(256));
  const dataSec = vec([[0x00, 0x41, ...sleb(int(1000)), 0x0b, ...vec(data.map((x) => [x]))],
    [0x01, ...vec(Array.from({ length: 16 }, () => [int(256)]))]]); // passive

  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, typeSec), ...section(2, importSec), ...section(3, funcSec), ...section(4, tableSec), ...section(5, memSec),
    ...section(6, globalSec), ...section(7, exportSec), ...section(9, elemSec), ...section(12, uleb(2)), ...section(10, codeSec), ...section(11, dataSec)]);
}
