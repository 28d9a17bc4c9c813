// Go's path.Match, which containerd uses for a handler's pod_annotations / container_annotations:
// `*` any run of non-'/' characters, `?` one non-'/' character, `[...]` / `[^...]` a class with
// ranges, `\` escapes. A malformed pattern matches nothing (containerd ignores path.ErrBadPattern).

type Chars = string[];

class BadPattern extends Error {}

/** True when `name` matches the glob `pattern`; false for a malformed pattern. */
export function pathMatch(pattern: string, name: string): boolean {
  try {
    return match([...pattern], [...name]);
  } catch (err) {
    if (err instanceof BadPattern) return false;
    throw err;
  }
}

/** False when Go's path.Match would report ErrBadPattern for `pattern`. */
export function isValidPattern(pattern: string): boolean {
  try {
    validateChunks([...pattern]);
    return true;
  } catch (err) {
    if (err instanceof BadPattern) return false;
    throw err;
  }
}

function match(pattern: Chars, name: Chars): boolean {
  nextChunk: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes('/');
    const whole = matchChunk(chunk, name);
    if (whole !== undefined && (whole.length === 0 || pattern.length > 0)) {
      name = whole;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const tail = matchChunk(chunk, name.slice(i + 1));
        if (tail === undefined) continue;
        if (pattern.length === 0 && tail.length > 0) continue;
        name = tail;
        continue nextChunk;
      }
    }
    validateChunks(pattern);
    return false;
  }
  return name.length === 0;
}

function validateChunks(pattern: Chars): void {
  while (pattern.length > 0) {
    const { chunk, rest } = scanChunk(pattern);
    matchChunk(chunk, []);
    pattern = rest;
  }
}

function scanChunk(pattern: Chars): { star: boolean; chunk: Chars; rest: Chars } {
  let star = false;
  let start = 0;
  while (start < pattern.length && pattern[start] === '*') {
    start++;
    star = true;
  }
  let inRange = false;
  let i = start;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: pattern.slice(start, i), rest: pattern.slice(i) };
}

/** The rest of `s` after `chunk` matched its start, or undefined. Throws BadPattern. */
function matchChunk(chunk: Chars, s: Chars): Chars | undefined {
  let failed = false;
  let c = 0;
  let p = 0;
  while (c < chunk.length) {
    if (!failed && p >= s.length) failed = true;
    const ch = chunk[c];
    if (ch === '[') {
      const r = failed ? '' : s[p++];
      c++;
      const negated = chunk[c] === '^';
      if (negated) c++;
      let matched = false;
      for (let ranges = 0; ; ranges++) {
        if (chunk[c] === ']' && ranges > 0) {
          c++;
          break;
        }
        const lo = classChar(chunk, c);
        c = lo.next;
        let hi = lo;
        if (chunk[c] === '-') {
          hi = classChar(chunk, c + 1);
          c = hi.next;
        }
        if (!failed && lo.cp <= r.codePointAt(0)! && r.codePointAt(0)! <= hi.cp) matched = true;
      }
      if (matched === negated) failed = true;
    } else if (ch === '?') {
      if (!failed) {
        if (s[p] === '/') failed = true;
        p++;
      }
      c++;
    } else {
      if (ch === '\\') {
        c++;
        if (c >= chunk.length) throw new BadPattern();
      }
      if (!failed) {
        if (chunk[c] !== s[p]) failed = true;
        p++;
      }
      c++;
    }
  }
  return failed ? undefined : s.slice(p);
}

/** One (possibly escaped) character of a class; the class must continue after it. */
function classChar(chunk: Chars, at: number): { cp: number; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === '-' || chunk[i] === ']') throw new BadPattern();
  if (chunk[i] === '\\') {
    i++;
    if (i >= chunk.length) throw new BadPattern();
  }
  const cp = chunk[i].codePointAt(0)!;
  if (i + 1 >= chunk.length) throw new BadPattern();
  return { cp, next: i + 1 };
}
