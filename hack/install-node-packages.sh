#!/usr/bin/env bash
# Debian packages of the real node and of the image builds (root only): the container runtime
# (containerd, runc, CNI plugins), image tools (buildah, skopeo, mmdebstrap, gcc for the static
# pause binary) and what kube-proxy and the kubelet call (iptables, conntrack, socat).
# Does nothing when everything is installed already.
set -euo pipefail
PACKAGES=(containerd runc containernetworking-plugins buildah skopeo mmdebstrap uidmap fuse-overlayfs
  iptables conntrack socat ethtool iproute2 gcc libc6-dev binutils)
missing=()
for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
[[ ${#missing[@]} -eq 0 ]] && exit 0
[[ $(id -u) == 0 ]] || { echo "needs root to install: ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
