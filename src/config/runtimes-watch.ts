// Watches the handler drop-in directory and calls back (debounced) when a file in it changes. When
// the directory does not exist yet, its parent is watched until it appears.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export class RuntimesDirWatcher {
  private readonly dir: string;
  private readonly onChange: () => void;
  private readonly debounceMs: number;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(dir: string, onChange: () => void, debounceMs = 250) {
    this.dir = dir;
    this.onChange = onChange;
    this.debounceMs = debounceMs;
    this.arm();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  private arm(): void {
    if (this.closed) return;
    this.watcher?.close();
    try {
      this.watcher = watch(this.dir, () => this.changed());
      this.watcher.on('error', () => this.rearmSoon());
    } catch {
      this.watchParent();
    }
  }

  /** The directory is missing: wait for it to be created (then its files count as a change). */
  private watchParent(): void {
    try {
      this.watcher = watch(path.dirname(this.dir), (_event, name) => {
        if (name !== path.basename(this.dir)) return;
        this.arm();
        this.changed();
      });
      this.watcher.on('error', () => this.rearmSoon());
    } catch {
      this.watcher = undefined;
    }
  }

  private rearmSoon(): void {
    this.watcher?.close();
    this.watcher = undefined;
    setTimeout(() => this.arm(), this.debounceMs).unref();
    this.changed();
  }

  private changed(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onChange, this.debounceMs);
  }
}
