import { describe, expect, it } from 'vitest';
import {
  memberGids,
  parseGroup,
  parsePasswd,
  resolveProcessUser,
  resolveUserString,
  type UserRequest,
} from './user.ts';

const files = {
  passwd: [
    'root:x:0:0:root:/root:/bin/sh',
    '# a comment',
    '',
    'daemon:x:1:1::/:/bin/false',
    'app:x:1000:1000:App:/home/app:/bin/sh',
    'broken line',
    'huge:x:99999999999:1::/:/bin/false',
    'nobody:x:65534:65534::/:/bin/false',
  ].join('\n'),
  group: [
    'root:x:0:root',
    'wheel:x:10:root,app',
    'app:x:1000:app',
    'audio:x:29: app , other',
    'staff:x:50:',
    'nogroup:x:65534:',
  ].join('\n'),
};

const request = (over: Partial<UserRequest> = {}): UserRequest => ({
  username: '',
  supplementalGroups: [],
  strict: false,
  imageUser: '',
  field: 'container config: linux.security_context',
  ...over,
});

describe('passwd and group parsing', () => {
  it('skips comments, blank, malformed and out-of-range lines', () => {
    expect(parsePasswd(files.passwd).map((u) => u.name)).toEqual(['root', 'daemon', 'app', 'nobody']);
    expect(parseGroup(files.group).find((g) => g.name === 'audio')?.members).toEqual(['app', 'other']);
    expect(parsePasswd(null)).toEqual([]);
  });
});

describe('resolveUserString', () => {
  it.each([
    ['0', { uid: 0, gid: 0 }],
    ['1000', { uid: 1000, gid: 1000 }],
    ['4242', { uid: 4242, gid: 0 }],
    ['app', { uid: 1000, gid: 1000 }],
    ['1000:50', { uid: 1000, gid: 50 }],
    ['app:staff', { uid: 1000, gid: 50 }],
    ['4242:nogroup', { uid: 4242, gid: 65534 }],
    ['nobody:7', { uid: 65534, gid: 7 }],
  ])('%s', (userstr, want) => {
    expect(resolveUserString(userstr, files, 'image config User')).toEqual(want);
  });

  it('names the field, the value and the missing entry', () => {
    expect(() =>
      resolveUserString('nosuch', files, 'container config: linux.security_context.run_as_username'),
    ).toThrow(
      'container config: linux.security_context.run_as_username "nosuch": no such user "nosuch" in /etc/passwd',
    );
    expect(() => resolveUserString('app:nosuch', files, 'image config User')).toThrow(
      /no such group "nosuch" in \/etc\/group/,
    );
    expect(() => resolveUserString('a:b:c', files, 'image config User')).toThrow(/expected user, uid/);
    expect(() => resolveUserString('4294967296', files, 'image config User')).toThrow(/out of range/);
    expect(() => resolveUserString('app', { passwd: null }, 'image config User')).toThrow(/no such user/);
  });

  it('treats a numeric uid without /etc/passwd as gid 0', () => {
    expect(resolveUserString('123', {}, 'x')).toEqual({ uid: 123, gid: 0 });
  });
});

describe('memberGids', () => {
  it('lists the groups naming the user, by name or uid, but not its own group', () => {
    expect(memberGids('app', files)).toEqual([10, 29]);
    expect(memberGids('1000', files)).toEqual([10, 29]);
    expect(memberGids('0', files)).toEqual([10]);
    expect(memberGids('4242', files)).toEqual([]);
  });
});

describe('resolveProcessUser', () => {
  it('runs as root with root memberships by default', () => {
    expect(resolveProcessUser(request(), files)).toEqual({ uid: 0, gid: 0, additionalGids: [0, 10] });
  });

  it('uses the image USER, by name or uid:gid', () => {
    expect(resolveProcessUser(request({ imageUser: 'app' }), files)).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 29, 1000],
    });
    expect(resolveProcessUser(request({ imageUser: '1000:50' }), files)).toEqual({
      uid: 1000,
      gid: 50,
      additionalGids: [10, 29, 50],
    });
  });

  it('prefers run_as_username over run_as_user over the image', () => {
    expect(resolveProcessUser(request({ username: 'daemon', uid: '1000', imageUser: 'app' }), files).uid).toBe(1);
    expect(resolveProcessUser(request({ uid: '65534', imageUser: 'app' }), files)).toEqual({
      uid: 65534,
      gid: 65534,
      additionalGids: [65534],
    });
  });

  it('applies run_as_group and supplemental groups, sorted and unique', () => {
    const user = resolveProcessUser(
      request({ uid: '1000', gid: '3000', supplementalGroups: ['4000', '10', '3000'] }),
      files,
    );
    expect(user).toEqual({ uid: 1000, gid: 3000, additionalGids: [10, 29, 3000, 4000] });
  });

  it('refuses run_as_group without run_as_user or run_as_username', () => {
    expect(() => resolveProcessUser(request({ gid: '7', imageUser: 'app' }), files)).toThrow(
      'user group "7" is specified without user',
    );
    expect(resolveProcessUser(request({ username: 'app', gid: '7' }), files)).toEqual({
      uid: 1000,
      gid: 7,
      additionalGids: [7, 10, 29],
    });
  });

  it('skips /etc/group memberships under the Strict policy', () => {
    expect(
      resolveProcessUser(request({ imageUser: 'app', strict: true, supplementalGroups: ['5'] }), files).additionalGids,
    ).toEqual([5, 1000]);
  });

  it('rejects bad requests naming the field', () => {
    expect(() => resolveProcessUser(request({ username: 'nosuch' }), files)).toThrow(
      'container config: linux.security_context.run_as_username "nosuch": no such user "nosuch" in /etc/passwd',
    );
    expect(() => resolveProcessUser(request({ uid: '-1' }), files)).toThrow(/run_as_user: -1 is outside/);
    expect(() => resolveProcessUser(request({ uid: '1', gid: '99999999999' }), files)).toThrow(/run_as_group/);
    expect(() => resolveProcessUser(request({ supplementalGroups: ['x'] }), files)).toThrow(/supplemental_groups\[0\]/);
    expect(() => resolveProcessUser(request({ username: 'app:wheel' }), files)).toThrow(/must not contain ':'/);
    expect(() => resolveProcessUser(request({ imageUser: 'ghost' }), files)).toThrow(/image config User "ghost"/);
  });
});
