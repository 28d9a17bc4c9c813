// A store of one object kind: a map in memory, each record persisted as its own crash-safe JSON file,
// lookups by full id or unique id prefix (as crictl users type them).
import path from 'node:path';
import { invalidArgument, notFound } from '../errors.ts';
import { readJsonRecords, removeRecord, writeJsonAtomic } from './checkpoint.ts';

export class ObjectStore<T extends { id: string }> {
  private readonly items = new Map<string, T>();
  private readonly kind: string;
  private readonly dir: string;

  constructor(kind: string, dir: string) {
    this.kind = kind;
    this.dir = dir;
  }

  /** Loads every persisted record; returns the files that could not be parsed. */
  async load(): Promise<string[]> {
    const { records, broken } = await readJsonRecords<T>(this.dir);
    for (const record of records) this.items.set(record.id, record);
    return broken;
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  async put(item: T): Promise<void> {
    await writeJsonAtomic(this.file(item.id), item);
    this.items.set(item.id, item);
  }

  /** Applies a change to a stored record and persists it. */
  async update(id: string, change: (item: T) => void): Promise<T> {
    const item = this.get(id);
    const next = structuredClone(item);
    change(next);
    await this.put(next);
    return next;
  }

  async delete(id: string): Promise<void> {
    await removeRecord(this.file(id));
    this.items.delete(id);
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
