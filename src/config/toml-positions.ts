// Where each key of a TOML document is written. @iarna/toml reports positions only for syntax
// errors, so this scanner walks the (already syntax-checked) text and maps every table header and
// every `key =` (dotted, quoted, inside inline tables too) to its 1-based line and column.

export interface KeyLocation {
  line: number;
  column: number;
}

/** Map key for a key path: the segments, unambiguous whatever characters they hold. */
export function pathKey(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/** Dotted display form: `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc`. */
export function displayPath(segments: readonly string[]): string {
  return segments.map((s) => (s !== '' && [...s].every((c) => BARE_KEY.test(c)) ? s : JSON.stringify(s))).join('.');
}

/** Every key path of the document → where it is first written. Expects valid TOML. */
export function scanKeyLocations(text: string): Map<string, KeyLocation> {
  return new Scanner(text).scan();
}

class Scanner {
  private readonly text: string;
  private readonly lineStarts: number[] = [0];
  private readonly found = new Map<string, KeyLocation>();
  private readonly arrayTableCounts = new Map<string, number>();
  private pos = 0;

  constructor(text: string) {
    this.text = text;
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  scan(): Map<string, KeyLocation> {
    let table: string[] = [];
    while (this.skipBlank()) {
      if (this.text[this.pos] === '[') table = this.header();
      else this.keyValue(table);
    }
    return this.found;
  }

  /** Skips spaces, newlines and comments; false at the end of the text. */
  private skipBlank(): boolean {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '#') this.skipComment();
      else if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.pos++;
      else return true;
    }
    return false;
  }

  private skipInlineSpace(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }

  private skipComment(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
  }

  private header(): string[] {
    const at = this.location(this.pos);
    const isArray = this.text.startsWith('[[', this.pos);
    this.pos += isArray ? 2 : 1;
    const path = this.dottedKey();
    this.pos += isArray ? 2 : 1;
    this.skipComment();
    for (let n = 1; n < path.length; n++) this.record(path.slice(0, n), at);
    if (!isArray) {
      this.record(path, at);
      return path;
    }
    const index = this.arrayTableCounts.get(pathKey(path)) ?? 0;
    this.arrayTableCounts.set(pathKey(path), index + 1);
    const element = [...path, String(index)];
    this.record(element, at);
    return element;
  }

  private keyValue(table: string[]): void {
    const at = this.location(this.pos);
    const path = [...table, ...this.dottedKey()];
    for (let n = table.length + 1; n < path.length; n++) this.record(path.slice(0, n), at);
    this.record(path, at);
    this.skipInlineSpace();
    this.pos++; // '='
    this.skipInlineSpace();
    this.value(path);
  }

  private dottedKey(): string[] {
    const segments: string[] = [];
    for (;;) {
      this.skipInlineSpace();
      segments.push(this.keySegment());
      this.skipInlineSpace();
      if (this.text[this.pos] !== '.') return segments;
      this.pos++;
    }
  }

  private keySegment(): string {
    const c = this.text[this.pos];
    if (c === '"' || c === "'") return this.string();
    const start = this.pos;
    while (this.pos < this.text.length && BARE_KEY.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private value(path: string[]): void {
    const c = this.text[this.pos];
    if (c === '"' || c === "'") this.string();
    else if (c === '[') this.array(path);
    else if (c === '{') this.inlineTable(path);
    else while (this.pos < this.text.length && !/[\s,\]}#]/.test(this.text[this.pos]!)) this.pos++;
  }

  private array(path: string[]): void {
    this.pos++;
    for (let index = 0; ; index++) {
      this.skipBlank();
      if (this.text[this.pos] === ']' || this.pos >= this.text.length) break;
      this.value([...path, String(index)]);
      this.skipBlank();
      if (this.text[this.pos] === ',') this.pos++;
    }
    this.pos++;
  }

  private inlineTable(path: string[]): void {
    this.pos++;
    for (;;) {
      this.skipInlineSpace();
      if (this.text[this.pos] === '}' || this.pos >= this.text.length) break;
      this.keyValue(path);
      this.skipInlineSpace();
      if (this.text[this.pos] === ',') this.pos++;
    }
    this.pos++;
  }

  /** Reads a basic, literal or multi-line string and returns its (unescaped) content. */
  private string(): string {
    const quote = this.text[this.pos]!;
    const multi = this.text.startsWith(quote.repeat(3), this.pos);
    const delimiter = multi ? quote.repeat(3) : quote;
    const start = this.pos;
    this.pos += delimiter.length;
    while (this.pos < this.text.length && !this.text.startsWith(delimiter, this.pos)) {
      this.pos += quote === '"' && this.text[this.pos] === '\\' ? 2 : 1;
    }
    this.pos += delimiter.length;
    while (multi && this.text[this.pos] === quote) this.pos++;
    const raw = this.text.slice(start, this.pos);
    return quote === '"' && !multi ? unescapeBasic(raw) : raw.slice(delimiter.length, -delimiter.length);
  }

  private record(path: string[], at: KeyLocation): void {
    const key = pathKey(path);
    if (!this.found.has(key)) this.found.set(key, at);
  }

  private location(offset: number): KeyLocation {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }
}

function unescapeBasic(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1); // TOML-only escapes (\U, \e) in a key: close enough for locating it
  }
}
