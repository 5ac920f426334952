# shellcheck shell=bash
# cluster.sh: a real single-node Kubernetes for tests, as
# ../../../shared/kubernetes-here.md describes (every setting below was a
# failure before it was set). Source it, then:
#   cluster_up     start containerd, etcd, the control plane and kubelet
#                  under $K8S_WORK; KUBECONFIG points at it
#   cluster_down   stop everything, unmount, and restore what kubelet
#                  changed on the host
# Needs: root, $KUBE_BIN (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet; test/k8s/build-kube.sh), Debian's etcd-server,
# containerd, runc and containernetworking-plugins, kubectl, openssl, ip,
# and a pause image ($K8S_PAUSE_TAR, an OCI archive) for the sandboxes.

: "${K8S_WORK:?K8S_WORK names the cluster directory}"
: "${KUBE_BIN:?KUBE_BIN: the Kubernetes binaries}"
K8S_NODE=$(hostname)
K8S_PAUSE_IMAGE=registry.k8s.io/pause:3.10
K8S_BRIDGE=tailork8s0
K8S_POD_CIDR=10.244.77.0/24
K8S_ETCD_PORT=${K8S_ETCD_PORT:-23790}
K8S_API_PORT=${K8S_API_PORT:-6443}
CTR_SOCK=$K8S_WORK/containerd/containerd.sock
K8S_PIDS=()
K8S_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
declare -A K8S_SAVED_SYSCTL=()
K8S_HAD_VARLIBKUBELET=0
K8S_HAD_VARLOGCONTAINERS=0
export KUBECONFIG=$K8S_WORK/admin.kubeconfig

k8s_log() { echo "[cluster] $*" >&2; }

# k8s_start NAME CMD...: run a component in the background, its output in
# logs/NAME.log; its pid is remembered for cluster_down.
k8s_start() {
	local name=$1
	shift
	"$@" >"$K8S_WORK/logs/$name.log" 2>&1 &
	K8S_PIDS+=("$!")
	disown "$!" # cluster_down stops it; no job messages
	echo "$!" >"$K8S_WORK/pids/$name"
}

# k8s_wait WHAT SECONDS CMD...: retry CMD until it succeeds.
k8s_wait() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 4; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.25
	done
	k8s_log "timed out after ${secs}s waiting for $what"
	return 1
}

k8s_kubeconfig() { # USER TOKEN FILE
	cat >"$3" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://127.0.0.1:$K8S_API_PORT", insecure-skip-tls-verify: true}
users:
- name: $1
  user: {token: "$2"}
contexts:
- name: e2e
  context: {cluster: e2e, user: $1}
current-context: e2e
EOF
}

k8s_credentials() {
	local pki=$K8S_WORK/pki t_admin t_node t_cm t_sched
	mkdir -p "$pki"
	openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
	openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
	t_admin=$(openssl rand -hex 16) t_node=$(openssl rand -hex 16)
	t_cm=$(openssl rand -hex 16) t_sched=$(openssl rand -hex 16)
	cat >"$pki/tokens.csv" <<EOF
$t_admin,admin,admin,system:masters
$t_node,system:node:$K8S_NODE,node,system:nodes
$t_cm,system:kube-controller-manager,cm
$t_sched,system:kube-scheduler,sched
EOF
	k8s_kubeconfig admin "$t_admin" "$K8S_WORK/admin.kubeconfig"
	k8s_kubeconfig "system:node:$K8S_NODE" "$t_node" "$K8S_WORK/kubelet.kubeconfig"
	k8s_kubeconfig system:kube-controller-manager "$t_cm" "$K8S_WORK/cm.kubeconfig"
	k8s_kubeconfig system:kube-scheduler "$t_sched" "$K8S_WORK/sched.kubeconfig"
}

k8s_containerd() {
	local d=$K8S_WORK/containerd
	mkdir -p "$d/root" "$d/state" "$K8S_WORK/cni" "$K8S_CERTS_DIR"
	cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$K8S_PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: runc fails on kubelet's -998.
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$K8S_WORK/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$K8S_CERTS_DIR"
EOF
	# A bridge that leaves host iptables and ip_forward alone.
	cat >"$K8S_WORK/cni/10-e2e.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "e2e", "plugins": [
  {"type": "bridge", "bridge": "$K8S_BRIDGE", "isGateway": false, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$K8S_POD_CIDR"}]],
            "dataDir": "$K8S_WORK/cni-ipam"}},
  {"type": "loopback"}]}
