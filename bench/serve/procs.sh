#!/usr/bin/env bash
# Multi-process blob benchmark: the upstream distribution registry,
# distribution's pull-through proxy of it, `tailor serve` in front of it
# and the client each run as their own process, as in use. Prints the
# median throughput of each path, the CPU seconds each process spends per
# GiB, and the peak RSS of the servers.
#
#   bench/serve/procs.sh                      # 1 GiB blob, 5 rounds
#   MB=256 REPS=3 CURL=1 bench/serve/procs.sh # smaller; curl cross-check
#   BASE=/tmp/tailor-old bench/serve/procs.sh  # also an older tailor binary, same run
set -euo pipefail
cd "$(dirname "$0")/../.."
MB=${MB:-1024}
REPS=${REPS:-5}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/tailor" ./cmd/tailor
go build -o "$work/registry" ./bench/serve/cmd/registry
go build -o "$work/blobbench" ./bench/serve/cmd/blobbench

wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; echo "no $1" >&2; exit 1; }

"$work/registry" -dir "$work/up" -addr-file "$work/up.addr" & pids+=($!); up_pid=$!
wait_file "$work/up.addr"; up=$(cat "$work/up.addr")
"$work/registry" -dir "$work/proxy" -addr-file "$work/proxy.addr" -proxy "http://$up" & pids+=($!); proxy_pid=$!
wait_file "$work/proxy.addr"; proxy=$(cat "$work/proxy.addr")
"$work/tailor" serve --listen 127.0.0.1:0 --storage "$work/serve" --profile cpu=haswell \
	--upstream "up=http://$up" 2>"$work/serve.log" & pids+=($!); serve_pid=$!
for _ in $(seq 100); do grep -q 'addr=' "$work/serve.log" && break; sleep 0.1; done
serve=$(sed -n 's/.*addr=\([0-9.:]*\).*/\1/p' "$work/serve.log" | head -1)
echo "upstream $up (pid $up_pid), tailor serve $serve (pid $serve_pid), distribution proxy $proxy (pid $proxy_pid)"
base_args=()
if [ -n "${BASE:-}" ]; then
	"$BASE" serve --listen 127.0.0.1:0 --storage "$work/base" --profile cpu=haswell \
		--upstream "up=http://$up" 2>"$work/base.log" & pids+=($!); base_pid=$!
	for _ in $(seq 100); do grep -q 'addr=' "$work/base.log" && break; sleep 0.1; done
	base=$(sed -n 's/.*addr=\([0-9.:]*\).*/\1/p' "$work/base.log" | head -1)
	base_args=(-target "tailor-serve-base=http://$base" -pid "base=$base_pid")
fi

"$work/blobbench" -upstream "$up" -mb "$MB" -reps "$REPS" \
	-target "direct=http://$up" -target "tailor-serve=http://$serve" -target "distribution-proxy=http://$proxy" \
	-pid "client=self" -pid "upstream=$up_pid" -pid "serve=$serve_pid" -pid "proxy=$proxy_pid" "${base_args[@]}" | tee "$work/out"

if [ -n "${CURL:-}" ]; then
	dg=$(sed -n 's/^blob \(sha256:[0-9a-f]*\).*/\1/p' "$work/out")
	for t in "direct=$up" "tailor-serve=$serve" "distribution-proxy=$proxy"; do
		for _ in 1 2 3; do
			curl -sS -o /dev/null -w "curl ${t%%=*} %{speed_download}\n" "http://${t#*=}/v2/bench/big/blobs/$dg"
		done
	done | awk '{printf "%s %s %.0f MB/s\n", $1, $2, $3/1e6}'
fi
