// Writes proto/descriptors/<name>.json from the .proto files each is made of (src/proto.ts), for
// crid to load at start instead of parsing .proto text. Run after changing a file in proto/:
// `npm run gen:descriptors`; a test fails while a descriptor differs from its .proto files.
import fs from 'node:fs';
import path from 'node:path';
import { DESCRIPTORS, descriptorFile, parseProtos, type DescriptorName } from '../src/proto.ts';

for (const name of Object.keys(DESCRIPTORS) as DescriptorName[]) {
  const file = descriptorFile(name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(parseProtos(name).toJSON())}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