EOF
	k8s_start containerd containerd --config "$d/config.toml"
	k8s_wait containerd 30 ctr --address "$CTR_SOCK" version
	ctr --address "$CTR_SOCK" -n k8s.io images import --index-name "$K8S_PAUSE_IMAGE" "$K8S_PAUSE_TAR" >/dev/null
}

k8s_control_plane() {
	local pki=$K8S_WORK/pki
	k8s_start etcd etcd --data-dir "$K8S_WORK/etcd" --name e2e \
		--listen-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$((K8S_ETCD_PORT + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((K8S_ETCD_PORT + 10))" \
		--initial-cluster "e2e=http://127.0.0.1:$((K8S_ETCD_PORT + 10))"
	k8s_wait etcd 30 curl -sf "http://127.0.0.1:$K8S_ETCD_PORT/health"
	# --endpoint-reconciler-type=none: 127.0.0.1 is in the loopback range,
	# which the default reconciler refuses.
	k8s_start kube-apiserver "$KUBE_BIN/kube-apiserver" \
		--etcd-servers="http://127.0.0.1:$K8S_ETCD_PORT" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
		--endpoint-reconciler-type=none --secure-port="$K8S_API_PORT" --cert-dir="$pki" \
		--service-cluster-ip-range=10.0.0.0/24 --service-account-issuer=https://kubernetes.default.svc \
		--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
		--token-auth-file="$pki/tokens.csv" --authorization-mode=Node,RBAC \
		--enable-admission-plugins=NodeRestriction
	k8s_wait kube-apiserver 90 kubectl get --raw /readyz
	local common=(--leader-elect=false --bind-address=127.0.0.1)
	# --use-service-account-credentials: under RBAC the controller manager's
	# own role cannot create pods.
	k8s_start kube-controller-manager "$KUBE_BIN/kube-controller-manager" "${common[@]}" \
		--kubeconfig="$K8S_WORK/cm.kubeconfig" --authentication-kubeconfig="$K8S_WORK/cm.kubeconfig" \
		--authorization-kubeconfig="$K8S_WORK/cm.kubeconfig" --use-service-account-credentials=true \
		--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/apiserver.crt"
	k8s_start kube-scheduler "$KUBE_BIN/kube-scheduler" "${common[@]}" \
		--kubeconfig="$K8S_WORK/sched.kubeconfig" --authentication-kubeconfig="$K8S_WORK/sched.kubeconfig" \
		--authorization-kubeconfig="$K8S_WORK/sched.kubeconfig"
}

k8s_kubelet() {
	local s
	for s in "${K8S_SYSCTLS[@]}"; do K8S_SAVED_SYSCTL[$s]=$(sysctl -n "$s"); done
	[[ -e /var/lib/kubelet ]] && K8S_HAD_VARLIBKUBELET=1
	[[ -e /var/log/containers ]] && K8S_HAD_VARLOGCONTAINERS=1
	# cgroup v1 (hybrid) here: failCgroupV1 false, cgroupfs, no swap check.
	cat >"$K8S_WORK/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$CTR_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
enforceNodeAllocatable: []
evictionHard: {}
makeIPTablesUtilChains: false
podLogsDir: $K8S_WORK/pod-logs
serializeImagePulls: false
imageGCHighThresholdPercent: 100
EOF
	k8s_start kubelet "$KUBE_BIN/kubelet" --config="$K8S_WORK/kubelet.yaml" \
		--kubeconfig="$K8S_WORK/kubelet.kubeconfig" --root-dir="$K8S_WORK/kubelet" \
		--cert-dir="$K8S_WORK/kubelet-pki"
	k8s_wait "node $K8S_NODE Ready" 120 kubectl wait --for=condition=Ready "node/$K8S_NODE" --timeout=1s
	k8s_wait "default service account" 60 kubectl get serviceaccount default
}

cluster_up() {
	mkdir -p "$K8S_WORK/logs" "$K8S_WORK/pids" "$K8S_WORK/pod-logs"
	local start=$SECONDS
	k8s_credentials
	k8s_containerd || return 1
	k8s_control_plane || return 1
	k8s_kubelet || return 1
	k8s_log "node $K8S_NODE Ready in $((SECONDS - start))s"
}

# k8s_pids_using PATTERN: pids of processes whose command line holds
# PATTERN (a path under $K8S_WORK, so only this cluster's shims and
# containers match).
k8s_pids_using() {
	local f pid cmd
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
		if [[ $cmd == *"$1"* ]]; then echo "$pid"; fi
	done
}

cluster_down() {
	local pid i s m
	k8s_log "tearing down"
	if [[ -S $CTR_SOCK ]]; then
		# Stop kubelet first so it restarts nothing, then every task.
		[[ -f $K8S_WORK/pids/kubelet ]] && kill "$(cat "$K8S_WORK/pids/kubelet")" 2>/dev/null
		for pid in $(ctr --address "$CTR_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr --address "$CTR_SOCK" -n k8s.io tasks kill -s SIGKILL "$pid" >/dev/null 2>&1
		done
		sleep 1
		for pid in $(ctr --address "$CTR_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr --address "$CTR_SOCK" -n k8s.io tasks delete -f "$pid" >/dev/null 2>&1
		done
	fi
	for ((i = ${#K8S_PIDS[@]} - 1; i >= 0; i--)); do
		kill "${K8S_PIDS[i]}" 2>/dev/null
	done
	for pid in "${K8S_PIDS[@]}"; do
		for ((s = 0; s < 40; s++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
		kill -9 "$pid" 2>/dev/null
	done
	# containerd's shims outlive it: they are found by this cluster's socket.
	for pid in $(k8s_pids_using "$CTR_SOCK"); do kill -9 "$pid" 2>/dev/null; done
	# kubelet bind-mounts its root onto itself and leaves tmpfs volumes;
	# containerd leaves rootfs and netns mounts: unmount all, deepest first.
	for ((i = 0; i < 5; i++)); do
		m=$(awk -v w="$K8S_WORK" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r)
		[[ -z $m ]] && break
		while read -r s; do umount "$s" 2>/dev/null || umount -l "$s" 2>/dev/null; done <<<"$m"
	done
	ip link del "$K8S_BRIDGE" >/dev/null 2>&1
	for s in "${!K8S_SAVED_SYSCTL[@]}"; do sysctl -qw "$s=${K8S_SAVED_SYSCTL[$s]}"; done
	if [[ $K8S_HAD_VARLIBKUBELET == 0 ]]; then
		rm -rf /var/lib/kubelet
	else
		rm -f /var/lib/kubelet/device-plugins/kubelet.sock
	fi
	if [[ $K8S_HAD_VARLOGCONTAINERS == 0 ]]; then
		rm -rf /var/log/containers
	else
		find /var/log/containers -lname "$K8S_WORK/*" -delete 2>/dev/null
	fi
	# Pod cgroups kubelet created (cgroupfs): empty after the tasks died.
	for m in /sys/fs/cgroup/*/kubepods* /sys/fs/cgroup/kubepods*; do
		[[ -d $m ]] && find "$m" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

# cluster_check_restored: fail when something kubelet changed is left.
cluster_check_restored() {
	local s bad=0
	for s in "${!K8S_SAVED_SYSCTL[@]}"; do
		if [[ $(sysctl -n "$s") != "${K8S_SAVED_SYSCTL[$s]}" ]]; then
			k8s_log "sysctl $s not restored"
			bad=1
		fi
	done
	if awk -v w="$K8S_WORK" 'index($2, w) == 1 {found=1} END {exit !found}' /proc/self/mounts; then
		k8s_log "mounts left under $K8S_WORK"
		bad=1
	fi
	if ip link show "$K8S_BRIDGE" >/dev/null 2>&1; then
		k8s_log "bridge $K8S_BRIDGE left"
		bad=1
	fi
	if [[ $K8S_HAD_VARLIBKUBELET == 0 && -e /var/lib/kubelet ]]; then
		k8s_log "/var/lib/kubelet left"
		bad=1
	fi
	if [[ -n $(k8s_pids_using "$K8S_WORK") ]]; then
		k8s_log "processes left: $(k8s_pids_using "$K8S_WORK" | tr '\n' ' ')"
		bad=1
	fi
	return $bad
}
