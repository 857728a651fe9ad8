#!/usr/bin/env bash
# Builds the Kubernetes control plane used by the integration tests from Go modules
# (the machines reach the Go module proxy but no binary download site) and caches
# the binaries outside the repository, keyed by version:
#   $NOSANA_OPERATOR_CACHE/k8s-v<version>/bin/{etcd,kube-apiserver,kube-scheduler,
#                                              kube-controller-manager,kubectl,kwok,helm}
# A binary already in the cache is kept, so a warm run takes about a second.
# Prints the bin directory on its last line of stdout; progress goes to stderr.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.4}"
# kubeadm's SupportedEtcdVersion for 1.36 (cmd/kubeadm/app/constants in that release).
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
HELM_VERSION="${HELM_VERSION:-4.3.1}"

CACHE_ROOT="${NOSANA_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nosana-operator}"
PREFIX="$CACHE_ROOT/k8s-v$K8S_VERSION"
BIN="$PREFIX/bin"
mkdir -p "$BIN" "$PREFIX/src"

started=$(date +%s)
log() { printf '[control-plane %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "error: the Go toolchain (1.26 or newer) is required to build the control plane"
  exit 1
fi

# A heartbeat while a long build runs, so CI logs show progress instead of silence.
heartbeat_pid=""
start_heartbeat() {
  local what="$1"
  ( while sleep 30; do log "… still building $what"; done ) &
  heartbeat_pid=$!
}
stop_heartbeat() {
  if [[ -n "$heartbeat_pid" ]]; then kill "$heartbeat_pid" 2>/dev/null || true; wait "$heartbeat_pid" 2>/dev/null || true; fi
  heartbeat_pid=""
}
trap stop_heartbeat EXIT

have() { [[ -x "$BIN/$1" && -f "$BIN/.$1.ok" ]]; }
mark() { touch "$BIN/.$1.ok"; }

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath"

# --- kube-apiserver, kube-scheduler, kube-controller-manager, kubectl ------------------
# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local
# paths, so `go install` cannot build it. A wrapper module pins every staging module to
# its published v0.<minor>.<patch> twin instead.
kube_components=(kube-apiserver kube-scheduler kube-controller-manager kubectl)
missing=()
for c in "${kube_components[@]}"; do have "$c" || missing+=("$c"); done
if (( ${#missing[@]} > 0 )); then
  log "building ${missing[*]} v$K8S_VERSION (cold build: 10–30 minutes on 2 cores)"
  mod="$PREFIX/src/kube"
  mkdir -p "$mod"
  staging_version="v0.${K8S_VERSION#1.}"
  upstream_mod="$mod/kubernetes.go.mod"
  ( cd "$mod" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" >/dev/null )
  cp "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$K8S_VERSION.mod" "$upstream_mod"
  {
    echo "module nosana-operator.local/control-plane"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    # every staging module is required at exactly v0.0.0 by the upstream go.mod
    awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$upstream_mod" | sort -u |
      while read -r m; do echo "	$m => $m $staging_version"; done
    echo ")"
  } > "$mod/go.mod"
  log "wrapper module pins $(grep -c '=>' "$mod/go.mod") staging modules to $staging_version"
  minor="${K8S_VERSION#1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  pkgs=()
  for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  log "resolving modules (downloads a few hundred MB the first time)"
  ( cd "$mod" && go get "${pkgs[@]/%/@v$K8S_VERSION}" >/dev/null 2>"$mod/get.log" ) || { cat "$mod/get.log" >&2; exit 1; }
  start_heartbeat "${missing[*]}"
  ( cd "$mod" && go build -ldflags "$ldflags" -o "$BIN/" "${pkgs[@]}" )
  stop_heartbeat
  for c in "${missing[@]}"; do mark "$c"; done
  log "built ${missing[*]}"
fi

# --- etcd --------------------------------------------------------------------------------
# `go install go.etcd.io/etcd/server/v3@…` refuses the module's relative replaces; as a
# dependency of a wrapper module those replaces are ignored and its main package builds.
if ! have etcd; then
  log "building etcd v$ETCD_VERSION"
  mod="$PREFIX/src/etcd"
  mkdir -p "$mod"
  printf 'module nosana-operator.local/etcd\n\ngo 1.26.0\n' > "$mod/go.mod"
  ( cd "$mod" && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>"$mod/get.log" ) || { cat "$mod/get.log" >&2; exit 1; }
  start_heartbeat etcd
  ( cd "$mod" && go build -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3 )
  stop_heartbeat
  mark etcd
  log "built etcd"
fi

# --- kwok and helm: ordinary modules, plain `go install` ---------------------------------
install_tool() {
  local name="$1" pkg="$2" ldflags="${3:-}"
  have "$name" && return 0
  log "building $name ($pkg)"
  start_heartbeat "$name"
  GOBIN="$BIN" GOFLAGS="-trimpath" go install -ldflags "-s -w $ldflags" "$pkg"
  stop_heartbeat
  mark "$name"
  log "built $name"
}
install_tool kwok "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" \
  "-X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=v$K8S_VERSION"
install_tool helm "helm.sh/helm/v4/cmd/helm@v$HELM_VERSION" \
  "-X helm.sh/helm/v4/internal/version.version=v$HELM_VERSION"

# KWOK's own CRDs (Logs, ClusterLogs, …) come with its module; the harness installs the
# Logs CRD so tests can give simulated containers their output.
crd_dir="$PREFIX/share/kwok-crds"
if [[ ! -f "$crd_dir/.ok" ]]; then
  mkdir -p "$crd_dir"
  kwok_src="$(cd "$PREFIX/src" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  cp "$kwok_src"/kustomize/crd/bases/*.yaml "$crd_dir/"
  chmod u+w "$crd_dir"/*.yaml
  touch "$crd_dir/.ok"
fi

log "control plane ready in $BIN (total $(( $(date +%s) - started ))s)"
echo "$BIN"
