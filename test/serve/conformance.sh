#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite (built from the Go module
# proxy at a pinned version) four times:
#   distribution     the distribution registry alone, push + pull: the reference;
#   embedded         `tailor serve` alone, push + pull: tailor's own registry;
#   distribution-ro  distribution holding a tailored index, pull only (read-only data);
#   proxy            `tailor serve` in front of that distribution, the same pull-only run;
# then gates on the results with test/serve/cmd/confgate, which fails when
#   - a run's report is missing or unreadable,
#   - a run exits non-zero for a reason other than the test failures it reports
#     (a crash, a timeout), or zero while reporting failures,
#   - any test has the suite's Error status (a failure of the test engine),
#   - a run passes fewer tests than its minimum below,
#   - a test or an API/data category passes against distribution and not
#     against tailor (embedded vs distribution, proxy vs distribution-ro);
# and prints the per-category table of the four runs. Where tailor passes
# more than distribution it says so; that does not fail.
# Logs and the suite's reports stay in $CONFORMANCE_OUT (default: a temp dir,
# removed unless the gate fails).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/test/serve/lib.sh"
CONFORMANCE_VERSION=${CONFORMANCE_VERSION:-v0.0.0-20260831232431-97274622c111}
# Passes of each run at that version (distribution v3.1.2, go.mod): fewer fail.
MIN_DISTRIBUTION=${MIN_DISTRIBUTION:-743}
# embedded: the suite skips its anonymous-mount tests since a mount without
# from is refused (a session, as distribution does).
MIN_EMBEDDED=${MIN_EMBEDDED:-854}
MIN_DISTRIBUTION_RO=${MIN_DISTRIBUTION_RO:-20}
MIN_PROXY=${MIN_PROXY:-20}
work=$(mktemp -d)
out=${CONFORMANCE_OUT:-$work/out}
mkdir -p "$out"
PIDS=()
keep=0
cleanup() {
	stop_all
	if [ "$keep" = 1 ] && [ -z "${CONFORMANCE_OUT:-}" ]; then
		cp -r "$out" "${TMPDIR:-/tmp}/conformance-$$" && echo "logs kept in ${TMPDIR:-/tmp}/conformance-$$"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building tailor, the upstream registry, the gate and the conformance suite $CONFORMANCE_VERSION"
(cd "$root" && go build -o "$work/tailor" ./cmd/tailor && go build -o "$work/upstream" ./test/serve/cmd/upstream &&
	go build -o "$work/confgate" ./test/serve/cmd/confgate &&
	CGO_ENABLED=0 go build -o "$work/hello" ./test/serve/cmd/hello)
TAILOR=$work/tailor UPSTREAM=$work/upstream
mkdir -p "$work/suite"
(cd "$work/suite" && printf 'module conformancebuild\n\ngo 1.26\n' >go.mod &&
	GOFLAGS=-mod=mod go get "github.com/opencontainers/distribution-spec/conformance@$CONFORMANCE_VERSION" &&
	GOFLAGS=-mod=mod go build -o "$work/conformance" github.com/opencontainers/distribution-spec/conformance)

# suite NAME REGISTRY [VAR=VALUE...]: run the suite; its output goes to
# $out/NAME/log, its exit status to $out/NAME/rc, its reports to $out/NAME/results.
suite() {
	local name=$1 reg=$2 rc=0
	shift 2
	mkdir -p "$out/$name"
	(cd "$out/$name" && env OCI_REGISTRY="$reg" OCI_TLS=disabled OCI_RESULTS_DIR="$out/$name/results" "$@" \
		timeout 900 "$work/conformance" >"$out/$name/log" 2>&1) || rc=$?
	echo "$rc" >"$out/$name/rc"
	echo "$name: suite exit status $rc, $(grep -m1 '^OCI Conformance Result:' "$out/$name/log" || echo 'no result line')"
}

echo "== distribution alone (push + pull)"
mkdir -p "$work/base"
start_upstream "$work/base"
suite distribution "$UPSTREAM_ADDR"

echo "== tailor serve alone: the embedded registry (push + pull)"
start_serve "$work/emb.log" --storage "$work/emb" --profile cpu=haswell
suite embedded "$SERVE_ADDR"

echo "== distribution with a tailored index, and tailor serve in front of it (pull, read-only data)"
mkdir -p "$work/up"
start_upstream "$work/up" -ro-file "$work/ro.env" -variant generic="$work/hello" -variant haswell="$work/hello" \
	-variant skylake_avx512="$work/hello"
start_serve "$work/proxy.log" --storage "$work/proxy" --profile cpu=haswell --upstream "up=http://$UPSTREAM_ADDR"
set -a
. "$work/ro.env"
set +a
ro=(OCI_REPO1=app OCI_API_PUSH=false OCI_API_BLOBS_DELETE=false OCI_API_MANIFESTS_DELETE=false
	OCI_API_TAGS_DELETE=false OCI_API_REFERRER=false)
suite distribution-ro "$UPSTREAM_ADDR" "${ro[@]}"
suite proxy "$SERVE_ADDR" "${ro[@]}"

echo "== gate"
if ! "$work/confgate" \
	-run "distribution=$out/distribution:$MIN_DISTRIBUTION" \
	-run "embedded=$out/embedded:$MIN_EMBEDDED" \
	-run "distribution-ro=$out/distribution-ro:$MIN_DISTRIBUTION_RO" \
	-run "proxy=$out/proxy:$MIN_PROXY" \
	-compare embedded=distribution -compare proxy=distribution-ro; then
	keep=1
	exit 1
fi
