#!/usr/bin/env bash
# debian-root.sh ROOT: unpacks a real Debian root into ROOT with dpkg -x:
# the packages of priority required and important installed on this
# machine, python3.11 and openssl, and what they depend on (as installed
# here), each .deb downloaded once into $TAILOR_BENCH_DEBS (default
# /var/cache/tailor-bench-verify/debs). On Debian 12 that is about 150
# packages, 11,000 files, 1,000 ELF files.
set -euo pipefail
root=${1:?usage: debian-root.sh ROOT}
debs=${TAILOR_BENCH_DEBS:-/var/cache/tailor-bench-verify/debs}
mkdir -p "$debs" "$root"
top=$(dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2=="required"||$2=="important"{print $1}')
# shellcheck disable=SC2086
pkgs=$(comm -12 \
	<(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances --no-pre-depends $top python3.11 openssl 2>/dev/null | grep -E '^[a-z0-9]' | sort -u) \
	<(dpkg-query -W -f='${Package}\n' | sort -u))
missing=()
for p in $pkgs; do
	ls "$debs/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	(cd "$debs" && apt-get download "${missing[@]}" >/dev/null)
fi
for p in $pkgs; do
	dpkg-deb -x "$(ls "$debs/${p}_"*.deb | head -1)" "$root"
done
echo "debian-root.sh: $(echo "$pkgs" | wc -w) packages in $root"
