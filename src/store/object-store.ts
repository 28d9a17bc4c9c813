// A store of one object kind: a map in memory, each record persisted as its own crash-safe JSON file,
// lookups by full id or unique id prefix (as crictl users type them).
import path from 'node:path';
import { invalidArgument, notFound } from '../errors.ts';
import { readJsonRecords, removeRecord, writeJsonAtomic } from './checkpoint.ts';

export class ObjectStore<T extends { id: string }> {
  private readonly items = new Map<string, T>();
  private readonly writes = new Map<string, Promise<void>>();
  private readonly kind: string;
  private readonly dir: string;
  private readonly isValid: (value: object) => boolean;

  /** isValid: whether a parsed file has what crid reads from every record of the kind. */
  constructor(kind: string, dir: string, isValid: (value: object) => boolean = () => true) {
    this.kind = kind;
    this.dir = dir;
    this.isValid = isValid;
  }

  /** Loads every persisted record; returns the files that could not be parsed or are not records. */
  async load(): Promise<string[]> {
    const { records, broken } = await readJsonRecords<T>(this.dir, this.isValid);
    for (const record of records) this.items.set(record.id, record);
    return broken;
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /**
   * Persists a new record; it is visible only once it is written. `durable: false` skips the fsyncs
   * (see writeJsonAtomic) for a state that recovery does without after a power loss.
   */
  async put(item: T, opts: { durable?: boolean } = {}): Promise<void> {
    await this.persist(item.id, () => writeJsonAtomic(this.file(item.id), item, opts));
    this.items.set(item.id, item);
  }

  /**
   * Applies a change to a record. The change is visible at once, so concurrent updates of one record
   * compose instead of overwriting each other; writes of one record reach the disk in order.
   */
  async update(id: string, change: (item: T) => void, opts: { durable?: boolean } = {}): Promise<T> {
    const next = structuredClone(this.get(id));
    change(next);
    this.items.set(id, next);
    await this.persist(id, async () => {
      const current = this.items.get(id);
      if (current) await writeJsonAtomic(this.file(id), current, opts);
    });
    return next;
  }

  async delete(id: string): Promise<void> {
    this.items.delete(id);
    await this.persist(id, () => removeRecord(this.file(id)));
  }

  private persist(id: string, write: () => Promise<void>): Promise<void> {
    const previous = this.writes.get(id) ?? Promise.resolve();
    const current = previous.catch(() => {}).then(write);
    this.writes.set(id, current);
    const forget = () => {
      if (this.writes.get(id) === current) this.writes.delete(id);
    };
    current.then(forget, forget);
    return current;
  }

  find(idOrPrefix: string): T | undefined {
    if (!idOrPrefix) return undefined;
    const exact = this.items.get(idOrPrefix);
    if (exact) return exact;
    const matches = [...this.items.keys()].filter((id) => id.startsWith(idOrPrefix));
    if (matches.length > 1) throw invalidArgument(`${this.kind} id prefix "${idOrPrefix}" is ambiguous`);
    return matches.length === 1 ? this.items.get(matches[0]!) : undefined;
  }

  get(idOrPrefix: string): T {
    const item = this.find(idOrPrefix);
    if (!item) throw notFound(`${this.kind} "${idOrPrefix}" not found`);
    return item;
  }

  list(): T[] {
    return [...this.items.values()];
  }
}
