#!/usr/bin/env bash
# build-kube.sh builds the Kubernetes components (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, and a kubectl of the same
# version: Debian has no kubectl package) from the Go module proxy at
# a pinned version into a cache directory, and does nothing when they are
# already there. No kind/k3s/Docker can be fetched on these machines, but
# k8s.io/kubernetes builds from the module proxy (../../shared/kubernetes-here.md).
#
# Usage: test/k8s/build-kube.sh [CACHE_DIR]
#   CACHE_DIR defaults to $TAILOR_K8S_CACHE or /var/cache/tailor-k8s.
# Prints the bin directory on the last line of stdout; crictl is built
# into CACHE_DIR too (CACHE_DIR/crictl).
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}
cache=${1:-${TAILOR_K8S_CACHE:-/var/cache/tailor-k8s}}
bin="$cache/$KUBE_VERSION/bin"
cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

# crictl talks CRI to containerd directly (e2e.sh pulls with it while
# kubelet is paused); Debian has no cri-tools package.
if [[ ! -x "$cache/crictl-$CRICTL_VERSION/crictl" ]]; then
	mkdir -p "$cache/crictl-$CRICTL_VERSION"
	GOBIN="$cache/crictl-$CRICTL_VERSION" CGO_ENABLED=0 go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" >&2
fi
ln -sf "$cache/crictl-$CRICTL_VERSION/crictl" "$cache/crictl"

have=1
for c in "${cmds[@]}"; do [[ -x "$bin/$c" ]] || have=0; done
if [[ $have == 1 ]]; then
	echo "$bin"
	exit 0
fi

mod="$cache/$KUBE_VERSION/mod"
mkdir -p "$mod" "$bin"
cd "$mod"
# Staging modules are published as v0.X.Y for kubernetes v1.X.Y.
staging=v0.${KUBE_VERSION#v1.}
cat >go.mod <<GOMOD
module tailor.dev/kubebuild

go 1.24

require k8s.io/kubernetes $KUBE_VERSION
GOMOD
cat >tools.go <<'GO'
//go:build tools

// Package kubebuild only pins the Kubernetes commands built by build-kube.sh.
package kubebuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
GOFLAGS=-mod=mod go mod download k8s.io/kubernetes@"$KUBE_VERSION"
kmod="$(go env GOMODCACHE)/k8s.io/kubernetes@$KUBE_VERSION/go.mod"
# k8s.io/kubernetes replaces every staging module with a local path
# (./staging/src/k8s.io/X); a consumer must replace each with the published
# version instead.
awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&$1~/^k8s.io\//{print $1}' "$kmod" |
	while read -r m; do
		go mod edit -replace="$m=$m@$staging"
	done
GOFLAGS=-mod=mod go mod tidy >&2
ver="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
ver="$ver -X k8s.io/component-base/version.gitMajor=1"
minor=${KUBE_VERSION#v1.}
ver="$ver -X k8s.io/component-base/version.gitMinor=${minor%%.*}"
ver="$ver -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
ver="$ver -X k8s.io/component-base/version.gitTreeState=clean"
pkgs=()
for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
CGO_ENABLED=${CGO_ENABLED:-1} go build -trimpath -ldflags "-s -w $ver" -o "$bin/" "${pkgs[@]}" >&2
echo "$bin"
