#!/usr/bin/env bash
# Builds the container images of the real node without Docker and without any container registry:
# a Debian bookworm base made by mmdebstrap from Debian's packages, then buildah. Needs root and the
# packages that `hack/install-node-packages.sh` installs.
#
#   hack/build-images.sh [all|base|pause|coredns|model-server|redis|project|keda]   build what is missing
#   hack/build-images.sh --print NAME     "<oci archive>\t<image reference>" of NAME (built if missing)
#   IMAGE=ref hack/build-images.sh project   also tag the project's image as `ref` in buildah's store
#   hack/build-images.sh push NAME DEST    copy NAME's archive to DEST (docker://... or any skopeo dest)
#
# Every image is an OCI archive under the cache (~/.cache/aim-engine/images), named after a hash of
# its inputs, so it is built once per input and a fresh clone reuses it:
#   base          python3 (3.11), python3-venv, ca-certificates: the stand-in for python:3.11-slim
#   pause         the pods' sandbox image, from images/pause/pause.c (static)
#   coredns       cluster DNS, the binary `hack/build-binaries.sh node` built from its Go module
#   model-server  images/model-server: a CPU stand-in for an AIM inference image
#   redis         images/redis: Redis from Debian's package, the KV cache backend (AIMKVCache)
#   project       the repository's own Dockerfile, unchanged, FROM the base above
#   keda          KEDA's operator (/keda) and metrics adapter (/keda-adapter), the static binaries
#                 `hack/build-binaries.sh keda` built from KEDA's Go module (not part of `all`)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

CACHE_ROOT=${AIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aim-engine}
OUT="$CACHE_ROOT/images"
STORE="$CACHE_ROOT/containers"
SUITE=bookworm
BASE_PACKAGES=python3,python3-venv,python-is-python3,ca-certificates
MIRROR=${AIM_DEBIAN_MIRROR:-http://deb.debian.org}
mkdir -p "$OUT" "$STORE"

log() { printf '[build-images] %s\n' "$*" >&2; }
buildah_() { nice -n 10 buildah --root "$STORE/storage" --runroot "$STORE/run" --storage-driver overlay "$@"; }
hash_of() { sha256sum | cut -c1-12; }
timed() { local start=$SECONDS; "$@"; log "took $((SECONDS - start))s: $*"; }

# One build at a time per machine (buildah's store and the archives are shared).
exec 8>"$CACHE_ROOT/.images.lock"
flock 8

for tool in buildah mmdebstrap skopeo gcc; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run hack/install-node-packages.sh (as root)" >&2; exit 1; }
done

# Bump BASE_RECIPE when build_base changes in a way that changes the image.
BASE_RECIPE=1
base_key() { printf '%s %s %s' "$SUITE" "$BASE_PACKAGES" "$BASE_RECIPE" | hash_of; }
declare -A KEYS=()
# The key of each image is computed once per run (pin_key), before its inputs are read for the
# build: a file changed during the build then leaves a stale key, which the next run rebuilds.
pin_key() { KEYS[$1]=$(compute_key "$1"); }
key_of() { if [[ -n ${KEYS[$1]:-} ]]; then echo "${KEYS[$1]}"; else compute_key "$1"; fi; }
compute_key() {  # the hash of everything the image is built from
  case $1 in
    base) base_key ;;
    pause) cat images/pause/pause.c | hash_of ;;
    coredns) sha256sum "$(coredns_binary)" | hash_of ;;
    keda) keda_binaries | xargs sha256sum | hash_of ;;
    model-server) { base_key; find images/model-server -type f -not -name '*.pyc' -not -path '*/__pycache__/*' | sort | xargs sha256sum; } | hash_of ;;
    redis) { base_key; sha256sum images/redis/Containerfile; } | hash_of ;;
    project) { base_key; project_inputs | xargs -0 sha256sum; } | hash_of ;;
  esac
}
archive_of() { echo "$OUT/$1-$(key_of "$1").oci.tar"; }
ref_of() {
  case $1 in
    base) echo "localhost/aim-engine-base/python:3.11-$SUITE" ;;
    *) echo "localhost/aim-engine/$1:$(key_of "$1")" ;;
  esac
}

# The files the Dockerfile copies (its COPY lines name them), as they are in the working tree.
project_inputs() {
  local sources
  sources=$(awk '/^COPY / && !/--from/ { for (i = 2; i < NF; i++) print $i }' Dockerfile)
  # shellcheck disable=SC2086
  { printf '%s\0' Dockerfile; git ls-files -co --exclude-standard -z -- $sources; } | sort -z | existing_only
}

# Files deleted in the work tree but not yet committed are still in the index: the image has none.
existing_only() { while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done; true; }

coredns_binary() { bash hack/build-binaries.sh --print-node-binaries | tail -1; }
keda_binaries() {
  local binaries
  mapfile -t binaries < <(bash hack/build-binaries.sh --print-keda-binaries)
  [[ -x ${binaries[0]} && -x ${binaries[1]} ]] || bash hack/build-binaries.sh keda >&2
  printf '%s\n' "${binaries[@]}"
}

# Make sure an image's archive exists and is in buildah's store (FROM needs it there).
ensure_in_store() {
  local name=$1 ref archive
  ref=$(ref_of "$name"); archive=$(archive_of "$name")
  buildah_ inspect --type image "$ref" >/dev/null 2>&1 && return 0
  buildah_ tag "$(buildah_ pull -q "oci-archive:$archive")" "$ref"
}

