#!/usr/bin/env bash
# Resolve beside its peers, whole processes, side by side in one run:
#   - a 10,000-entry index in an OCI layout: `tailor resolve oci:DIR:1`
#     against regclient's `regctl image digest --platform linux/amd64
#     ocidir://DIR:1` (CPU = user+sys from each child's rusage, bench/cmd/cpucmp);
#   - a 64-entry index in a loopback distribution registry: `tailor
#     resolve` against `crane digest --platform linux/amd64`, in CPU time
#     and in instructions (valgrind --tool=callgrind, which the machine's
#     load does not move).
#
#   bench/resolve.sh                     # N=10000 SMALL=64 RUNS=21 CALLGRIND=3
#   BASE=/tmp/tailor-old bench/resolve.sh  # an older tailor binary beside, same run
#
# Needs go (regctl is built from the Go module proxy, once, into $CACHE),
# valgrind for the instruction counts.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
SMALL=${SMALL:-64}
RUNS=${RUNS:-21}
CALLGRIND=${CALLGRIND:-3}
REGCTL_VERSION=${REGCTL_VERSION:-v0.11.7}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tailor-bench}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

export CGO_ENABLED=0 # as released: tailor's install line and crane's releases
go build -o "$work/tailor" ./cmd/tailor
go build -o "$work/crane" github.com/google/go-containerregistry/cmd/crane
go build -o "$work/genindex" ./bench/cmd/genindex
go build -o "$work/cpucmp" ./bench/cmd/cpucmp
go build -o "$work/registry" ./bench/serve/cmd/registry
if [ ! -x "$CACHE/regctl-$REGCTL_VERSION" ]; then
	mkdir -p "$CACHE"
	(cd "$work" && GOBIN="$work/gobin" go install "github.com/regclient/regclient/cmd/regctl@$REGCTL_VERSION")
	mv "$work/gobin/regctl" "$CACHE/regctl-$REGCTL_VERSION"
fi
regctl="$CACHE/regctl-$REGCTL_VERSION"
base=()
[ -n "${BASE:-}" ] && base=("tailor-base=$BASE resolve oci:$work/big:1 --profile cpu=zen4")

"$work/genindex" -n "$N" -layout "$work/big" -tag 1
echo "== $N-entry index in an OCI layout ($(du -sh "$work/big/blobs" | cut -f1) of blobs), $RUNS runs"
"$work/cpucmp" -runs "$RUNS" -want "regctl=sha256:" -want "tailor=@sha256:" \
	"regctl=$regctl image digest --platform linux/amd64 ocidir://$work/big:1" \
	"tailor=$work/tailor resolve oci:$work/big:1 --profile cpu=zen4" "${base[@]}"

"$work/registry" -dir "$work/reg" -addr-file "$work/reg.addr" & pids+=($!)
for _ in $(seq 100); do [ -s "$work/reg.addr" ] && break; sleep 0.1; done
reg=$(cat "$work/reg.addr")
"$work/genindex" -n "$SMALL" -push "$reg/app:1"
ref="$reg/app:1"
base=()
[ -n "${BASE:-}" ] && base=("tailor-base=$BASE resolve $ref --profile cpu=zen4")
echo "== $SMALL-entry index in a loopback distribution registry, $RUNS runs"
"$work/cpucmp" -runs "$RUNS" -want "crane=sha256:" -want "tailor=@sha256:" \
	"crane=$work/crane digest --platform linux/amd64 $ref" \
	"tailor=$work/tailor resolve $ref --profile cpu=zen4" "${base[@]}"

if [ "$CALLGRIND" -gt 0 ]; then
	command -v valgrind >/dev/null || { echo "valgrind not on PATH (CALLGRIND=0 skips the instruction counts)" >&2; exit 1; }
	echo "== instructions (callgrind, GODEBUG=asyncpreemptoff=1), median of $CALLGRIND"
	instr() { # name argv...: median instruction count
		local name=$1 i out
		shift
		for i in $(seq "$CALLGRIND"); do
			out=$(GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null) || { echo "$name failed: $out" >&2; exit 1; }
			sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out"
		done | sort -n | awk -v n="$name" '{a[NR]=$1} END {print n, a[int((NR+1)/2)]}'
	}
	{
		instr crane "$work/crane" digest --platform linux/amd64 "$ref"
		instr tailor "$work/tailor" resolve "$ref" --profile cpu=zen4
		[ -n "${BASE:-}" ] && instr tailor-base "$BASE" resolve "$ref" --profile cpu=zen4
		[ -n "${BASE:-}" ] || true
	} | awk 'NR==1 {ref=$2} {printf "%-14s %12d instructions  %.2fx crane\n", $1, $2, $2/ref}'
fi
