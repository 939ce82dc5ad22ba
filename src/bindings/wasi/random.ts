/**
 * Random bytes for `random_get`: real ones from the OS, or a deterministic
 * stream derived from a seed.
 *
 * The seeded stream is AES-256 in counter mode, keyed by SHA-256 of the seed:
 * a standard construction (NIST SP 800-90A's CTR_DRBG is built the same way),
 * fast in bulk, and seekable, so its whole state is the seed and the number of
 * bytes already produced.
 */
import { createCipheriv, createHash, randomFillSync } from 'node:crypto';

/** A source of random bytes. */
export interface WasiRandom {
  /** Fills `buf` with random bytes. */
  fill(buf: Uint8Array): void;
}

/** Random bytes from the operating system. */
export class RealRandom implements WasiRandom {
  fill(buf: Uint8Array): void {
    // randomFillSync takes at most 2^31-1 bytes per call.
    for (let at = 0; at < buf.length; at += 1 << 30) randomFillSync(buf.subarray(at, Math.min(buf.length, at + (1 << 30))));
  }
}

/** Bytes produced per cipher call; bounds the scratch buffer whatever the guest asks for. */
const CHUNK = 1 << 16;

/** A deterministic stream of bytes: the same seed always gives the same bytes, in the same order. */
export class SeededRandom implements WasiRandom {
  /** The seed, in the string form it was given (a number seed is its decimal string). */
  readonly seed: string;
  /** Bytes produced so far: where the stream continues. */
  position: number;
  private readonly key: Buffer;

  constructor(seed: string, position = 0) {
    this.seed = seed;
    this.position = position;
    this.key = createHash('sha256').update('wasmhive wasi random_get\0').update(seed, 'utf8').digest();
  }

  fill(buf: Uint8Array): void {
    const block = Math.floor(this.position / 16);
    const skip = this.position % 16;
    const iv = Buffer.alloc(16);
    // The counter block is the 128-bit big-endian block number; positions stay below 2^53.
    iv.writeUInt32BE(Math.floor(block / 2 ** 32), 8);
    iv.writeUInt32BE(block % 2 ** 32, 12);
    const cipher = createCipheriv('aes-256-ctr', this.key, iv);
    // Encrypting zeros gives the key stream itself.
    const zeros = new Uint8Array(Math.min(CHUNK, skip + buf.length));
    if (skip > 0) cipher.update(zeros.subarray(0, skip));
    for (let at = 0; at < buf.length; at += CHUNK) {
      const n = Math.min(CHUNK, buf.length - at);
      buf.set(cipher.update(zeros.subarray(0, n)), at);
    }
    this.position += buf.length;
  }
}
