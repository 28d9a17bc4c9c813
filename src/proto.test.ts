import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { DESCRIPTORS, criRoot, descriptorFile, loadRoot, parseProtos, type DescriptorName } from './proto.ts';

describe('proto descriptors', () => {
  for (const name of Object.keys(DESCRIPTORS) as DescriptorName[]) {
    it(`${name}.json is what its .proto files say (npm run gen:descriptors rewrites it)`, () => {
      expect(JSON.parse(fs.readFileSync(descriptorFile(name), 'utf8'))).toEqual(parseProtos(name).toJSON());
    });
  }

  it('gives gRPC the CRI services and the codecs their messages', () => {
    expect(Object.keys(criRoot().lookupService('runtime.v1.RuntimeService').methods)).toContain('RunPodSandbox');
    expect(loadRoot('shims').lookupType('containerd.task.v2.CreateTaskRequest').fields.bundle?.type).toBe('string');
  });
});
