/**
 * Each actor's own pseudo-random generator: xoshiro128** seeded from
 * SHA-256 of the hive's seed and the actor's id. Small state (four words),
 * so snapshots carry it and a restored actor draws the same numbers next.
 */
import { createHash } from 'node:crypto';

/** A seeded generator whose state is four 32-bit words. */
export class Rng {
  private state: Uint32Array | null;
  /** Until the first draw: the hive's seed and the actor's id it is seeded from (the string is made then, not per spawn). */
  private readonly seed: string;
  private readonly id: number;

  constructor(state: Uint32Array | null, seed = '', id = 0) {
    if (state !== null) {
      if (state.length !== 4) throw new RangeError('generator state is four words');
      if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // the all-zero state is a fixed point
    }
    this.state = state;
    this.seed = seed;
    this.id = id;
  }

  get s(): Uint32Array {
    if (this.state === null) {
      const h = createHash('sha256').update(`wasmhive actor rng\0${this.seed}\0${this.id}`).digest();
      const st = new Uint32Array([h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)]);
      if ((st[0] | st[1] | st[2] | st[3]) === 0) st[0] = 1;
      this.state = st;
    }
    return this.state;
  }

  /** The generator of an actor, from the hive's seed and the actor's id. */
  static forActor(seed: string, id: number): Rng {
    return new Rng(null, seed, id);
  }

  /** The next 32 random bits, unsigned. */
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Fills the bytes. */
  fill(out: Uint8Array): void {
    let i = 0;
    while (i < out.length) {
      let w = this.next();
      for (let k = 0; k < 4 && i < out.length; k++, i++) {
        out[i] = w & 0xff;
        w >>>= 8;
      }
    }
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
