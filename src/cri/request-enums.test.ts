import { describe, expect, it } from 'vitest';
import { checkEnums, requestType } from './request-enums.ts';
import { enumFieldPaths, pathName, requestWith, RPCS } from '../../test/helpers/cri-enum-fields.ts';

describe('checkEnums', () => {
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
        const check = () => checkEnums(type, requestWith(path, 99));
        expect(check).toThrow(expect.objectContaining({ kind: 'InvalidArgument' }));
        expect(check).toThrow(`${pathName(path)}: "99" is not a value of`);
      });
    }
  }

  it('accepts known names and absent fields', () => {
    const type = requestType('RuntimeService', 'CreateContainer');
    expect(() => checkEnums(type, {})).not.toThrow();
    const config = { stop_signal: 'SIGUSR1', mounts: [{ propagation: 'PROPAGATION_PRIVATE' }], linux: null, labels: { a: 'b' } };
    expect(() => checkEnums(type, { config })).not.toThrow();
  });

  it("refuses a name that is not the enum's", () => {
    const type = requestType('RuntimeService', 'ListContainers');
    expect(() => checkEnums(type, { filter: { state: { state: 'CONTAINER_GONE' } } })).toThrow(
      'filter.state.state: "CONTAINER_GONE" is not a value of ContainerState',
    );
  });

  it('looks at every item of a repeated field', () => {
    const type = requestType('RuntimeService', 'RunPodSandbox');
    const ports = [{ protocol: 'TCP' }, { protocol: 7 }];
    expect(() => checkEnums(type, { config: { port_mappings: ports } })).toThrow('config.port_mappings.protocol: "7"');
  });
});
