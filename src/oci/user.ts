// The process user of a container: CRI's run_as_* fields and the image's USER, resolved against the
// rootfs' /etc/passwd and /etc/group the way containerd does (pkg/oci WithUser / WithAdditionalGIDs).
import { invalidArgument } from '../errors.ts';
import { linuxId, quote } from './cri-values.ts';
import type { User } from './spec-types.ts';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The rootfs' /etc/passwd and /etc/group contents; null or undefined when the file is absent. */
export interface UserFiles {
  passwd?: string | null;
  group?: string | null;
}

const MAX_ID = 2 ** 31 - 1;

/** /etc/passwd entries; comments, blank and malformed lines are skipped. */
export function parsePasswd(text: string | null | undefined): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const fields of records(text)) {
    const uid = parseId(fields[2]);
    const gid = parseId(fields[3]);
    if (fields[0] && uid !== undefined && gid !== undefined) entries.push({ name: fields[0], uid, gid });
  }
  return entries;
}

/** /etc/group entries; comments, blank and malformed lines are skipped. */
export function parseGroup(text: string | null | undefined): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const fields of records(text)) {
    const gid = parseId(fields[2]);
    const members = (fields[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    if (fields[0] && gid !== undefined) entries.push({ name: fields[0], gid, members });
  }
  return entries;
}

function records(text: string | null | undefined): string[][] {
  return (text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

function parseId(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

const isNumeric = (part: string): boolean => /^\d+$/.test(part);

/** What a user string (`uid`, `name`, `uid:gid`, `name:group`, …) means in this rootfs. */
export function resolveUserString(userstr: string, files: UserFiles, field: string): { uid: number; gid: number } {
  const parts = userstr.split(':');
  if (parts.length > 2 || parts.some((p) => p === ''))
    throw invalidArgument(`${field} ${quote(userstr)}: expected user, uid, user:group or uid:gid`);
  const [userPart, groupPart] = parts;
  let uid: number;
  let gid: number;
  if (isNumeric(userPart)) {
    uid = idOf(userPart, field, userstr);
    gid = parsePasswd(files.passwd).find((u) => u.uid === uid)?.gid ?? 0;
  } else {
    const entry = parsePasswd(files.passwd).find((u) => u.name === userPart);
    if (!entry) throw invalidArgument(`${field} ${quote(userstr)}: no such user ${quote(userPart)} in /etc/passwd`);
    ({ uid, gid } = entry);
  }
  if (groupPart !== undefined) gid = resolveGroup(groupPart, files, field, userstr);
  return { uid, gid };
}

function resolveGroup(groupPart: string, files: UserFiles, field: string, userstr: string): number {
  if (isNumeric(groupPart)) return idOf(groupPart, field, userstr);
  const entry = parseGroup(files.group).find((g) => g.name === groupPart);
  if (!entry) throw invalidArgument(`${field} ${quote(userstr)}: no such group ${quote(groupPart)} in /etc/group`);
  return entry.gid;
}

function idOf(part: string, field: string, userstr: string): number {
  const id = parseId(part);
  if (id === undefined) throw invalidArgument(`${field} ${quote(userstr)}: id ${part} is out of range [0, ${MAX_ID}]`);
  return id;
}

/**
 * The gids of the groups that list the user as a member, as containerd's Merge policy adds them:
 * the user is named by uid (looked up in /etc/passwd; unknown uid → none) or by name, and the
 * group that carries the user's own name is not counted.
 */
export function memberGids(user: string, files: UserFiles): number[] {
  const name = isNumeric(user) ? parsePasswd(files.passwd).find((u) => u.uid === Number(user))?.name : user;
  if (name === undefined) return [];
  return parseGroup(files.group)
    .filter((g) => g.name !== name && g.members.includes(name))
    .map((g) => g.gid);
}

/** Sorted, without duplicates. */
export function mergeGids(...lists: number[][]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

export interface UserRequest {
  /** run_as_username, or "" */
  username: string;
  /** run_as_user's value, or undefined when the message is absent */
  uid?: string;
  /** run_as_group's value, or undefined when the message is absent */
  gid?: string;
  supplementalGroups: string[];
  /** Strict: no groups from /etc/group membership. */
  strict: boolean;
  /** The image's USER, "" when unset. */
  imageUser: string;
  /** Prefix for error messages, e.g. "container config: linux.security_context". */
  field: string;
}

/**
 * The OCI process user. The user comes from run_as_username, else run_as_user, else the image's
 * USER, else root; run_as_group overrides the group and needs a requested user (containerd and
 * kubelet's conformance tests refuse it alone). additionalGids always hold the primary gid, the
 * groups listing the user (unless strict) and supplemental_groups.
 */
export function resolveProcessUser(req: UserRequest, files: UserFiles): User {
  const fromRequest = req.username !== '' || req.uid !== undefined;
  if (req.gid !== undefined && !fromRequest)
    throw invalidArgument(`user group ${quote(req.gid)} is specified without user`);
  let userstr: string;
  let userField: string;
  if (req.username !== '') {
    userstr = req.username;
    userField = `${req.field}.run_as_username`;
  } else if (req.uid !== undefined) {
    userstr = String(linuxId(req.uid, `${req.field}.run_as_user`));
    userField = `${req.field}.run_as_user`;
  } else if (req.imageUser !== '') {
    userstr = req.imageUser;
    userField = 'image config User';
  } else {
    userstr = '0';
    userField = 'default user';
  }
  if (fromRequest && userstr.includes(':'))
    throw invalidArgument(`${userField} ${quote(userstr)}: must not contain ':'`);
  const resolved = resolveUserString(userstr, files, userField);
  if (req.gid !== undefined) resolved.gid = linuxId(req.gid, `${req.field}.run_as_group`);
  const supplemental = req.supplementalGroups.map((g, i) => linuxId(g, `${req.field}.supplemental_groups[${i}]`));
  const members = req.strict ? [] : memberGids(userstr.split(':')[0], files);
  return { uid: resolved.uid, gid: resolved.gid, additionalGids: mergeGids([resolved.gid], members, supplemental) };
}
