/**
 * The hive's name table: which address each name stands for. An address
 * holds at most one name (an actor's, or a host mailbox's). The table is
 * the hive's side of `register`, `unregister` and `lookup`; an actor keeps
 * its own name itself (Actor.name) and learns that a registration took from
 * the hive's answer.
 */
export class NameTable {
  private readonly byName = new Map<string, number>();
  private readonly byId = new Map<number, string>();

  /** The address registered under `name`. */
  get(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** Whether `name` is taken. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The name of an address. */
  nameOf(id: number): string | undefined {
    return this.byId.get(id);
  }

  /** Registers `id` under `name`; false when the name is taken or the address has a name already. */
  add(name: string, id: number): boolean {
    if (this.byName.has(name) || this.byId.has(id)) return false;
    this.byName.set(name, id);
    this.byId.set(id, name);
    return true;
  }

  /** Drops `name` if `id` holds it (an answer to an old registration cannot drop a newer holder's). */
  remove(name: string, id: number): void {
    if (this.byName.get(name) !== id) return;
    this.byName.delete(name);
    this.byId.delete(id);
  }

  /** Drops the name of an address that is gone, if it has one. */
  forget(id: number): void {
    const name = this.byId.get(id);
    if (name === undefined) return;
    this.byId.delete(id);
    this.byName.delete(name);
  }
}
