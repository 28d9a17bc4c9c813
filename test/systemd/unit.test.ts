// The shipped systemd unit: containerd's settings, a comment on every line, readiness by sd_notify.
import { describe, expect, it } from 'vitest';
import { readUnit } from './unit-file.ts';

describe('config/crid.service', () => {
  const unit = readUnit();

  it('has containerd-style settings and Type=notify', () => {
    expect(unit.get('Service', 'Type')).toBe('notify');
    expect(unit.get('Service', 'ExecStart')).toBe('/usr/local/bin/crid serve --config /etc/crid/crid.toml');
    expect(unit.get('Service', 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(unit.get('Service', 'Delegate')).toBe('yes');
    expect(unit.get('Service', 'KillMode')).toBe('process');
    expect(unit.get('Service', 'OOMScoreAdjust')).toBe('-999');
    expect(unit.get('Service', 'Restart')).toBe('always');
    expect(unit.get('Service', 'LimitNOFILE')).toBe('1048576');
    expect(unit.get('Service', 'TasksMax')).toBe('infinity');
    expect(unit.get('Install', 'WantedBy')).toBe('multi-user.target');
  });

  it('explains every setting in a comment right above it', () => {
    expect(unit.uncommented).toEqual([]);
  });
});
