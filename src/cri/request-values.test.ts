import { describe, expect, it } from 'vitest';
import { checkValues, requestType } from './request-values.ts';
import { enumFieldPaths, pathName, requestWith, RPCS } from '../../test/helpers/cri-enum-fields.ts';

describe('checkValues', () => {
  it('sees the enum fields of the CRI requests (the table below is not empty by accident)', () => {
    const all = RPCS.flatMap(({ service, rpc }) => enumFieldPaths(requestType(service, rpc)).map(pathName));
    expect(all.length).toBeGreaterThan(30);
    expect(all).toContain('config.stop_signal');
    expect(all).toContain('config.mounts.propagation');
  });

  for (const { service, rpc } of RPCS) {
    const type = requestType(service, rpc);
    for (const path of enumFieldPaths(type)) {
      it(`refuses an unknown number in ${rpc} ${pathName(path)}`, () => {
        const check = () => checkValues(type, requestWith(path, 99));
        expect(check).toThrow(expect.objectContaining({ kind: 'InvalidArgument' }));
        expect(check).toThrow(`${pathName(path)}: "99" is not a value of`);
      });
    }
  }

  it('accepts known names and absent fields', () => {
    const type = requestType('RuntimeService', 'CreateContainer');
    expect(() => checkValues(type, {})).not.toThrow();
    const config = {
      stop_signal: 'SIGUSR1',
      mounts: [{ propagation: 'PROPAGATION_PRIVATE' }],
      linux: null,
      labels: { a: 'b' },
    };
    expect(() => checkValues(type, { config })).not.toThrow();
  });

  it("refuses a name that is not the enum's", () => {
    const type = requestType('RuntimeService', 'ListContainers');
    expect(() => checkValues(type, { filter: { state: { state: 'CONTAINER_GONE' } } })).toThrow(
      'filter.state.state: "CONTAINER_GONE" is not a value of ContainerState',
    );
  });

  it('refuses port numbers out of range, in every request that carries them', () => {
    const run = requestType('RuntimeService', 'RunPodSandbox');
    expect(() => checkValues(run, { config: { port_mappings: [{ container_port: 80, host_port: 70000 }] } })).toThrow(
      'config.port_mappings.host_port: "70000" is out of range [0, 65535]',
    );
    expect(() => checkValues(run, { config: { port_mappings: [{ container_port: -1, host_port: 0 }] } })).toThrow(
      'config.port_mappings.container_port',
    );
    const create = requestType('RuntimeService', 'CreateContainer');
    expect(() => checkValues(create, { sandbox_config: { port_mappings: [{ container_port: 65536 }] } })).toThrow(
      'sandbox_config.port_mappings.container_port',
    );
    const forward = requestType('RuntimeService', 'PortForward');
    expect(() => checkValues(forward, { pod_sandbox_id: 'x', port: [80, 0] })).toThrow(
      'port: "0" is out of range [1, 65535]',
    );
    expect(() => checkValues(forward, { pod_sandbox_id: 'x', port: [80, 65535] })).not.toThrow();
    expect(() => checkValues(run, { config: { port_mappings: [{ container_port: 80, host_port: 0 }] } })).not.toThrow();
  });

  it('looks at every item of a repeated field', () => {
    const type = requestType('RuntimeService', 'RunPodSandbox');
    const ports = [{ protocol: 'TCP' }, { protocol: 7 }];
    expect(() => checkValues(type, { config: { port_mappings: ports } })).toThrow('config.port_mappings.protocol: "7"');
  });
});
