#!/usr/bin/env bash
# Pull benchmark, one process per role (bench/serve/cmd/pullbench): the
# upstream distribution registry, `tailor serve` in front of it and
# distribution's pull-through proxy of it. Prints cold and repeat image
# pulls, manifest-by-tag latency and 1,000 concurrent manifest clients,
# side by side in one run, with CPU seconds per process.
#
#   bench/serve/pull.sh                              # 4 x 64 MiB layers, 5 rounds
#   LAYERS=4 LAYER_MB=256 ROUNDS=3 bench/serve/pull.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/tailor" ./cmd/tailor
go build -o "$work/registry" ./bench/serve/cmd/registry
go build -o "$work/pullbench" ./bench/serve/cmd/pullbench
ulimit -n 65536 2>/dev/null || true
"$work/pullbench" -tailor "$work/tailor" -registry "$work/registry" -work "$work" \
	-layers "${LAYERS:-4}" -layer-mb "${LAYER_MB:-64}" -rounds "${ROUNDS:-5}" \
	-manifests "${MANIFESTS:-2000}" -clients "${CLIENTS:-1000}" -each "${EACH:-5}" -tailor-args "${TAILOR_ARGS:-}"
