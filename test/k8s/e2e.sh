#!/usr/bin/env bash
# test/k8s/e2e.sh: tailor in a real single-node Kubernetes cluster.
#
#   E2E_IMAGE=<registry>/<index>[:tag|@sha256:<digest>] test/k8s/e2e.sh   (as root)
#   E2E_PIN=1 test/k8s/e2e.sh      (the default index, pinned by its digest)
#
# Builds Kubernetes from the module proxy (cached in $TAILOR_K8S_CACHE,
# default /var/cache/tailor-k8s; ~8 min cold on 2 cores), starts a cluster
# (test/k8s/cluster.sh: Debian etcd and containerd with CRI, a locally built
# pause image), pushes tailor's image (deploy/image, amd64 + arm64) to a
# local registry and applies deploy/ with an overlay for the cluster's paths.
# Then it checks, each a PASS or FAIL line:
#   - the DaemonSet runs; node-setup wrote the hosts.toml mirror and the NFD
#     feature file, and left the operator's own hosts.toml alone;
#   - a Pod of $E2E_IMAGE, pulled by containerd through the mirror, runs the
#     build `tailor resolve --profile host` names (its log printed as
#     "pod> " lines); tailor fleet agrees from the node's labels;
#   - tailor affinity's YAML passes `kubectl apply --dry-run=server`, and the
#     scheduler binds a pod to exactly the nodes (this one and nodes labelled
#     from real CPUs of the corpus) tailor fleet says some entry fits;
#   - a pod pinned to the index digest (E2E_IMAGE=REPO@sha256:..., or
#     E2E_PIN=1): tailor pin-webhook turns it into the digest's pin tag and
#     the pod runs the same build tailor resolve names; with the webhook
#     stopped the pod still runs (the runtime's own choice);
#   - with tailor serve killed, a pull still works through the fallback;
#   - uninstall removes the mirrors and labels file; teardown restores what
#     kubelet changed on the host.
# Exit 0 only when all held. $E2E_IMAGE defaults to an index this script
# builds with tailor build (generic, level and named-target builds of
# test/k8s/which); a registry given in E2E_IMAGE is mirrored (plain HTTP for
# loopback, else HTTPS; E2E_REGISTRY_URL overrides). E2E_KEEP=1 keeps the
# work directory.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null)/bin"

CACHE=${TAILOR_K8S_CACHE:-/var/cache/tailor-k8s}
MIRROR=127.0.0.1:5400 # tailor serve of the DaemonSet
APPS=                 # the registry pods pull from (mirrored)
IMAGES=               # the registry of tailor's own image (never mirrored)
K8S_WORK=$(mktemp -d /var/tmp/tailor-k8s.XXXXXX)
K8S_CERTS_DIR=$K8S_WORK/certs.d
FEATURES_DIR=$K8S_WORK/features.d
export K8S_WORK K8S_CERTS_DIR
WORK=$K8S_WORK
BIN=$WORK/bin
mkdir -p "$BIN" "$WORK/logs"
passes=0
fails=0
REG_PIDS=()
CLUSTER=0

pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
step() { echo "== $*"; }
# repo_of REF: REF without its tag and digest (host/repo).
repo_of() {
	local r=${1%%@*}
	if [[ ${r##*/} == *:* ]]; then r=${r%:*}; fi
	echo "$r"
}
# ref_of REF: what REF names in its repository: the digest, else the tag.
ref_of() {
	if [[ $1 == *@* ]]; then echo "${1#*@}"; elif [[ ${1##*/} == *:* ]]; then echo "${1##*:}"; else echo latest; fi
}
# pin_webhook_up: tailor pin-webhook on this host (the API server runs here
# too), a self-signed certificate, and its MutatingWebhookConfiguration as
# deploy/pin registers it (failurePolicy Ignore, timeoutSeconds 3).
PIN_ADDR=127.0.0.1:${E2E_PIN_PORT:-17443}
PIN_PID=
pin_webhook_up() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$WORK/pin.key" -out "$WORK/pin.crt" >/dev/null 2>&1 || return 1
	"$TAILOR" pin-webhook --listen "$PIN_ADDR" --tls-cert "$WORK/pin.crt" --tls-key "$WORK/pin.key" >"$WORK/logs/pin-webhook.log" 2>&1 &
	PIN_PID=$!
	REG_PIDS+=("$PIN_PID")
	k8s_wait "tailor pin-webhook" 30 curl -sf --cacert "$WORK/pin.crt" "https://$PIN_ADDR/healthz" || return 1
	kubectl apply -f - >/dev/null <<EOF || return 1
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: tailor-pin}
webhooks:
  - name: pin.tailor.dev
    clientConfig: {url: "https://$PIN_ADDR/mutate", caBundle: "$(base64 -w0 "$WORK/pin.crt")"}
    rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
    failurePolicy: Ignore
    timeoutSeconds: 3
    sideEffects: None
    admissionReviewVersions: [v1]
    reinvocationPolicy: IfNeeded
    namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system, tailor-system]}]}
EOF
	sleep 2 # the API server picks up webhook configurations asynchronously
}
pin_webhook_down() {
	[[ -n $PIN_PID ]] && kill "$PIN_PID" 2>/dev/null && wait "$PIN_PID" 2>/dev/null
	echo "--- tailor pin-webhook's log"
	cat "$WORK/logs/pin-webhook.log"
}
# manifest_url REF: the registry API URL of REF's manifest.
manifest_url() {
	local repo
	repo=$(repo_of "$1")
	echo "$E2E_REGISTRY_URL/v2/${repo#*/}/manifests/$(ref_of "$1")"
}
fatal() {
	echo "FATAL: $*"
	fails=$((fails + 1))
	exit 1
}

