// The images critest v1.26.1 pulls, rebuilt offline and pushed to a local registry under their
// upstream repository names (a hosts.toml mirror per upstream registry points crid at it). What each
// one must do comes from the cri-tools tarball's images/*/Dockerfile and pkg/validate/*.go.
//
// The base is Debian's dynamic busybox, not busybox-static: the static build runs applets inside
// the shell, and the MaskedPaths spec needs `sh -c ls` to exec /bin/ls (masked) and fail with
// "Permission denied". Debian's busybox has no pgrep or ipcs, so the base carries small scripts.
// The busybox .deb and the nonewprivs binary are cached in the cache dir; the layers, a few MB,
// are built on every run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildLayer,
  dir,
  file,
  hardlink,
  pushImage,
  type BuiltLayer,
  type LayerEntry,
} from '../helpers/image-builder.ts';

/** Upstream registries whose repositories the local registry serves. */
export const MIRRORED_REGISTRIES = ['registry.k8s.io', 'gcr.io', 'docker.io', 'public.ecr.aws'];

export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.9';
const E2E = 'registry.k8s.io/e2e-test-images';
const STAGING = 'gcr.io/k8s-staging-cri-tools';
const ECR_LIBRARY = 'public.ecr.aws/docker/library';

interface ImageDefinition {
  refs: string[];
  /** Entries of a layer on top of the busybox base; none for the pause image (its own base). */
  entries: LayerEntry[];
  config: Record<string, unknown>;
  base: 'busybox' | 'none';
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
www-data:x:33:
users:x:100:
nogroup:x:65534:
`;

// critest runs `pgrep sleep` to see that a timed-out exec was killed: names are matched as
// substrings of /proc/PID/comm, which is all the specs use of pgrep.
const PGREP = `#!/bin/sh
found=1
for d in /proc/[0-9]*; do
  read -r comm < "$d/comm" 2>/dev/null || continue
  case "$comm" in *"$1"*) echo "\${d#/proc/}"; found=0 ;; esac
done
exit $found
`;

// The HostIpc specs look for a segment id made on the host in `ipcs -m`; /proc/sysvipc/shm lists
// the segments of the reader's IPC namespace.
const IPCS = `#!/bin/sh
echo "------ Shared Memory Segments --------"
echo "key        shmid      owner      perms      bytes      nattch"
tail -n +2 /proc/sysvipc/shm | while read -r key shmid perms size cpid lpid nattch uid rest; do
  echo "$key $shmid $uid $perms $size $nattch"
done
`;

// nginx stand-in: busybox httpd, run under this script so that a process named nginx exists (a
// script's comm is its own file name) with nginx's process title in its command line (the
// ContainerPID spec greps /proc/1/cmdline for "master process") and its pid in /var/run/nginx.pid,
// which the HostPID spec compares with `pidof nginx`. It ends on SIGTERM as nginx does.
function nginxScript(port: number): string {
  return `#!/bin/sh
case "$1" in
  "nginx: master process"*) ;;
  *) exec "$0" "nginx: master process nginx $*" ;;
