/**
 * A set and a map that make their table on first use. An actor holds a few
 * of these (links, monitors, watchers, callers) and most actors never use
 * them: an empty Map or Set still allocates a table of about 250 bytes, and
 * a spawn made four of them. They offer what the actor system uses of Set
 * and Map.
 */

const NONE: ReadonlySet<never> & ReadonlyMap<never, never> = Object.freeze(new Set<never>()) as unknown as ReadonlySet<never> & ReadonlyMap<never, never>;

/** A Set whose table is made on the first `add`. */
export class LazySet<T = number> implements Iterable<T> {
  private s: Set<T> | null = null;

  get size(): number {
    return this.s === null ? 0 : this.s.size;
  }

  has(v: T): boolean {
    return this.s !== null && this.s.has(v);
  }

  add(v: T): this {
    (this.s ??= new Set()).add(v);
    return this;
  }

  delete(v: T): boolean {
    return this.s !== null && this.s.delete(v);
  }

  /** Empties it (and lets its table go). */
  clear(): void {
    this.s = null;
  }

  [Symbol.iterator](): Iterator<T> {
    return (this.s ?? (NONE as ReadonlySet<T>)).values();
  }
}

/** A Map whose table is made on the first `set`. */
export class LazyMap<K, V> implements Iterable<[K, V]> {
  private m: Map<K, V> | null = null;

  get size(): number {
    return this.m === null ? 0 : this.m.size;
  }

  has(k: K): boolean {
    return this.m !== null && this.m.has(k);
  }

  get(k: K): V | undefined {
    return this.m === null ? undefined : this.m.get(k);
  }

  set(k: K, v: V): this {
    (this.m ??= new Map()).set(k, v);
    return this;
  }

  delete(k: K): boolean {
    return this.m !== null && this.m.delete(k);
  }

  /** Empties it (and lets its table go). */
  clear(): void {
    this.m = null;
  }

  [Symbol.iterator](): Iterator<[K, V]> {
    return (this.m ?? (NONE as unknown as ReadonlyMap<K, V>)).entries();
  }
}