cleanup() {
	local rc=$? pid
	for pid in "${REG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${REG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	if [[ $CLUSTER == 1 ]]; then
		if [[ $fails -gt 0 ]]; then
			for f in "$WORK"/logs/kubelet.log "$WORK"/logs/containerd.log; do
				[[ -f $f ]] && { echo "--- tail of $f"; tail -n 30 "$f"; }
			done
		fi
		cluster_down
		if cluster_check_restored; then
			pass "teardown: no process, mount, bridge or sysctl left; /var/lib/kubelet as before"
		else
			fail "teardown left changes on the host"
		fi
	fi
	if [[ ${E2E_KEEP:-0} != 1 ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
	echo "== k8s e2e: $passes passed, $fails failed"
	if [[ $fails -gt 0 || $rc -ne 0 ]]; then exit 1; fi
	if [[ $passes -lt ${E2E_MIN_PASSES:-12} ]]; then
		echo "fewer passes than the ${E2E_MIN_PASSES:-12} expected"
		exit 1
	fi
	exit 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[[ $(id -u) == 0 ]] || fatal "run as root: the test starts containerd and kubelet"

step "packages"
need=()
for c in etcd:etcd-server containerd:containerd runc:runc ctr:containerd \
	/usr/lib/cni/bridge:containernetworking-plugins openssl:openssl ip:iproute2 \
	jq:jq curl:curl gcc:gcc /usr/aarch64-linux-gnu/lib/libc.so.6:libc6-arm64-cross; do
	cmd=${c%%:*} pkg=${c#*:}
	if [[ $cmd == /* ]]; then [[ -e $cmd ]] || need+=("$pkg"); else command -v "$cmd" >/dev/null || need+=("$pkg"); fi
done
if [[ ${#need[@]} -gt 0 ]]; then
	echo "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || fatal "apt-get install ${need[*]}"
fi

step "Kubernetes binaries (cached in $CACHE)"
KUBE_BIN=$(test/k8s/build-kube.sh "$CACHE" | tail -n 1) || fatal "building Kubernetes"
CRICTL=$CACHE/crictl
# kubectl of the cluster's version, built beside it.
export KUBE_BIN PATH="$KUBE_BIN:$PATH"
# shellcheck source=test/k8s/cluster.sh
source test/k8s/cluster.sh

step "tailor, the pause image"
CGO_ENABLED=0 go build -o "$BIN/tailor" ./cmd/tailor || fatal "go build tailor"
TAILOR=$BIN/tailor
ARCH=$(go env GOARCH)
go run ./deploy/image --package ./test/k8s/pause --platforms "linux/$ARCH" --ca-bundle none \
	--dest "oci:$WORK/pause" >/dev/null || fatal "pause image"
tar -C "$WORK/pause" -cf "$WORK/pause.tar" . || fatal "pause archive"
K8S_PAUSE_TAR=$WORK/pause.tar

step "registries (distribution): one mirrored by tailor, one for tailor's image"
go build -o "$BIN/registry" ./test/k8s/registry || fatal "go build test/k8s/registry"
for r in apps images; do
	"$BIN/registry" "$WORK/registry-$r" >"$WORK/logs/registry-$r.addr" 2>"$WORK/logs/registry-$r.log" &
	REG_PIDS+=("$!")
	k8s_wait "registry $r" 30 test -s "$WORK/logs/registry-$r.addr" || fatal "registry $r did not start"
done
APPS=$(cat "$WORK/logs/registry-apps.addr")
IMAGES=$(cat "$WORK/logs/registry-images.addr")
for r in "$APPS" "$IMAGES"; do
	k8s_wait "registry $r" 30 curl -sf "http://$r/v2/" || fatal "registry $r does not answer"
done
echo "registries: $APPS (mirrored), $IMAGES (tailor's image)"

step "tailor's image, multi-arch, pushed to $IMAGES"
IMAGE_DIGEST=$(go run ./deploy/image --push "$IMAGES/tailor:e2e") || fatal "building tailor's image"
echo "tailor image: $IMAGES/tailor@$IMAGE_DIGEST"
if [[ $("$TAILOR" inspect -o json "$IMAGES/tailor:e2e" | jq -r '[.entries[].platform.architecture] | sort | join(",")') == amd64,arm64 ]]; then
	pass "tailor's image is an index for amd64 and arm64"
else
	fail "tailor's image is not an amd64 + arm64 index"
fi

HOST_TARGET=$("$TAILOR" detect -o json | jq -r .cpu.microarchitecture)
if [[ -z ${E2E_IMAGE:-} ]]; then
	step "E2E_IMAGE: the which index (host target $HOST_TARGET)"
	case $ARCH in
	amd64) base=(x86_64 x86_64_v3) named=(skylake_avx512 zen3 sapphirerapids) ;;
	arm64) base=(aarch64 armv8.2a) named=(neoverse_n1 neoverse_v1 neoverse_v2) ;;
	*) fatal "no test targets for $ARCH" ;;
	esac
	mkdir -p "$WORK/which"
	cp test/k8s/which/which.c "$WORK/which/"
	{
		echo "name: which"
		echo "base: scratch"
		echo "targets:"
		for t in "${base[@]}"; do echo "  - $t"; done
		[[ " ${base[*]} " == *" $HOST_TARGET "* ]] || echo "  - $HOST_TARGET"
		for t in "${named[@]}"; do [[ $t == "$HOST_TARGET" ]] || echo "  - {cpu: $t, optional: true}"; done
		echo 'command: $CC $CFLAGS -O2 -static -DTAILOR_TARGET=$TAILOR_TARGET -o $TAILOR_OUT/which which.c'
		echo "entrypoint: [/which]"
	} >"$WORK/which/tailor.yaml"
	"$TAILOR" build -f "$WORK/which/tailor.yaml" --dest "$APPS/which:e2e" --log-dir "$WORK/logs" >"$WORK/logs/build.log" 2>&1 ||
		{ cat "$WORK/logs/build.log"; fatal "tailor build of the which index"; }
	E2E_IMAGE=$APPS/which:e2e
	DEFAULT_IMAGE=1
	if [[ ${E2E_PIN:-0} == 1 ]]; then
		E2E_IMAGE=$APPS/which@$("$TAILOR" inspect -o json "$E2E_IMAGE" | jq -r .digest)
	fi
fi
PINNED=0
[[ $E2E_IMAGE == *@sha256:* ]] && PINNED=1
E2E_REGISTRY=${E2E_IMAGE%%/*}
case $E2E_REGISTRY in
127.0.0.1:* | localhost:* | "[::1]:"*) E2E_REGISTRY_URL=${E2E_REGISTRY_URL:-http://$E2E_REGISTRY} ;;
*) E2E_REGISTRY_URL=${E2E_REGISTRY_URL:-https://$E2E_REGISTRY} ;;
esac
echo "E2E_IMAGE=$E2E_IMAGE (registry $E2E_REGISTRY_URL)"
"$TAILOR" inspect "$E2E_IMAGE" || fatal "inspect $E2E_IMAGE"

step "cluster"
CLUSTER=1
cluster_up || fatal "cluster did not come up"
CRICTL=("$CRICTL" --runtime-endpoint "unix://$CTR_SOCK" --image-endpoint "unix://$CTR_SOCK")

# The operator's own mirror config for the registry of tailor's image:
# plain HTTP, and never through tailor.
mkdir -p "$K8S_CERTS_DIR/$IMAGES"
printf 'server = "http://%s"\n' "$IMAGES" >"$K8S_CERTS_DIR/$IMAGES/hosts.toml"

step "deploy/ with the test cluster's overlay"
mkdir -p "$WORK/overlay"
cat >"$WORK/overlay/serve.yaml" <<EOF
listen: $MIRROR
storage: /var/lib/tailor
profile: host
upstreams:
  - {name: "$E2E_REGISTRY", url: "$E2E_REGISTRY_URL"}
EOF
cat >"$WORK/overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$WORK/overlay" "$ROOT/deploy")
images:
  - name: registry.example/tailor
    newName: $IMAGES/tailor
    digest: $IMAGE_DIGEST
configMapGenerator:
  - name: tailor-serve
    behavior: replace
    files: [serve.yaml]
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: DaemonSet
      metadata: {name: tailor}
      spec:
        template:
          spec:
            containers:
              - name: serve
                startupProbe: {httpGet: {port: ${MIRROR##*:}}}
                readinessProbe: {httpGet: {port: ${MIRROR##*:}}}
                livenessProbe: {httpGet: {port: ${MIRROR##*:}}}
            volumes:
              - {name: certs, hostPath: {path: $K8S_CERTS_DIR}}
              - {name: features, hostPath: {path: $FEATURES_DIR}}
              - {name: cache, hostPath: {path: $WORK/tailor-cache}}
EOF
# The server checks namespaced objects only in an existing namespace.
kubectl apply -f deploy/namespace.yaml >/dev/null || fatal "creating namespace tailor-system"
if kubectl apply --dry-run=server -k "$WORK/overlay" >/dev/null; then
	pass "kubectl apply --dry-run=server -k accepts deploy/ with the overlay"
else
	fail "the server refuses deploy/"
fi
for k in central pin; do
	if kubectl apply --dry-run=server -k "deploy/$k" >/dev/null; then
		pass "kubectl apply --dry-run=server -k accepts deploy/$k"
	else
		fail "the server refuses deploy/$k"
	fi
done
kubectl apply -k "$WORK/overlay" || fatal "kubectl apply -k"
if kubectl -n tailor-system rollout status ds/tailor --timeout=120s; then
	pass "the tailor DaemonSet is ready"
else
	kubectl -n tailor-system describe pods | tail -n 40
	for c in node-setup serve; do
		echo "--- logs of $c"
		kubectl -n tailor-system logs -l app.kubernetes.io/name=tailor -c "$c" --tail=30
	done
	fatal "the DaemonSet did not become ready"
fi
hosts=$K8S_CERTS_DIR/$E2E_REGISTRY/hosts.toml
if grep -q "Written by tailor node-setup" "$hosts" 2>/dev/null && grep -qF "server = \"$E2E_REGISTRY_URL\"" "$hosts" &&
	grep -qF "[host.\"http://$MIRROR\"]" "$hosts" && ! grep -q tailor "$K8S_CERTS_DIR/$IMAGES/hosts.toml"; then
	pass "node-setup wrote $hosts (mirror, upstream as fallback) and left the operator's own alone"
else
	fail "hosts.toml: $(cat "$hosts" 2>&1)"
fi
if grep -q "^tailor.dev/cpu.target=$HOST_TARGET$" "$FEATURES_DIR/tailor" 2>/dev/null; then
	pass "node-setup wrote the NFD feature file ($(grep -vc '^#' "$FEATURES_DIR/tailor") labels)"
else
	fail "no NFD feature file naming $HOST_TARGET in $FEATURES_DIR"
fi
# What NFD's local source does with the file: label the node.
grep -v '^#' "$FEATURES_DIR/tailor" | xargs kubectl label --overwrite node "$K8S_NODE" >/dev/null ||
	fail "labelling the node from the feature file"

step "a Pod of $E2E_IMAGE"
RESOLVED=$("$TAILOR" resolve "$E2E_IMAGE" --profile host -o json) || fatal "tailor resolve $E2E_IMAGE"
WANT_DIGEST=$(jq -r .digest <<<"$RESOLVED")
WANT_BUILD=$(jq -r '.candidates[0].requirements.target // empty' <<<"$RESOLVED")
UNTAILORED=$(curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
	"$(manifest_url "$E2E_IMAGE")" | sha256sum | cut -d' ' -f1)
if [[ $PINNED == 1 ]]; then
	if [[ sha256:$UNTAILORED == "${E2E_IMAGE#*@}" ]]; then
		pass "the registry answers $E2E_IMAGE with the pinned index's own bytes"
	else
		fail "the registry's answer for $E2E_IMAGE is sha256:$UNTAILORED"
	fi
	pin_webhook_up || fatal "tailor pin-webhook"
fi
cat <<EOF | kubectl apply -f - >/dev/null || fatal "creating the pod"
apiVersion: v1
kind: Pod
metadata: {name: e2e-app}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  automountServiceAccountToken: false
  containers:
    - {name: app, image: "$E2E_IMAGE", imagePullPolicy: Always}
EOF
k8s_wait "pod e2e-app to run" 120 bash -c "kubectl get pod e2e-app -o jsonpath='{.status.phase}' | grep -qE 'Succeeded|Running|Failed'"
sleep 1
kubectl logs e2e-app | sed 's/^/pod> /'
if [[ $PINNED == 1 ]]; then
	spec_image=$(kubectl get pod e2e-app -o jsonpath='{.spec.containers[0].image}')
	note=$(kubectl get pod e2e-app -o jsonpath='{.metadata.annotations.tailor\.dev/pinned}')
	echo "pinned $E2E_IMAGE; the pod's image: $spec_image; tailor.dev/pinned: $note"
	if [[ $spec_image == "$(repo_of "$E2E_IMAGE"):sha256-${E2E_IMAGE##*@sha256:}.tailor" && $(jq -r .app <<<"$note") == "$E2E_IMAGE" ]]; then
		pass "tailor pin-webhook turned the pinned index into its pin tag and kept the pin in tailor.dev/pinned"
	else
		fail "the pod's image is $spec_image (annotation $note), not the pin tag of $E2E_IMAGE"
	fi
fi
IMAGE_ID=$(kubectl get pod e2e-app -o jsonpath='{.status.containerStatuses[0].imageID}')
PULLED=${IMAGE_ID##*@}
GOT_DIGEST=$(ctr --address "$CTR_SOCK" -n k8s.io content get "$PULLED" |
	jq -r --arg a "$ARCH" 'if .manifests then (.manifests[] | select(.platform.architecture == $a) | .digest) else empty end' | head -n 1)
[[ -z $GOT_DIGEST ]] && GOT_DIGEST=$PULLED
echo "resolve --profile host: $WANT_DIGEST (${WANT_BUILD:-generic}); the node pulled $PULLED, running $GOT_DIGEST"
if [[ $GOT_DIGEST == "$WANT_DIGEST" ]]; then
	pass "the pod runs the build tailor resolve --profile host names"
else
	fail "the pod runs $GOT_DIGEST, resolve names $WANT_DIGEST"
fi
if [[ ${PULLED#sha256:} != "$UNTAILORED" ]]; then
	pass "containerd pulled a tailored index through the mirror (not the registry's $UNTAILORED)"
else
	fail "containerd pulled the registry's own index: the mirror was not used"
fi
if [[ ${DEFAULT_IMAGE:-0} == 1 ]]; then
	if kubectl logs e2e-app | grep -qx "build: ${WANT_BUILD:-x86_64}"; then
		pass "the pod says it is the ${WANT_BUILD:-x86_64} build"
	else
		fail "the pod's log does not say build: ${WANT_BUILD:-x86_64}"
	fi
fi
FLEET=$(kubectl get nodes -o json | "$TAILOR" fleet "$E2E_IMAGE" --nodes - -o json)
if [[ $(jq -r --arg n "$K8S_NODE" '.[] | select(.node == $n) | .digest' <<<"$FLEET") == "$WANT_DIGEST" ]]; then
	pass "tailor fleet, from the node's labels, names the same build"
else
	fail "tailor fleet says $(jq -c . <<<"$FLEET")"
fi
kubectl delete pod e2e-app --wait=false >/dev/null
if [[ $PINNED == 1 ]]; then
	step "pinned, with tailor pin-webhook stopped"
	pin_webhook_down
	start=$(date +%s)
	kubectl apply -f - >/dev/null <<EOF || fail "creating a pinned pod with the webhook down"
apiVersion: v1
kind: Pod
metadata: {name: e2e-nohook}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  automountServiceAccountToken: false
  containers:
    - {name: app, image: "$E2E_IMAGE", imagePullPolicy: Always}
EOF
	took=$(($(date +%s) - start))
	k8s_wait "pod e2e-nohook to run" 120 bash -c "kubectl get pod e2e-nohook -o jsonpath='{.status.phase}' | grep -qE 'Succeeded|Running'"
	sleep 1
	kubectl logs e2e-nohook | sed 's/^/pod> /'
	phase=$(kubectl get pod e2e-nohook -o jsonpath='{.status.phase}')
	spec_image=$(kubectl get pod e2e-nohook -o jsonpath='{.spec.containers[0].image}')
	if [[ $phase =~ Succeeded|Running && $spec_image == "$E2E_IMAGE" ]]; then
		pass "with the webhook stopped a pinned pod is admitted in ${took}s, unchanged, and runs ($phase: the runtime's own choice of entry)"
	else
		fail "with the webhook stopped: phase $phase, image $spec_image"
	fi
	kubectl delete pod e2e-nohook --wait=false >/dev/null
	kubectl delete mutatingwebhookconfiguration tailor-pin >/dev/null
fi

step "affinity: kubectl --dry-run=server and the scheduler"
if [[ ${DEFAULT_IMAGE:-0} == 1 ]]; then
	# An index without a generic entry: the which builds but the first.
	entries=()
	while read -r d reqs; do entries+=(--entry "$APPS/which@$d=$reqs"); done < <(
		"$TAILOR" inspect -o json "$E2E_IMAGE" |
			jq -r '.entries[] | select(.requirements.target != null) | "\(.digest) cpu=\(.requirements.target)"')
	"$TAILOR" index create "$APPS/which:nogeneric" "${entries[@]}" >/dev/null || fatal "index create which:nogeneric"
	AFF_IMAGE=$APPS/which:nogeneric
else
	AFF_IMAGE=$E2E_IMAGE
fi
"$TAILOR" affinity "$AFF_IMAGE" >"$WORK/affinity.yaml" || fatal "tailor affinity $AFF_IMAGE"
affinity_pod() { # NAME NODE
	echo "apiVersion: v1"
	echo "kind: Pod"
	echo "metadata: {name: $1}"
	echo "spec:"
	echo "  terminationGracePeriodSeconds: 1"
	echo "  automountServiceAccountToken: false"
	echo "  nodeSelector: {kubernetes.io/hostname: \"$2\"}"
	echo "  tolerations: [{operator: Exists}]"
	echo "  containers: [{name: app, image: \"$AFF_IMAGE\"}]"
	sed 's/^/  /' "$WORK/affinity.yaml"
}
if affinity_pod aff-dry "$K8S_NODE" | kubectl apply --dry-run=server -f - >/dev/null; then
	pass "tailor affinity's YAML in a pod passes kubectl apply --dry-run=server"
else
	fail "the server refuses tailor affinity's YAML"
fi
# Nodes labelled from real CPUs (the corpus), no kubelet behind them: the
# scheduler binds pods to them all the same.
fake=()
while read -r file machine arch; do
	n=corpus-${file#linux-}
	n=${n//[._]/-}
	labels=$("$TAILOR" detect --cpuinfo "../shared/cpu-corpus/$file" --machine "$machine" -o nfd --labels-file /dev/null |
		jq -R 'split("=") | {(.[0]): .[1]}' | jq -s 'add')
	jq -n --arg n "$n" --arg a "$arch" --argjson l "$labels" \
		'{apiVersion: "v1", kind: "Node", metadata: {name: $n, labels: ($l + {"kubernetes.io/hostname": $n, "kubernetes.io/arch": $a, "kubernetes.io/os": "linux"})}}' |
		kubectl create -f - >/dev/null || fatal "creating node $n"
	kubectl patch node "$n" --subresource=status --type=merge -p '{"status": {"capacity": {"cpu": "8", "memory": "16Gi", "pods": "20"}, "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "20"}, "conditions": [{"type": "Ready", "status": "True", "reason": "Fake", "lastHeartbeatTime": "'"$(date -u +%FT%TZ)"'"}]}}' >/dev/null
	fake+=("$n")
done <<EOF
linux-rhel7-ivybridge x86_64 amd64
linux-rhel7-haswell x86_64 amd64
linux-centos7-cascadelake x86_64 amd64
linux-rhel7-zen x86_64 amd64
linux-rocky8.5-zen4 x86_64 amd64
linux-unknown-sapphirerapids x86_64 amd64
linux-amazon-neoverse_v1 aarch64 arm64
EOF
PLAN=$(kubectl get nodes -o json | "$TAILOR" fleet "$AFF_IMAGE" --nodes - -o json)
agree=0 admitted=0 refused=0 i=0
for n in "$K8S_NODE" "${fake[@]}"; do
	i=$((i + 1))
	affinity_pod "aff-$i" "$n" | kubectl apply -f - >/dev/null
done
sleep 3
i=0
for n in "$K8S_NODE" "${fake[@]}"; do
	i=$((i + 1))
	want=$(jq -r --arg n "$n" '.[] | select(.node == $n) | if .digest then "bound" else "unschedulable" end' <<<"$PLAN")
	got=
	for ((t = 0; t < 60; t++)); do
		if [[ -n $(kubectl get pod "aff-$i" -o jsonpath='{.spec.nodeName}') ]]; then got=bound; break; fi
		if kubectl get pod "aff-$i" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}' | grep -q Unschedulable; then
			got=unschedulable
			break
		fi
		sleep 0.5
	done
	echo "  node $n: tailor fleet says ${want}, the scheduler: ${got:-undecided}"
	[[ $got == "$want" ]] && agree=$((agree + 1))
	[[ $got == bound ]] && admitted=$((admitted + 1))
	[[ $got == unschedulable ]] && refused=$((refused + 1))
done
if [[ $agree == $((${#fake[@]} + 1)) && $admitted -gt 0 && $refused -gt 0 ]]; then
	pass "the scheduler places a pod with tailor affinity exactly on the $admitted nodes tailor fleet fits ($refused refused)"
else
	fail "affinity and fleet disagree on $((${#fake[@]} + 1 - agree)) nodes"
fi
kubectl delete pod $(seq -f 'aff-%g' 1 "$i") --force --grace-period=0 >/dev/null 2>&1
for n in "${fake[@]}"; do
	kubectl delete pods -A --field-selector "spec.nodeName=$n" --force --grace-period=0 >/dev/null 2>&1
	kubectl delete node "$n" >/dev/null
done

step "tailor down: a pull through the fallback"
# As a crash or an OOM kill would: no preStop runs, hosts.toml stays, and
# kubelet (paused here so it cannot restart tailor during the pull) is not
# told. crictl pulls through the CRI, as kubelet does.
curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
	"$(manifest_url "$E2E_IMAGE")" >"$WORK/index.json"
mt=$(jq -r '.mediaType // "application/vnd.oci.image.index.v1+json"' "$WORK/index.json")
FALLBACK_REF=$(repo_of "$E2E_IMAGE"):fallback
if [[ $E2E_REGISTRY_URL == http://127.0.0.1:* ]] &&
	curl -sf -X PUT -H "Content-Type: $mt" --data-binary "@$WORK/index.json" "$(manifest_url "$FALLBACK_REF")" >/dev/null; then
	:
else
	FALLBACK_REF=$E2E_IMAGE
	"${CRICTL[@]}" rmi "$E2E_IMAGE" >/dev/null 2>&1
fi
serve_id=$("${CRICTL[@]}" ps --name '^serve$' -q | head -n 1)
serve_pid=$("${CRICTL[@]}" inspect "$serve_id" | jq -r .info.pid)
kubelet_pid=$(cat "$K8S_WORK/pids/kubelet")
kill -STOP "$kubelet_pid"
kill -9 "$serve_pid"
k8s_wait "tailor serve to be gone" 20 bash -c "! curl -s -o /dev/null http://$MIRROR/healthz"
if "${CRICTL[@]}" pull "$FALLBACK_REF" >/dev/null; then
	got=$("${CRICTL[@]}" inspecti -o json "$FALLBACK_REF" | jq -r '.status.repoDigests[]' | sed 's/.*@sha256://')
	if grep -qx "$UNTAILORED" <<<"$got"; then
		pass "with tailor serve killed, $FALLBACK_REF still pulls: the registry's own index, through the fallback"
	else
		fail "pulled $FALLBACK_REF with tailor down, but got $got, not the registry's index $UNTAILORED"
	fi
else
	fail "with tailor serve killed, pulling $FALLBACK_REF fails"
fi
kill -CONT "$kubelet_pid"
if k8s_wait "tailor serve back" 90 curl -sf "http://$MIRROR/healthz"; then
	pass "kubelet restarted tailor serve; the mirror answers again"
else
	fail "tailor serve did not come back"
fi

step "uninstall"
kubectl delete -k "$WORK/overlay" --timeout=120s >/dev/null || fail "kubectl delete -k"
kubectl wait --for=delete namespace/tailor-system --timeout=120s >/dev/null 2>&1
if [[ ! -e $hosts && ! -e $FEATURES_DIR/tailor && -e $K8S_CERTS_DIR/$IMAGES/hosts.toml ]]; then
	pass "uninstall removed tailor's hosts.toml and feature file, kept the operator's"
else
	fail "after uninstall: $(find "$K8S_CERTS_DIR" "$FEATURES_DIR" -type f | tr '\n' ' ')"
fi
