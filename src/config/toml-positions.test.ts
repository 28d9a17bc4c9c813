import { describe, expect, it } from 'vitest';
import { displayPath, pathKey, scanKeyLocations } from './toml-positions.ts';

describe('scanKeyLocations', () => {
  const text = [
    '# comment [not.a.table]',
    'version = 2',
    'multi = """',
    'x = [fake]',
    '"""',
    'arr = [',
    '  "a = b", # [nope]',
    '  [1, 2],',
    ']',
    '[plugins."io.containerd.grpc.v1.cri".containerd]',
    "  a.'b.c'.d = 1",
    '  t = { k = "v", n = { m = 1 } }',
    '[[list]]',
    'x = 1',
    '[[list]]',
    'x = 2',
  ].join('\n');
  const at = (...segments: string[]) => scanKeyLocations(text).get(pathKey(segments));

  it('maps keys, quoted and dotted keys, inline tables and table headers to line:column', () => {
    expect(at('version')).toEqual({ line: 2, column: 1 });
    expect(at('multi')).toEqual({ line: 3, column: 1 });
    expect(at('x')).toBeUndefined();
    expect(at('arr')).toEqual({ line: 6, column: 1 });
    expect(at('plugins', 'io.containerd.grpc.v1.cri', 'containerd')).toEqual({ line: 10, column: 1 });
    expect(at('plugins', 'io.containerd.grpc.v1.cri')).toEqual({ line: 10, column: 1 });
    expect(at('plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'a', 'b.c', 'd')).toEqual({ line: 11, column: 3 });
    expect(at('plugins', 'io.containerd.grpc.v1.cri', 'containerd', 't', 'k')).toEqual({ line: 12, column: 9 });
    expect(at('plugins', 'io.containerd.grpc.v1.cri', 'containerd', 't', 'n', 'm')).toEqual({ line: 12, column: 24 });
    expect(at('list', '1', 'x')).toEqual({ line: 16, column: 1 });
  });

  it('displays paths with quotes where a segment is not a bare key', () => {
    expect(displayPath(['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes', 'runc-v1'])).toBe(
      'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc-v1',
    );
  });
});
