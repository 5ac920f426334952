#!/usr/bin/env bash
# Issue 15's trust case set: real programs (Go, Rust, C/C++, scripts,
# RUNPATH libraries, Python with an extension, Debian's python3, openssl
# and OpenBLAS, a v3-noted libc) built by test/trust/build.sh, each
# labelled honestly or with a lie, its truth established by running it
# under qemu-user CPU models; TestTrust verifies each and fails when false
# "mislabeled", false "ok" or unverified verdicts pass issue 15's limits.
#
# Installs: qemu-user, rustc (Debian's), gcc, g++, python3-dev, binutils.
# Caches: the Debian packages it unpacks in /var/cache/tailor-trust/debs,
# the built case set in /var/cache/tailor-trust/cases (rebuilt when
# test/trust or the toolchains change). Warm: about 2 minutes; cold: about
# 4 (apt, then building the set).
set -euo pipefail
cache=/var/cache/tailor-trust
pkgs=(qemu-user rustc gcc g++ python3-dev binutils dpkg-dev)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null; }
fi
for tool in qemu-x86_64 /usr/bin/rustc gcc g++ python3.11-config readelf go; do
	command -v "$tool" >/dev/null || { echo "15-trust: $tool is missing" >&2; exit 1; }
done

mkdir -p "$cache"
key=$( (cat test/trust/build.sh; find test/trust/src -type f | sort | xargs cat; /usr/bin/rustc --version; gcc --version | head -1; go version) | sha256sum | cut -c1-16)
cases=$cache/cases
if [[ "$(cat "$cases/.key" 2>/dev/null)" != "$key" ]]; then
	TAILOR_TRUST_DEBS=$cache/debs test/trust/build.sh "$cases"
	echo "$key" >"$cases/.key"
fi

pass=0 fail=0
log=$(mktemp)
TAILOR_REQUIRE_TOOLS=qemu-x86_64,trust TAILOR_TRUST_CASES=$cases \
	go test -count=1 -timeout 30m -run '^TestTrust$' -v ./test/trust/ >"$log" 2>&1 || true
cat "$log"
if grep -q '^--- PASS: TestTrust' "$log"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
rm -f "$log"
echo "15-trust: $pass passed, $fail failed"
((fail == 0))
