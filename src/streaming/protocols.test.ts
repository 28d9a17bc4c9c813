import { describe, expect, it } from 'vitest';
import { headerProtocols, negotiate, remoteCommandVersion, REMOTE_COMMAND_SPDY_PROTOCOLS } from './protocols.ts';
import { decodeMessage, encodeMessage } from './ws-channels.ts';

describe('protocol negotiation', () => {
  it('reads repeated and comma-separated protocol headers', () => {
    expect(headerProtocols(['v4.channel.k8s.io, v3.channel.k8s.io', 'channel.k8s.io'])).toEqual([
      'v4.channel.k8s.io',
      'v3.channel.k8s.io',
      'channel.k8s.io',
    ]);
    expect(headerProtocols(undefined)).toEqual([]);
  });

  it("takes the client's most preferred protocol the server supports", () => {
    expect(
      negotiate(['v9.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io'], REMOTE_COMMAND_SPDY_PROTOCOLS),
    ).toBe('v3.channel.k8s.io');
    expect(negotiate(['v9.channel.k8s.io'], REMOTE_COMMAND_SPDY_PROTOCOLS)).toBeUndefined();
  });

  it('knows what each remotecommand version can do', () => {
    expect(remoteCommandVersion('v5.channel.k8s.io')).toEqual({ statusJson: true, resize: true });
    expect(remoteCommandVersion('v3.channel.k8s.io')).toEqual({ statusJson: false, resize: true });
    expect(remoteCommandVersion('channel.k8s.io')).toEqual({ statusJson: false, resize: false });
  });
});

describe('websocket channel framing', () => {
  it('prefixes binary messages with the channel byte', () => {
    expect(encodeMessage(1, Buffer.from('hi'), false)).toEqual(Buffer.from([1, 0x68, 0x69]));
    expect(decodeMessage(Buffer.from([0, 0x68, 0x69]), false)).toEqual({ channel: 0, payload: Buffer.from('hi') });
  });

  it('uses an ASCII digit and base64 with base64.channel.k8s.io', () => {
    expect(encodeMessage(1, Buffer.from('foo\n'), true)).toBe('1Zm9vCg==');
    expect(decodeMessage(Buffer.from('0Zm9vCg=='), true)).toEqual({ channel: 0, payload: Buffer.from('foo\n') });
    expect(decodeMessage(Buffer.alloc(0), true)).toBeUndefined();
  });
});