save() {  # save NAME: push the committed image to its archive (atomically)
  local name=$1 ref archive
  ref=$(ref_of "$name"); archive=$(archive_of "$name")
  rm -f "$archive.part"
  buildah_ push -q "$ref" "oci-archive:$archive.part:$ref"
  mv "$archive.part" "$archive"
  # Older archives of the same image are stale inputs: keep the cache from growing without bound.
  find "$OUT" -name "$name-*.oci.tar" -not -path "$archive" -delete
  log "$name: $archive ($ref)"
}

build_base() {
  local rootfs="$OUT/base-rootfs.tar" c
  rm -f "$rootfs"
  nice -n 10 mmdebstrap --quiet --variant=minbase --mode=root --format=tar --include="$BASE_PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    --customize-hook='printf "deb http://deb.debian.org/debian %s main\n" '"$SUITE"' > "$1"/etc/apt/sources.list' \
    "$SUITE" "$rootfs" \
    "deb $MIRROR/debian $SUITE main" \
    "deb $MIRROR/debian $SUITE-updates main" \
    "deb $MIRROR/debian-security $SUITE-security main"
  c=$(buildah_ from scratch)
  buildah_ add -q "$c" "$rootfs" /
  buildah_ config --cmd '["python3"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --os linux --arch amd64 "$c"
  buildah_ commit -q --rm "$c" "$(ref_of base)" >/dev/null
  rm -f "$rootfs"
  save base
}

# A static binary as the only file of an image.
single_binary_image() {
  local name=$1 binary=$2 path=$3 user=$4 c
  c=$(buildah_ from scratch)
  buildah_ copy -q "$c" "$binary" "$path"
  buildah_ config --entrypoint "[\"$path\"]" --user "$user" --os linux --arch amd64 "$c"
  buildah_ commit -q --rm "$c" "$(ref_of "$name")" >/dev/null
  save "$name"
}

build_pause() {
  local tmp
  tmp=$(mktemp -d)
  gcc -Os -static -o "$tmp/pause" images/pause/pause.c
  strip "$tmp/pause"
  single_binary_image pause "$tmp/pause" /pause 65535
  rm -rf "$tmp"
}

build_coredns() {
  local binary
  binary=$(coredns_binary)
  [[ -x $binary ]] || bash hack/build-binaries.sh node
  single_binary_image coredns "$binary" /coredns 65532
}

# Two static binaries; the pods name the one to run as their command.
build_keda() {
  local binaries c
  mapfile -t binaries < <(keda_binaries)
  c=$(buildah_ from scratch)
  buildah_ copy -q "$c" "${binaries[0]}" /keda
  buildah_ copy -q "$c" "${binaries[1]}" /keda-adapter
  buildah_ config --entrypoint '["/keda"]' --user 65532 --os linux --arch amd64 "$c"
  buildah_ commit -q --rm "$c" "$(ref_of keda)" >/dev/null
  save keda
}

# buildah's RUN steps reach PyPI the way the host does: where a TLS-intercepting proxy stands in
# between, its CA is in the host's bundle. The bundle and pip's configuration are mounted for RUN
# only, so the image never carries them.
run_mounts() {
  local mounts=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
  [[ -f /etc/pip.conf ]] && mounts+=(-v /etc/pip.conf:/etc/pip.conf:ro)
  printf '%s\n' "${mounts[@]}"
}

bud() {  # bud NAME CONTEXT CONTAINERFILE BUILD-ARG [MORE BUILDAH ARGS]
  local name=$1 context=$2 file=$3 arg=$4 mounts
  ensure_in_store base
  mapfile -t mounts < <(run_mounts)
  buildah_ bud --quiet --layers --isolation chroot --network host --pull=never "${mounts[@]}" "${@:5}" \
    --build-arg "$arg=$(ref_of base)" -f "$file" -t "$(ref_of "$name")" "$context" >/dev/null
  save "$name"
}

build_model_server() { bud model-server images/model-server images/model-server/Containerfile BASE_IMAGE; }

build_redis() { bud redis images/redis images/redis/Containerfile BASE_IMAGE --build-arg "DEBIAN_MIRROR=$MIRROR"; }

build_project() {
  local context
  context=$(mktemp -d)
  # The build context is exactly the Dockerfile's inputs as they are in the working tree.
  project_inputs | tar --null -T - -cf - | tar -xf - -C "$context"
  bud project "$context" "$context/Dockerfile" PYTHON_IMAGE
  rm -rf "$context"
}

build() {
  local name=$1
  [[ $name == project || $name == model-server || $name == redis ]] && [[ ! -s $(archive_of base) ]] && build base
  pin_key "$name"
  if [[ -s $(archive_of "$name") ]]; then return 0; fi
  log "building $name"
  timed "build_${name//-/_}"
}

tag_project() {
  [[ -n ${IMAGE:-} ]] || return 0
  ensure_in_store project
  buildah_ tag "$(ref_of project)" "$IMAGE"
  log "tagged $IMAGE"
}

case ${1:-all} in
  --print)
    build "$2" >&2
    printf '%s\t%s\n' "$(archive_of "$2")" "$(ref_of "$2")"
    ;;
  push)
    build "$2" >&2
    skopeo copy -q ${SKOPEO_ARGS:-} "oci-archive:$(archive_of "$2")" "$3"
    log "pushed $2 to $3"
    ;;
  all)
    for name in base pause coredns model-server redis project; do build "$name"; done
    tag_project
    ;;
  base|pause|coredns|model-server|redis|keda) build "$1" ;;
  project) build project; tag_project ;;
  *) echo "usage: $0 [all|base|pause|coredns|model-server|redis|project|keda|--print NAME|push NAME DEST]" >&2; exit 2 ;;
esac