esac
echo $$ > /var/run/nginx.pid
httpd -f -p ${port} -h /usr/share/nginx/html &
trap 'kill $!; exit 0' TERM INT
wait
`;
}

// httpd stand-in: the multi-container spec waits for apache's start-up line in the log.
const HTTPD_FOREGROUND = `#!/bin/sh
echo "[core:notice] AH00094: Command line: 'httpd -D FOREGROUND'" >&2
httpd -f -p 80 -h /usr/local/apache2/htdocs &
trap 'kill $!; exit 0' TERM INT
wait
`;

// The NoNewPrivs specs run this setuid-root program as uid 1000 and read the effective uid it
// prints. It has to be a binary of its own (the kernel ignores the setuid bit of scripts, and a
// setuid busybox would make every applet setuid), so it is built with Go, statically, once.
const NONEWPRIVS_GO = `package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("Effective uid: %d\\n", os.Geteuid())
}
`;

function script(name: string, body: string): LayerEntry {
  return file(name, body, { mode: 0o755 });
}

function webServer(port: number): Pick<ImageDefinition, 'entries' | 'config'> {
  return {
    entries: [
      dir('usr/share/nginx'),
      dir('usr/share/nginx/html'),
      file('usr/share/nginx/html/index.html', '<h1>Welcome to nginx!</h1>\n'),
      script('usr/sbin/nginx', nginxScript(port)),
    ],
    config: { Cmd: ['nginx', '-g', 'daemon off;'] },
  };
}

/** The image-test Dockerfile: busybox plus an empty file named by the build argument. */
function testImage(refs: string[], name: string): ImageDefinition {
  return { refs, base: 'busybox', entries: [file(name, '')], config: { Cmd: ['/bin/sh'] } };
}

function userImage(repo: string, user: string): ImageDefinition {
  return { refs: [`${STAGING}/${repo}`], base: 'busybox', entries: [], config: { Cmd: ['/bin/sh'], User: user } };
}

function definitions(nonewprivs: Buffer): ImageDefinition[] {
  return [
    {
      refs: [PAUSE_IMAGE],
      base: 'none',
      entries: [file('pause', fs.readFileSync('/usr/bin/catatonit'), { mode: 0o755 })],
      config: { Entrypoint: ['/pause', '-P'], Cmd: null, User: '65535:65535' },
    },
    {
      refs: [
        `${E2E}/busybox:1.29-2`,
        `${ECR_LIBRARY}/busybox:1.35.0-glibc`,
        `${ECR_LIBRARY}/busybox:1-uclibc`,
        `${ECR_LIBRARY}/busybox:1`,
        `${ECR_LIBRARY}/busybox:1-glibc`,
        `${ECR_LIBRARY}/busybox:1-musl`,
      ],
      base: 'busybox',
      entries: [],
      config: { Cmd: ['sh'] },
    },
    { refs: [`${E2E}/nginx:1.14-2`], base: 'busybox', ...webServer(80) },
    { refs: [`${STAGING}/hostnet-nginx-amd64`], base: 'busybox', ...webServer(12003) },
    {
      refs: [`${E2E}/httpd:2.4.39-4`],
      base: 'busybox',
      entries: [
        dir('usr/local/apache2'),
        dir('usr/local/apache2/htdocs'),
        file('usr/local/apache2/htdocs/index.html', '<html><body><h1>It works!</h1></body></html>\n'),
        script('usr/local/bin/httpd-foreground', HTTPD_FOREGROUND),
      ],
      config: { Cmd: ['httpd-foreground'] },
    },
    {
      refs: [`${E2E}/nonewprivs:1.3`],
      base: 'busybox',
      entries: [file('usr/local/bin/nnp', nonewprivs, { mode: 0o4755, uid: 0, gid: 0 })],
      config: { Entrypoint: ['/usr/local/bin/nnp'], Cmd: null },
    },
    testImage([`${STAGING}/test-image-latest`], 'test-image-latest'),
    testImage([`${STAGING}/test-image-1:latest`], 'test-image-1'),
    testImage([`${STAGING}/test-image-2:latest`], 'test-image-2'),
    testImage([`${STAGING}/test-image-3:latest`], 'test-image-3'),
    testImage([`${STAGING}/test-image-tag:test`], 'test'),
    testImage([`${STAGING}/test-image-tag:all`], 'all'),
    testImage(
      [`${STAGING}/test-image-tags:1`, `${STAGING}/test-image-tags:2`, `${STAGING}/test-image-tags:3`],
      'same-image',
    ),
    userImage('test-image-user-uid', '1002'),
    userImage('test-image-user-username', 'www-data'),
    userImage('test-image-user-uid-group', '1003:1004'),
    userImage('test-image-user-username-group', 'www-data:1004'),
    {
      refs: [`${STAGING}/test-image-predefined-group`],
      base: 'busybox',
      entries: [
        file('etc/passwd', `${PASSWD}default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n`),
        file('etc/group', `${GROUP}default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n`),
        dir('home/default-user', { uid: 1000, gid: 1000 }),
      ],
      config: { Cmd: ['sh'], User: '1000' },
    },
  ];
}

/** Debian's dynamic busybox .deb, downloaded once into cacheDir. */
function busyboxDeb(cacheDir: string): string {
  const cached = () => fs.readdirSync(cacheDir).find((f) => /^busybox_.*\.deb$/.test(f));
  if (cached() === undefined) execFileSync('apt-get', ['download', '-q', 'busybox'], { cwd: cacheDir, stdio: 'pipe' });
  const deb = cached();
  if (deb === undefined) throw new Error(`apt-get download busybox left no .deb in ${cacheDir}`);
  return path.join(cacheDir, deb);
}

/** Absolute paths of the shared libraries a binary loads, as ldd resolves them on this host. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]!);
}

const BASE_DIRS = [
  'bin',
  'dev',
  'etc',
  'home',
  'proc',
  'sys',
  'usr/bin',
  'usr/sbin',
  'usr/local/bin',
  'var/run',
  'var/www',
];

/** Directory entries for these paths and all their parents, parents first. */
function dirsFor(paths: string[]): LayerEntry[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    for (let d = p; d !== '.'; d = path.dirname(d)) dirs.add(d);
  }
  return [...dirs].sort().map((d) => dir(d));
}

async function busyboxBaseLayer(cacheDir: string): Promise<BuiltLayer> {
  const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-busybox-deb-'));
  try {
    execFileSync('dpkg-deb', ['-x', busyboxDeb(cacheDir), unpacked]);
    const busybox = path.join(unpacked, 'bin/busybox');
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
      .split('\n')
      .filter((a) => a !== '' && a !== 'busybox');
    const libraries = sharedLibraries(busybox);
    return await buildLayer([
      ...dirsFor([...BASE_DIRS, ...libraries.map((lib) => path.dirname(lib).slice(1))]),
      dir('root', { mode: 0o700 }),
      dir('tmp', { mode: 0o1777 }),
      ...libraries.map((lib) => file(lib.slice(1), fs.readFileSync(lib), { mode: 0o755 })),
      file('bin/busybox', fs.readFileSync(busybox), { mode: 0o755 }),
      ...applets.map((a) => hardlink(`bin/${a}`, 'bin/busybox')),
      script('bin/pgrep', PGREP),
      script('bin/ipcs', IPCS),
      file('etc/passwd', PASSWD),
      file('etc/group', GROUP),
    ]);
  } finally {
    fs.rmSync(unpacked, { recursive: true, force: true });
  }
}

/** The nonewprivs program (prints its effective uid), built once with Go into cacheDir. */
function nonewprivsBinary(cacheDir: string): Buffer {
  const hash = createHash('sha256').update(NONEWPRIVS_GO).digest('hex').slice(0, 12);
  const binary = path.join(cacheDir, `nonewprivs-${hash}`);
  if (!fs.existsSync(binary)) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-nonewprivs-'));
    try {
      fs.writeFileSync(path.join(work, 'main.go'), NONEWPRIVS_GO);
      const env = {
        ...process.env,
        CGO_ENABLED: '0',
        GOPROXY: 'off',
        GOFLAGS: '',
        GOCACHE: path.join(work, 'cache'),
        GOPATH: path.join(work, 'gopath'),
      };
      execFileSync('go', ['build', '-o', `${binary}.tmp`, 'main.go'], {
        cwd: work,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      fs.renameSync(`${binary}.tmp`, binary);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return fs.readFileSync(binary);
}

/** `registry.k8s.io/e2e-test-images/busybox:1.29-2` → repository and tag on the mirror. */
export function mirrorLocation(ref: string): { repository: string; tag: string } {
  const withoutDomain = ref.slice(ref.indexOf('/') + 1);
  const colon = withoutDomain.lastIndexOf(':');
  return colon > withoutDomain.lastIndexOf('/')
    ? { repository: withoutDomain.slice(0, colon), tag: withoutDomain.slice(colon + 1) }
    : { repository: withoutDomain, tag: 'latest' };
}

/** Builds every image critest pulls and pushes it to the registry at `address`. */
export async function pushCritestImages(address: string, cacheDir: string): Promise<void> {
  fs.mkdirSync(cacheDir, { recursive: true });
  const base = await busyboxBaseLayer(cacheDir);
  for (const image of definitions(nonewprivsBinary(cacheDir))) {
    const layers = image.base === 'busybox' ? [base] : [];
    if (image.entries.length > 0) layers.push(await buildLayer(image.entries));
    const config = { Env: [PATH_ENV], ...image.config };
    for (const ref of image.refs) {
      const { repository, tag } = mirrorLocation(ref);
      await pushImage(address, repository, layers, { tag, config });
    }
  }
}

/** A hosts.toml tree (registry.config_path) sending every mirrored registry to `address`. */
export function writeMirrorHosts(configDir: string, address: string): void {
  for (const registry of MIRRORED_REGISTRIES) {
    const server = registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
    fs.mkdirSync(path.join(configDir, registry), { recursive: true });
    fs.writeFileSync(
      path.join(configDir, registry, 'hosts.toml'),
      `server = "${server}"\n[host."http://${address}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
}
