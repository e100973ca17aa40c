#!/bin/sh
# Installs what this checkout needs on Debian 12, only what is missing:
# Debian packages (build toolchain, strongSwan, qemu and friends for the lab)
# and the npm dependencies (which build the native addon). Fast when nothing
# is missing, so `npm test` and `npm run demo` call it every time.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="g++ make python3 clang llvm libbpf-dev linux-libc-dev
  iproute2 ethtool iputils-ping strace bpftool kmod coreutils xz-utils
  strongswan-charon strongswan-swanctl libstrongswan-standard-plugins libcharon-extra-plugins
  qemu-system-x86 busybox-static cpio jq openssl"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "ipsec-offload: Node.js >= 20 is required (found: $(node -v 2>/dev/null || echo none))" >&2
  exit 1
fi

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ipsec-offload: missing Debian packages:$missing" >&2
    echo "  install them as root: apt-get install -y --no-install-recommends$missing" >&2
    exit 1
  fi
  echo "bootstrap: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing > /dev/null
fi

# npm ci when node_modules does not match package-lock.json (or the addon is missing).
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat node_modules/.bootstrap-lock-sha 2>/dev/null || true)
if [ "$want" != "$have" ] || [ ! -f native/build/Release/ipsec_offload.node ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > node_modules/.bootstrap-lock-sha
fi
