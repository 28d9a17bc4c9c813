// vitest globalSetup: the whole suite runs on a host prepared for crun (see host-cgroups.ts), and
// the host is given back as it was found.
import { prepareHostForCrun } from './host-cgroups.ts';

export default function setup(): Promise<() => Promise<void>> {
  return prepareHostForCrun();
}
