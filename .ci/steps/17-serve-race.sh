#!/usr/bin/env bash
# Issue 17's CI step: the network-facing packages under the race detector,
# the attack regressions that need real tools (skopeo copying a tailored
# answer, Python's tomllib reading node-setup's TOML) required rather than
# skipped, and the network-facing fuzzers run with a fuzz time, not only
# their seeds. Installs skopeo and python3 (apt-get). Counts passes and
# failures; exits non-zero on any failure or missing tool.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
export DEBIAN_FRONTEND=noninteractive
FUZZTIME=${FUZZTIME:-15s}

if ! command -v skopeo >/dev/null || ! command -v python3 >/dev/null; then
	apt-get update -qq && apt-get install -y -qq skopeo python3 >/dev/null
fi
for tool in go skopeo python3; do
	command -v "$tool" >/dev/null || { echo "17-serve-race: $tool is missing"; exit 1; }
done

pass=0 fail=0
run() { # name, command...
	local name=$1
	shift
	echo "== 17: $name"
	if "$@"; then
		pass=$((pass + 1))
	else
		echo "FAIL: $name"
		fail=$((fail + 1))
	fi
}

run "go test -race registry content serve remote" go test -race -count=1 -timeout 30m ./registry/ ./content/ ./serve/ ./remote/
run "real tools: a copied answer never escapes; node-setup TOML" \
	env TAILOR_REQUIRE_TOOLS=skopeo,python3 go test -count=1 -run 'TestSkopeoCopiedAnswerNeverEscapes|TestHostsTOMLValid' ./serve/ ./mirrorconfig/

# The fuzzers: where they live, and each for FUZZTIME.
run "fuzz FuzzServeHTTP" go test -run '^$' -fuzz '^FuzzServeHTTP$' -fuzztime "$FUZZTIME" ./serve/
run "fuzz FuzzTokenRequest" go test -run '^$' -fuzz '^FuzzTokenRequest$' -fuzztime "$FUZZTIME" ./serve/
run "fuzz FuzzParsePath" go test -run '^$' -fuzz '^FuzzParsePath$' -fuzztime "$FUZZTIME" ./registry/
run "fuzz FuzzParseManifest" go test -run '^$' -fuzz '^FuzzParseManifest$' -fuzztime "$FUZZTIME" ./registry/

echo "17-serve-race: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
