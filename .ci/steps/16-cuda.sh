#!/bin/bash
# 16-cuda: GPU truth (issue 16). Installs Debian's CUDA toolkit (nvcc 11.8,
# cuobjdump; it compiles without a GPU) and runs the tests that read real
# nvcc output against cuobjdump, judge labelled CUDA images, build the
# examples/cuda stack, and match hosts by NVIDIA's rules; then the
# libcublasLt reading benchmark (printed, not asserted).
# Measured on a 2-core machine at load average 25-30: warm (toolkit
# installed, nvcc test binaries cached) 2 min 28 s wall, 47 s CPU; with the
# nvcc test binaries to build, 12 min wall, 2 min 55 s CPU; a cold machine
# adds the toolkit install (2.3 GB, ~6.5 min; the .debs are kept under
# /var/cache/tailor-cuda for the next run).
set -uo pipefail
cache=/var/cache/tailor-cuda
mkdir -p "$cache/apt/partial" "$cache/xdg"

if ! command -v nvcc >/dev/null || ! command -v cuobjdump >/dev/null; then
	# nvcc and cuobjdump are in nvidia-cuda-toolkit (non-free), which needs
	# nvidia-cuda-dev and a g++ nvcc accepts; nothing it only recommends.
	if ! grep -rqs 'non-free' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		cat >/etc/apt/sources.list.d/tailor-nonfree.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends -o Dir::Cache::archives="$cache/apt" nvidia-cuda-toolkit >/dev/null
fi
for tool in nvcc cuobjdump g++; do
	command -v "$tool" >/dev/null || { echo "16-cuda: $tool missing after the install"; exit 1; }
done

export TAILOR_REQUIRE_TOOLS=nvcc,cuobjdump,g++
export XDG_CACHE_HOME="$cache/xdg" # internal/cudatest keeps the nvcc builds there
pass=0
fail=0
run() {
	echo "== $*"
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $*"; fi
}
run go test -count=1 -v -run 'TestNvcc|TestReadBounded|TestScanELF' ./verify/fatbin/
run go test -count=1 -run 'CUDA' ./verify/
run go test -count=1 -v ./examples/cuda/
run go test -count=1 -run 'CUDA|NVCC' ./build/
run go test -count=1 ./match/ ./requirement/ ./profile/ ./gpu/
run go test -run XXX -fuzz FuzzParse -fuzztime 20s ./verify/fatbin
run go test -run XXX -bench 'ReadCublasLt' -benchtime 5x ./verify/fatbin/
echo "16-cuda: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
