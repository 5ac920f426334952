# Shared helpers of the tailor serve scripts (sourced).

# wait_file FILE: wait up to 20 s for FILE to be non-empty.
wait_file() {
	for _ in $(seq 1 200); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# start_serve LOG ARGS...: start tailor serve on a free loopback port in
# the background; sets SERVE_PID and SERVE_ADDR.
start_serve() {
	local log=$1
	shift
	: >"$log" # there before the background shell opens it: sed below must not fail
	"$TAILOR" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	for _ in $(seq 1 200); do
		SERVE_ADDR=$(sed -n 's/.*tailor serve listening" addr=\([0-9.:]*\).*/\1/p' "$log" | head -1)
		[ -n "$SERVE_ADDR" ] && return 0
		sleep 0.1
	done
	echo "tailor serve did not start:" >&2
	cat "$log" >&2
	return 1
}

# start_upstream DIR ARGS...: the distribution registry with the example
# index; sets UPSTREAM_ADDR and UPSTREAM_PID.
start_upstream() {
	local dir=$1
	shift
	"$UPSTREAM" -dir "$dir/data" -addr-file "$dir/addr" "$@" >"$dir/log" 2>&1 &
	UPSTREAM_PID=$!
	PIDS+=("$UPSTREAM_PID")
	wait_file "$dir/addr"
	UPSTREAM_ADDR=$(cat "$dir/addr")
}

stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}

# start_containerd DIR: a private containerd (its CRI plugin off) with its
# root, state and socket (DIR/containerd.sock) under DIR, in the
# background; sets CTR_PID and waits for the socket.
start_containerd() {
	local ctd=$1
	mkdir -p "$ctd/root" "$ctd/state"
	cat >"$ctd/config.toml" <<TOML
version = 2
root = "$ctd/root"
state = "$ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctd/containerd.sock"
[ttrpc]
  address = "$ctd/containerd.sock.ttrpc"
[debug]
  address = ""
TOML
	containerd --config "$ctd/config.toml" >"$ctd/log" 2>&1 &
	CTR_PID=$!
	for _ in $(seq 1 100); do [ -S "$ctd/containerd.sock" ] && break; sleep 0.1; done
}

# run_from_layout DIR: unpack the image's layers from an OCI layout and
# run /hello. An index (ctr image export keeps the tailored one) is
# followed to its linux/amd64 entry.
run_from_layout() {
	local layout=$1 rootfs=$1.rootfs manifest
	mkdir -p "$rootfs"
	manifest=$(jq -r '.manifests[0].digest' "$layout/index.json" | sed 's/sha256://')
	while jq -e '.manifests' "$layout/blobs/sha256/$manifest" >/dev/null 2>&1; do
		manifest=$(jq -r '[.manifests[] | select(.platform.os == "linux" and .platform.architecture == "amd64")][0].digest' \
			"$layout/blobs/sha256/$manifest" | sed 's/sha256://')
	done
	for l in $(jq -r '.layers[].digest' "$layout/blobs/sha256/$manifest" | sed 's/sha256://'); do
		tar -xzf "$layout/blobs/sha256/$l" -C "$rootfs" 2>/dev/null || tar -xf "$layout/blobs/sha256/$l" -C "$rootfs"
	done
	"$rootfs/hello"
}
