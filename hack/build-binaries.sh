#!/usr/bin/env bash
# Builds the local control plane's binaries from published Go modules into a versioned cache
# outside the repository, and does nothing for a binary that is already there.
#
#   hack/build-binaries.sh [core|cluster|helm|registry|all|bench]   (default: all)
#     core     kube-apiserver, kubectl, etcd
#     cluster  core + kube-controller-manager, kube-scheduler, kwok
#     helm     helm
#     registry the CNCF distribution registry and crane (a real OCI registry for the tests, and a
#              client that pushes images to it without Docker)
#     bench    vegeta (HTTP load generator for bench/; not part of `all`)
#     node     kubelet, kube-proxy and CoreDNS: the real node (devcluster --real-node); not part of `all`
#     kserve   KServe's controller manager (raw-deployment mode in the local control plane); part of `all`
#     keda     KEDA's operator and metrics adapter (autoscaling; devcluster --keda); not part of `all`
#   hack/build-binaries.sh --print-bin-dir           prints the directory the binaries go to
#   hack/build-binaries.sh --print-registry-binaries prints the paths of registry and crane
#
# Why a wrapper module: k8s.io/kubernetes and etcd's server module carry `replace` directives,
# so `go install pkg@version` refuses them; as a dependency of a throw-away module their
# replaces are ignored and we pin the staging modules ourselves. See docs/development.md.
set -euo pipefail

K8S_VERSION=v1.35.8
K8S_STAGING_VERSION=v0.35.8
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.21.4
VEGETA_VERSION=v12.13.0
DISTRIBUTION_VERSION=v3.0.0
CRANE_VERSION=v0.20.8
COREDNS_VERSION=v1.15.0
# The same version as the InferenceService CRD the tests install (devcluster/binaries.py).
KSERVE_VERSION=v0.16.0
# v2.21.1 asks for Go 1.27.4, newer than this machine's; v2.21.0 builds with Go 1.26.
KEDA_VERSION=v2.21.0

GO_VERSION=$(go env GOVERSION)
CACHE_ROOT=${AIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aim-engine}
BIN_DIR="$CACHE_ROOT/bin/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}_${GO_VERSION}"

# The directory name predates these two, so their names carry their versions (as vegeta's does).
REGISTRY_BIN="registry-$DISTRIBUTION_VERSION"
CRANE_BIN="crane-$CRANE_VERSION"

if [[ "${1:-}" == "--print-bin-dir" ]]; then echo "$BIN_DIR"; exit 0; fi
if [[ "${1:-}" == "--print-registry-binaries" ]]; then printf '%s\n' "$BIN_DIR/$REGISTRY_BIN" "$BIN_DIR/$CRANE_BIN"; exit 0; fi
COREDNS_BIN="coredns-$COREDNS_VERSION"
KSERVE_BIN="kserve-manager-$KSERVE_VERSION"
if [[ "${1:-}" == "--print-kserve-binary" ]]; then echo "$BIN_DIR/$KSERVE_BIN"; exit 0; fi
KEDA_BINS=("keda-operator-$KEDA_VERSION" "keda-adapter-$KEDA_VERSION")
if [[ "${1:-}" == "--print-keda-binaries" ]]; then printf "$BIN_DIR/%s\n" "${KEDA_BINS[@]}"; exit 0; fi
if [[ "${1:-}" == "--print-keda-module" ]]; then echo "github.com/kedacore/keda/v2@$KEDA_VERSION"; exit 0; fi
if [[ "${1:-}" == "--print-node-binaries" ]]; then printf '%s\n' "$BIN_DIR/kubelet" "$BIN_DIR/kube-proxy" "$BIN_DIR/$COREDNS_BIN"; exit 0; fi
what=${1:-all}

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
export GOMODCACHE="$CACHE_ROOT/go/mod" GOCACHE="$CACHE_ROOT/go/build"
mkdir -p "$BIN_DIR" "$CACHE_ROOT/src"

# One build at a time per machine: parallel test sessions must not compile twice.
exec 9>"$CACHE_ROOT/.build.lock"
flock 9

log() { printf '[build-binaries] %s\n' "$*" >&2; }
have() { for b in "$@"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done; }
timed() { local start=$SECONDS; "$@"; log "took $((SECONDS - start))s: ${*: -1}"; }

# Staging modules that k8s.io/kubernetes resolves through ./staging replaces in its own repo.
# Only the ones the build graph needs are listed: the sample-* modules are not published at
# every patch version and nothing we build imports them.
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
mount-utils pod-security-admission"

build_kubernetes() {
  local cmds=("$@") dir="$CACHE_ROOT/src/k8s-$K8S_VERSION"
  mkdir -p "$dir"
  {
    printf 'module local.test/k8sbin\n\ngo 1.25.0\n\ngodebug default=go1.25\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    for m in $STAGING; do printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$K8S_STAGING_VERSION"; done
    printf ')\n'
  } > "$dir/go.mod"
  local pkgs=() ldflags="-s -w" minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
  (cd "$dir" && go get -tool "${pkgs[@]}")
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  pkgs=(); for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/" "${pkgs[@]}")
}

