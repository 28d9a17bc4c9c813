import { describe, expect, it } from 'vitest';
import { podIps } from './cni-result.ts';

describe('podIps', () => {
  it('keeps the sandbox interface addresses, IPv4 first, without prefix length', () => {
    const result = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/x' }],
      ips: [
        { address: 'fd00::5/64', interface: 2 },
        { address: '10.88.0.1/24', interface: 0 },
        { address: '10.88.0.5/24', interface: 2, gateway: '10.88.0.1' },
      ],
    };
    expect(podIps(result)).toEqual(['10.88.0.5', 'fd00::5']);
  });

  it('takes addresses without an interface index, and 0.2.0 ip4/ip6', () => {
    expect(podIps({ ips: [{ address: '10.1.0.2/16' }] })).toEqual(['10.1.0.2']);
    expect(podIps({ cniVersion: '0.2.0', ip6: { ip: 'fd00::2/64' }, ip4: { ip: '10.2.0.2/16' } })).toEqual([
      '10.2.0.2',
      'fd00::2',
    ]);
    expect(podIps({})).toEqual([]);
  });
});
