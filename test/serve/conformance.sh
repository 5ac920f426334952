#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite against tailor serve:
#   embedded mode: push and pull tests against `tailor serve` alone;
#   proxy mode:    pull tests (read-only data) through `tailor serve` in
#                  front of a distribution registry holding a tailored index;
#   baseline:      the same push and pull tests against distribution itself.
# Prints pass/fail counts of each; exits non-zero when tailor serve fails a
# test the distribution registry itself passes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/test/serve/lib.sh"
CONFORMANCE_VERSION=${CONFORMANCE_VERSION:-v0.0.0-20260831232431-97274622c111}
work=$(mktemp -d)
PIDS=()
trap 'stop_all; rm -rf "$work"' EXIT

echo "== building tailor, the upstream registry and the conformance suite"
(cd "$root" && go build -o "$work/tailor" ./cmd/tailor && go build -o "$work/upstream" ./test/serve/cmd/upstream &&
	CGO_ENABLED=0 go build -o "$work/hello" ./test/serve/cmd/hello)
TAILOR=$work/tailor UPSTREAM=$work/upstream
mkdir -p "$work/suite"
(cd "$work/suite" && printf 'module conformancebuild\n\ngo 1.26\n' >go.mod &&
	GOFLAGS=-mod=mod go get "github.com/opencontainers/distribution-spec/conformance@$CONFORMANCE_VERSION" >/dev/null 2>&1 &&
	GOFLAGS=-mod=mod go test -c -o "$work/conformance.test" github.com/opencontainers/distribution-spec/conformance)

# suite NAME REGISTRY [VAR=VALUE...]: run the suite, print its counts.
suite() {
	local name=$1 reg=$2
	shift 2
	mkdir -p "$work/res-$name"
	(cd "$work/res-$name" && env OCI_REGISTRY="$reg" OCI_TLS=disabled OCI_RESULTS_DIR="$work/res-$name/out" "$@" \
		timeout 600 "$work/conformance.test" >"$work/res-$name/log" 2>&1) || true
	local pass fail total
	pass=$(sed -n 's/^ *Pass\.*: *\([0-9]*\)$/\1/p' "$work/res-$name/log" | head -1)
	fail=$(sed -n 's/^ *FAIL\.*: *\([0-9]*\)$/\1/p' "$work/res-$name/log" | head -1)
	total=$(sed -n 's/^ *Total\.*: *\([0-9]*\)$/\1/p' "$work/res-$name/log" | head -1)
	echo "$name: pass=${pass:-?} fail=${fail:-?} total=${total:-?}"
	sed -n '/^API conformance:/,$p' "$work/res-$name/log" | grep -E 'conformance:|\.\.\.:' | grep -v Disabled |
		sed 's/^/    /' >"$work/res-$name/summary"
	eval "${name}_fail=${fail:-999}"
}

echo "== baseline: distribution v3 registry alone"
mkdir -p "$work/base"
start_upstream "$work/base"
suite baseline "$UPSTREAM_ADDR"

echo "== embedded mode: tailor serve alone (push + pull)"
start_serve "$work/emb.log" --storage "$work/emb" --profile cpu=haswell
suite embedded "$SERVE_ADDR"
cat "$work/res-embedded/summary"
if diff <(cat "$work/res-baseline/summary") <(cat "$work/res-embedded/summary") >/dev/null; then
	echo "embedded: every API/data category has the same verdict as distribution itself"
else
	echo "embedded: verdicts differ from distribution's:"
	diff "$work/res-baseline/summary" "$work/res-embedded/summary" || true
fi

echo "== proxy mode: tailor serve in front of distribution (pull, read-only data)"
mkdir -p "$work/up"
start_upstream "$work/up" -ro-file "$work/ro.env" -variant generic="$work/hello" -variant haswell="$work/hello" \
	-variant skylake_avx512="$work/hello"
start_serve "$work/proxy.log" --storage "$work/proxy" --profile cpu=haswell --upstream "up=http://$UPSTREAM_ADDR"
set -a
. "$work/ro.env"
set +a
suite proxy "$SERVE_ADDR" OCI_REPO1=app OCI_API_PUSH=false OCI_API_BLOBS_DELETE=false \
	OCI_API_MANIFESTS_DELETE=false OCI_API_TAGS_DELETE=false OCI_API_REFERRER=false
cat "$work/res-proxy/summary"

status=0
if [ "$embedded_fail" -gt "$baseline_fail" ]; then
	echo "FAIL: tailor serve (embedded) fails more tests than distribution itself"
	status=1
fi
if [ "$proxy_fail" -ne 0 ]; then
	echo "FAIL: proxy-mode pull tests failed"
	status=1
fi
exit $status