build_etcd() {
  local dir="$CACHE_ROOT/src/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  printf 'module local.test/etcdbin\n\ngo 1.25.0\n' > "$dir/go.mod"
  (cd "$dir" && go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
     && go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd" go.etcd.io/etcd/server/v3)
}

# KServe's module replaces controller-runtime (v0.20 required, v0.19 used), which `go install`
# refuses: a wrapper module requires it and repeats that replace.
build_kserve() {
  local dir="$CACHE_ROOT/src/kserve-$KSERVE_VERSION"
  mkdir -p "$dir"
  printf 'module local.test/kservebin\n\ngo 1.25.0\n\nrequire github.com/kserve/kserve %s\n\nreplace sigs.k8s.io/controller-runtime => sigs.k8s.io/controller-runtime v0.19.7\n' \
    "$KSERVE_VERSION" > "$dir/go.mod"
  (cd "$dir" && go get -tool "github.com/kserve/kserve/cmd/manager@$KSERVE_VERSION" \
     && go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/$KSERVE_BIN" github.com/kserve/kserve/cmd/manager)
}

# KEDA's module carries a replace (nexus-proto-annotations) and an exclude, which `go install`
# refuses: a wrapper module requires it and repeats both. The operator (scaling, 0 <-> 1 activation)
# and the adapter (external.metrics.k8s.io for the HPA, 1 <-> N) build from one graph.
build_keda() {
  local dir="$CACHE_ROOT/src/keda-$KEDA_VERSION"
  mkdir -p "$dir"
  printf 'module local.test/kedabin\n\ngo 1.26.0\n\nrequire github.com/kedacore/keda/v2 %s\n\nreplace github.com/nexus-rpc/nexus-proto-annotations v0.1.0 => github.com/nexus-rpc/nexus-proto-annotations v0.1.1-0.20260629224316-835bd8d49cb4\n\nexclude github.com/go-chi/chi/v5 v5.2.3\n' \
    "$KEDA_VERSION" > "$dir/go.mod"
  local ldflags="-s -w -X github.com/kedacore/keda/v2/version.Version=$KEDA_VERSION"
  (cd "$dir" && go get -tool "github.com/kedacore/keda/v2/cmd/operator@$KEDA_VERSION" "github.com/kedacore/keda/v2/cmd/adapter@$KEDA_VERSION" \
     && go build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/${KEDA_BINS[0]}" github.com/kedacore/keda/v2/cmd/operator \
     && go build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/${KEDA_BINS[1]}" github.com/kedacore/keda/v2/cmd/adapter)
}

build_kwok() {
  GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

build_helm() {
  GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

build_vegeta() {
  local dir="$CACHE_ROOT/src/vegeta-$VEGETA_VERSION"
  mkdir -p "$dir"
  GOBIN="$dir" go install -trimpath -ldflags "-s -w" "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
  mv "$dir/vegeta" "$BIN_DIR/vegeta-$VEGETA_VERSION"
}

# Neither module carries replace directives, so `go install mod/cmd@version` builds them as published.
build_registry() {
  local dir="$CACHE_ROOT/src/distribution-$DISTRIBUTION_VERSION"
  mkdir -p "$dir"
  GOBIN="$dir" go install -trimpath -ldflags "-s -w \
    -X github.com/distribution/distribution/v3/version.version=$DISTRIBUTION_VERSION" \
    "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION_VERSION"
  mv "$dir/registry" "$BIN_DIR/$REGISTRY_BIN"
}

build_crane() {
  local dir="$CACHE_ROOT/src/crane-$CRANE_VERSION"
  mkdir -p "$dir"
  GOBIN="$dir" go install -trimpath -ldflags "-s -w \
    -X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$CRANE_VERSION" \
    "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
  mv "$dir/crane" "$BIN_DIR/$CRANE_BIN"
}

# CoreDNS has no replace directives either; plugins are compiled in (the default plugin.cfg).
build_coredns() {
  local dir="$CACHE_ROOT/src/coredns-$COREDNS_VERSION"
  mkdir -p "$dir"
  GOBIN="$dir" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  mv "$dir/coredns" "$BIN_DIR/$COREDNS_BIN"
}

build_registry_tools() {
  have "$REGISTRY_BIN" || timed build_registry
  have "$CRANE_BIN" || timed build_crane
}

if [[ "$what" == bench ]]; then
  have "vegeta-$VEGETA_VERSION" || timed build_vegeta
  log "vegeta in $BIN_DIR/vegeta-$VEGETA_VERSION"
  exit 0
fi

want_k8s=(kube-apiserver kubectl)
case "$what" in
  core) ;;
  cluster|all) want_k8s+=(kube-controller-manager kube-scheduler) ;;
  helm|registry) want_k8s=() ;;
  node) want_k8s=(kubelet kube-proxy) ;;
  kserve|keda) want_k8s=() ;;
  *) echo "usage: $0 [core|cluster|helm|registry|all|bench|node|kserve|keda|--print-kserve-binary|--print-keda-binaries|--print-bin-dir|--print-registry-binaries|--print-node-binaries]" >&2; exit 2 ;;
esac

missing=(); for c in "${want_k8s[@]}"; do have "$c" || missing+=("$c"); done
# Build the whole wanted set together: the commands share most packages, one link pass each.
[[ ${#missing[@]} -eq 0 ]] || timed build_kubernetes "${want_k8s[@]}"
if [[ "$what" == node ]]; then have "$COREDNS_BIN" || timed build_coredns; log "binaries in $BIN_DIR"; exit 0; fi
if [[ "$what" == kserve || "$what" == all ]]; then have "$KSERVE_BIN" || timed build_kserve; fi
if [[ "$what" == kserve ]]; then log "binaries in $BIN_DIR"; exit 0; fi
if [[ "$what" == keda ]]; then have "${KEDA_BINS[@]}" || timed build_keda; log "binaries in $BIN_DIR"; exit 0; fi
if [[ "$what" != helm && "$what" != registry ]]; then have etcd || timed build_etcd; fi
if [[ "$what" == cluster || "$what" == all ]]; then have kwok || timed build_kwok; fi
if [[ "$what" == helm || "$what" == all ]]; then have helm || timed build_helm; fi
if [[ "$what" == registry || "$what" == all ]]; then build_registry_tools; fi
log "binaries in $BIN_DIR"
