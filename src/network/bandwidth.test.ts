import { describe, expect, it } from 'vitest';
import { isKind } from '../errors.ts';
import { bandwidthFromAnnotations, parseQuantity } from './bandwidth.ts';

describe('parseQuantity', () => {
  it('reads decimal, binary and exponent forms', () => {
    expect(parseQuantity('10M')).toBe(10_000_000);
    expect(parseQuantity('1Gi')).toBe(1_073_741_824);
    expect(parseQuantity('1.5k')).toBe(1500);
    expect(parseQuantity('1e6')).toBe(1_000_000);
    expect(parseQuantity('2500m')).toBe(3);
    expect(parseQuantity('42')).toBe(42);
  });

  it('rejects what is not a quantity', () => {
    expect(() => parseQuantity('10 MB')).toThrow('"10 MB" is not a quantity');
    expect(() => parseQuantity('')).toThrow('is not a quantity');
    expect(() => parseQuantity('100E')).toThrow('out of range');
  });
});

describe('bandwidthFromAnnotations', () => {
  it('gives the rates with containerd burst, only for the directions annotated', () => {
    expect(bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '1M' })).toEqual({
      ingressRate: 1_000_000,
      ingressBurst: 4_294_967_295,
    });
    expect(bandwidthFromAnnotations({ 'kubernetes.io/egress-bandwidth': '2M', other: 'x' })).toEqual({
      egressRate: 2_000_000,
      egressBurst: 4_294_967_295,
    });
    expect(bandwidthFromAnnotations({})).toBeUndefined();
  });

  it('a bad value is InvalidArgument naming the annotation', () => {
    let err: unknown;
    try {
      bandwidthFromAnnotations({ 'kubernetes.io/egress-bandwidth': 'fast' });
    } catch (e) {
      err = e;
    }
    expect(isKind(err, 'InvalidArgument')).toBe(true);
    expect((err as Error).message).toBe('pod annotation kubernetes.io/egress-bandwidth: "fast" is not a quantity');
  });
});
