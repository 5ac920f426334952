#!/usr/bin/env bash
# Manifest answers and parallel blob ranges, server CPU side by side in
# one run (each server its own process; CPU from /proc/PID/stat):
#   - a 64-entry index GET by tag by 64 concurrent clients: tailor serve's
#     untailored view (Tailor-Profile: none), its tailored answer
#     (Tailor-Profile: cpu=zen4), the distribution registry, and the same
#     bytes from net/http's static file server (the floor);
#   - a blob (default 1 GiB) fetched as 8 parallel Range GETs: from tailor
#     serve's embedded registry, from net/http's static file server
#     (sendfile, the floor) and from the distribution registry.
#
#   bench/serve/answers.sh                       # N=20000 C=64 ENTRIES=64 MB=1024 FETCHES=2 ROUNDS=5
#   PARTS=ranges FETCHES=4 bench/serve/answers.sh  # the blob part alone
#   BASE=/tmp/tailor-old bench/serve/answers.sh  # an older tailor binary beside, same run
#
# Ports: tailor serve on $PORT and $PORT+1 (BASE), the file server on
# $PORT+2 (default PORT=18020); the distribution registry on a free one.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000}
C=${C:-64}
ENTRIES=${ENTRIES:-64}
MB=${MB:-1024}
FETCHES=${FETCHES:-2}
ROUNDS=${ROUNDS:-5}
PARTS=${PARTS:-manifests,ranges}
PORT=${PORT:-18020}
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
go build -o "$work/fileserver" ./bench/serve/cmd/fileserver
go build -o "$work/getbench" ./bench/serve/cmd/getbench
go build -o "$work/genindex" ./bench/cmd/genindex

up() { for _ in $(seq 100); do curl -sf "http://$1/v2/" -H 'Tailor-Profile: none' >/dev/null && return 0; sleep 0.1; done; echo "no server at $1" >&2; exit 1; }
"$work/tailor" serve --listen "127.0.0.1:$PORT" --storage "$work/serve" 2>"$work/serve.log" & pids+=($!); serve_pid=$!
"$work/registry" -dir "$work/reg" -addr-file "$work/reg.addr" & pids+=($!); reg_pid=$!
for _ in $(seq 100); do [ -s "$work/reg.addr" ] && break; sleep 0.1; done
reg=$(cat "$work/reg.addr")
mkdir -p "$work/files"
"$work/fileserver" -dir "$work/files" -addr "127.0.0.1:$((PORT + 2))" & pids+=($!); files_pid=$!
up "127.0.0.1:$PORT"
up "$reg"
hosts=("127.0.0.1:$PORT" "$reg")
base_m=() base_r=()
if [ -n "${BASE:-}" ]; then
	"$BASE" serve --listen "127.0.0.1:$((PORT + 1))" --storage "$work/base" 2>"$work/base.log" & pids+=($!); base_pid=$!
	up "127.0.0.1:$((PORT + 1))"
	hosts+=("127.0.0.1:$((PORT + 1))")
	m="http://127.0.0.1:$((PORT + 1))/v2/app/manifests/1"
	base_m=(-target "tailor-base-untailored=$base_pid=$m|Tailor-Profile: none" -target "tailor-base-tailored=$base_pid=$m|Tailor-Profile: cpu=zen4")
fi
for h in "${hosts[@]}"; do "$work/genindex" -n "$ENTRIES" -push "$h/app:1"; done

m="http://127.0.0.1:$PORT/v2/app/manifests/1"
# The floor: the same index bytes as a static file.
curl -sf -H 'Tailor-Profile: none' -H 'Accept: application/vnd.oci.image.index.v1+json' -o "$work/files/index.json" "$m"
if [[ $PARTS == *manifests* ]]; then
	echo "== $ENTRIES-entry index by tag, $C concurrent clients"
	"$work/getbench" -mode manifest -c "$C" -n "$N" -rounds "$ROUNDS" \
		-target "tailor-untailored=$serve_pid=$m|Tailor-Profile: none" \
		-target "tailor-tailored=$serve_pid=$m|Tailor-Profile: cpu=zen4" \
		"${base_m[@]}" \
		-target "distribution=$reg_pid=http://$reg/v2/app/manifests/1" \
		-target "file-server=$files_pid=http://127.0.0.1:$((PORT + 2))/index.json"
fi
[[ $PARTS == *ranges* ]] || exit 0

size=$((MB << 20))
push=()
for h in "${hosts[@]}"; do push+=(-push "$h/bench/big"); done
dg=$("$work/getbench" -mode push -size "$size" -file "$work/files/blob" "${push[@]}")
[ -n "${BASE:-}" ] && base_r=(-target "tailor-base=$base_pid=http://127.0.0.1:$((PORT + 1))/v2/bench/big/blobs/$dg")
echo "== $MB MiB blob, 8 parallel ranges"
"$work/getbench" -mode ranges -ranges 8 -size "$size" -n "$FETCHES" -rounds "$ROUNDS" \
	-target "file-server=$files_pid=http://127.0.0.1:$((PORT + 2))/blob" \
	-target "tailor=$serve_pid=http://127.0.0.1:$PORT/v2/bench/big/blobs/$dg" \
	"${base_r[@]}" \
	-target "distribution=$reg_pid=http://$reg/v2/bench/big/blobs/$dg"
