#!/usr/bin/env bash
# Peak memory of `tailor build` of a large image: a stack of one dir
# component holding GB of files (incompressible: pseudo-random), built
# into an OCI layout. Peak RSS, CPU (user+sys) and wall time from GNU time
# (/usr/bin/time -v), side by side in one run.
#
#   bench/build.sh                         # GB=1.3 RUNS=1
#   BASE=/tmp/tailor-old bench/build.sh    # an older tailor binary beside
set -euo pipefail
cd "$(dirname "$0")/.."
GB=${GB:-1.3}
RUNS=${RUNS:-1}
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/tailor" ./cmd/tailor
mkdir -p "$work/src/data"
mb=$(awk -v g="$GB" 'BEGIN {printf "%d", g * 1000}')
files=$(((mb + 99) / 100))
for i in $(seq "$files"); do head -c 100000000 /dev/urandom >"$work/src/data/part$i"; done
cat >"$work/src/tailor.yaml" <<'YAML'
image: bench/big:1
axes:
  cpu: [x86_64]
components:
  - name: data
    dir: data
YAML
echo "== tailor build of $(du -sh "$work/src/data" | cut -f1) in $files files into an OCI layout"
printf "%-12s %12s %10s %10s\n" binary "peak RSS MiB" "CPU s" "wall s"
bins=("tailor=$work/tailor")
[ -n "${BASE:-}" ] && bins+=("tailor-base=$BASE")
for _ in $(seq "$RUNS"); do
	for b in "${bins[@]}"; do
		name=${b%%=*} bin=${b#*=}
		rm -rf "$work/out"
		(cd "$work/src" && /usr/bin/time -v "$bin" build -f tailor.yaml --dest "oci:$work/out" >/dev/null 2>"$work/time.txt") || { cat "$work/time.txt" >&2; exit 1; }
		awk -v n="$name" -F': ' '
			/Maximum resident set size/ {rss=$2}
			/User time/ {u=$2} /System time/ {s=$2}
			/Elapsed \(wall clock\)/ {split($2, t, ":"); w = (length(t) == 3) ? t[1]*3600+t[2]*60+t[3] : t[1]*60+t[2]}
			END {printf "%-12s %12.0f %10.2f %10.2f\n", n, rss/1024, u+s, w}' "$work/time.txt"
	done
done
