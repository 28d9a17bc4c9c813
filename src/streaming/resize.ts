// The resize stream/channel carries terminal sizes as concatenated JSON objects
// ({"Width":80,"Height":24}, as Go's json.Encoder writes remotecommand.TerminalSize).
import { Transform, type TransformCallback } from 'node:stream';
import type { TerminalSize } from './runtime.ts';

const MAX_PENDING = 4096;

/** Splits concatenated JSON objects out of `text`; `rest` is the unfinished tail. */
export function splitJsonObjects(text: string): { objects: string[]; rest: string } {
  const objects: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}') {
      if (--depth === 0) objects.push(text.slice(start, i + 1));
      if (depth < 0) throw new Error(`unbalanced "}" in resize stream`);
    } else if (depth === 0 && !/\s/.test(c)) {
      throw new Error(`unexpected ${JSON.stringify(c)} between resize objects`);
    }
  }
  return { objects, rest: depth > 0 ? text.slice(start) : '' };
}

/** Validates one decoded object as a terminal size (uint16 Width and Height). */
export function toTerminalSize(json: string): TerminalSize {
  const value: unknown = JSON.parse(json);
  const { Width: width, Height: height } = (value ?? {}) as Record<string, unknown>;
  if (!isUint16(width) || !isUint16(height)) throw new Error(`invalid terminal size ${json}`);
  return { width, height };
}

function isUint16(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/** Bytes in, TerminalSize objects out. A malformed stream ends the sizes (as kubelet stops reading). */
export class ResizeDecoder extends Transform {
  #pending = '';
  #broken = false;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#broken) {
      callback();
      return;
    }
    try {
      const { objects, rest } = splitJsonObjects(this.#pending + chunk.toString('utf8'));
      if (rest.length > MAX_PENDING) throw new Error('resize object too large');
      this.#pending = rest;
      for (const json of objects) this.push(toTerminalSize(json));
    } catch {
      this.#broken = true;
      this.push(null);
    }
    callback();
  }
}
