import { describe, expect, it } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { silentLogger } from '../log.ts';
import { relay } from './relay.ts';

function broken(): Writable {
  return new Writable({
    write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('EPIPE'), { code: 'EPIPE' })),
  });
}

describe('relay', () => {
  it('copies until the source ends, and ends the destination', async () => {
    const from = new PassThrough();
    const to = new PassThrough();
    relay(from, to, silentLogger, { what: 'test' });
    from.end('bytes');
    const chunks: Buffer[] = [];
    for await (const chunk of to) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('bytes');
  });

  it('stops at the first error on either side and reports it once', async () => {
    const from = new PassThrough();
    const to = broken();
    const errors: string[] = [];
    relay(from, to, silentLogger, { what: 'test', onError: (err) => errors.push(err.message) });
    from.write('one');
    await new Promise((resolve) => to.once('close', resolve));
    from.destroy(new Error('source broke too'));
    await new Promise((resolve) => from.once('close', resolve));
    expect(errors).toEqual(['EPIPE']);
  });
});
