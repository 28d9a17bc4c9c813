import { describe, expect, it } from 'vitest';
import { containerLogPath } from './log-path.ts';

describe('containerLogPath', () => {
  it('joins the pod log directory and the container path', () => {
    expect(containerLogPath('/var/log/pods/ns_p_uid', 'app/0.log')).toBe('/var/log/pods/ns_p_uid/app/0.log');
    expect(containerLogPath('/var/log/pods/x/', './app/../app/1.log')).toBe('/var/log/pods/x/app/1.log');
  });

  it('is empty when either part is missing', () => {
    expect(containerLogPath('', 'app/0.log')).toBe('');
    expect(containerLogPath('/var/log/pods/x', '')).toBe('');
  });

  it('refuses paths that leave the directory or are absolute', () => {
    expect(() => containerLogPath('/var/log/pods/x', '../y/0.log')).toThrow(/escapes/);
    expect(() => containerLogPath('/var/log/pods/x', 'a/../../0.log')).toThrow(/escapes/);
    expect(() => containerLogPath('/var/log/pods/x', '.')).toThrow(/escapes/);
    expect(() => containerLogPath('/var/log/pods/x', '/etc/passwd')).toThrow(/relative/);
  });
});
