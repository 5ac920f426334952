#!/usr/bin/env bash
# verify's analysis engine (issue 15): dispatch recognition and verdict
# rules on programs real toolchains build in the tests (Go GOAMD64 v1/v3,
# gcc __builtin_cpu_supports, rustc is_x86_feature_detected!), AVX-512
# subsets against binutils, runs that prove nothing, --record on a Go
# matrix; each case's truth from a qemu-x86_64 run under the declared CPU.
# Installs rustc (Debian's) besides what .ci/run installs. Fails on any
# failure or skip (a missing tool is a failure: TAILOR_REQUIRE_TOOLS).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v rustc >/dev/null || need+=(rustc)
command -v qemu-x86_64 >/dev/null || need+=(qemu-user)
command -v as >/dev/null || need+=(binutils)
command -v gcc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" libgcc-s1 >/dev/null
fi
export TAILOR_REQUIRE_TOOLS=qemu-x86_64,gcc,objdump,as,go,rustc,libgcc-s1

echo "== verify engine: dispatch, verdict rules, subsets, --record (counted)"
out=$(go test -count=1 -v -run 'TestGoMatrix|TestGoRecordSteersSelection|TestCPUCheckDispatch|TestRustDispatch|TestAVX512Subsets|TestRunsThatProveNothing|TestBaselineRun|TestRecordToNewTag|TestParseQemuLog|TestGoFault|TestMatrix|TestDecodeSubsetsAgainstObjdump|TestAnalyze|TestBuildGoMatrix|TestQemuModels' \
  ./verify/... ./cmd/tailor/cli/... 2>&1) || { echo "$out" | tail -80; exit 1; }
passes=$(echo "$out" | grep -c '^--- PASS' || true)
skips=$(echo "$out" | grep -c -- '--- SKIP' || true)
echo "$out" | grep -E 'false mislabeled|instructions, [0-9]+ EVEX' || true
echo "verify engine tests: $passes passed, $skips skipped"
if [ "$skips" -ne 0 ] || [ "$passes" -lt 14 ]; then echo "want at least 14 passes and no skip"; exit 1; fi

echo "== verify engine: fuzz the qemu log and Go SIGILL report parsers (20s)"
go test -run XXX -fuzz FuzzQemuLog -fuzztime 20s ./verify
