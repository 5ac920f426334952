#!/usr/bin/env bash
# .ci/steps/19-k8s-pin.sh: pinned digests in the real single-node cluster.
# test/k8s/e2e.sh with E2E_PIN=1: the test pod's image is the default index
# pinned by its digest (REPO@sha256:<index>), as Kyverno's mutateDigest or a
# GitOps tool writes it. tailor pin-webhook (run on the host, registered with
# failurePolicy Ignore) turns it into the digest's pin tag; the pod must run
# the entry `tailor resolve --profile host` names, and with the webhook
# stopped a pinned pod must still be admitted unchanged and run. The rest of
# e2e.sh's checks run too. .ci/run runs the tag form afterwards.
# Warm (Kubernetes built and cached): about 4-5 minutes; cold: the ~8 minute
# Kubernetes build first (cached in TAILOR_K8S_CACHE for the later e2e).
# Uses e2e.sh's fixed ports (6443, 2379, 10250, ...) and 17443 (the
# webhook; E2E_PIN_PORT moves it).
set -euo pipefail
cd "$(dirname "$0")/../.."
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server containerd runc containernetworking-plugins iproute2 openssl jq curl >/dev/null
export TAILOR_K8S_CACHE=${TAILOR_K8S_CACHE:-/var/cache/tailor-k8s}
E2E_PIN=1 E2E_MIN_PASSES=${E2E_MIN_PASSES:-20} bash test/k8s/e2e.sh
