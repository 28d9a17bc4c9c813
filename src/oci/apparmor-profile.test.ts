import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { DEFAULT_PROFILE_NAME, defaultProfileText, ensureProfileLoaded } from './apparmor-profile.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-apparmor-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A host view with AppArmor on and these profiles loaded. */
function host(loaded: string[]) {
  const profilesFile = path.join(dir, `profiles-${loaded.length}-${Math.random()}`);
  fs.writeFileSync(profilesFile, loaded.map((p) => `${p} (enforce)\n`).join(''));
  return { enabled: true, defaultProfile: DEFAULT_PROFILE_NAME, profilesFile };
}

describe('the RuntimeDefault AppArmor profile', () => {
  it('is loaded on first use, and not again once the kernel lists it', async () => {
    const loads: string[] = [];
    await ensureProfileLoaded(DEFAULT_PROFILE_NAME, host(['other']), async (text) => void loads.push(text));
    expect(loads).toHaveLength(1);
    expect(loads[0]).toContain(`profile ${DEFAULT_PROFILE_NAME} flags=(attach_disconnected,mediate_deleted)`);
    expect(loads[0]).toContain('deny mount,');
    await ensureProfileLoaded(
      DEFAULT_PROFILE_NAME,
      host([DEFAULT_PROFILE_NAME]),
      async (text) => void loads.push(text),
    );
    expect(loads).toHaveLength(1);
  });

  it('is refused for a Localhost profile the host has not loaded, with its name', async () => {
    await expect(ensureProfileLoaded('my-profile', host(['other']))).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('AppArmor profile "my-profile" is not loaded on this host'),
    });
    await ensureProfileLoaded('my-profile', host(['my-profile']));
  });

  // scripts/setup.sh installs apparmor_parser; the kernel need not have AppArmor for -Q (parse only).
  it('is a profile apparmor_parser accepts', async () => {
    const file = path.join(dir, 'profile');
    fs.writeFileSync(file, defaultProfileText(DEFAULT_PROFILE_NAME, 'crid-daemon'));
    const parsed = await execa('apparmor_parser', ['-Q', '-K', file], { reject: false });
    expect(parsed.stderr.split('\n').filter((l) => l && !l.startsWith('Cache read/write disabled'))).toEqual([]);
    expect(parsed.exitCode).toBe(0);
  });
});
