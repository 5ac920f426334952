#!/usr/bin/env bash
# build.sh OUT: builds the trust case set from the sources in src/ and
# Debian's own packages, into OUT/roots/<root>/ (one image file system
# each) and OUT/cases.jsonl (one case a line: its name, root, declared
# target and command; "truth" is the ELF command that the case really
# starts, when the command is a script that a CPU model run cannot follow
# through exec).
#
# Needs: go, gcc, g++, Debian's rustc (/usr/bin/rustc), python3-dev
# headers, apt-get (download only), dpkg-deb, objcopy. Debian packages are
# downloaded once into $TAILOR_TRUST_DEBS (default
# /var/cache/tailor-trust/debs).
set -euo pipefail
out=${1:?usage: build.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
src=$here/src
debs=${TAILOR_TRUST_DEBS:-/var/cache/tailor-trust/debs}
rustc=${RUSTC:-/usr/bin/rustc}
pkgs=(libc6 libgcc-s1 libstdc++6 dash python3.11-minimal libpython3.11-minimal
	libpython3.11-stdlib libexpat1 zlib1g libffi8 openssl libssl3
	libopenblas0-pthread libgfortran5 libquadmath0
	nodejs/bookworm libnode108/bookworm libbrotli1 libc-ares2 libicu72 libnghttp2-14 libuv1
	node-cjs-module-lexer node-acorn node-undici)

for tool in go gcc g++ "$rustc" dpkg-deb apt-get python3.11-config readelf; do
	command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing" >&2; exit 1; }
done

mkdir -p "$debs"
missing=()
for p in "${pkgs[@]}"; do
	ls "$debs/${p%%/*}_"*.deb >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	(cd "$debs" && apt-get download "${missing[@]}")
fi
deb() { ls "$debs/${1}_"*.deb | head -1; }

rm -rf "$out"
mkdir -p "$out/roots" "$out/bin"
bin=$out/bin
cases=$out/cases.jsonl
: >"$cases"

# The base every C, C++ and Rust case runs on: Debian's libc, libgcc,
# libstdc++ and dash, unpacked as dpkg would, less what no case uses.
base=$out/base
for p in libc6 libgcc-s1 libstdc++6 dash; do dpkg-deb -x "$(deb $p)" "$base"; done
rm -rf "$base/usr/share" "$base/usr/lib/x86_64-linux-gnu/gconv" "$base/etc/ld.so.conf.d"
ln -sf dash "$base/bin/sh"

newroot() { # newroot NAME [BASE]: a root of its own, sharing BASE's files
	cp -al "${2:-$base}" "$out/roots/$1"
}
put() { # put ROOT FILE IMAGEPATH
	mkdir -p "$out/roots/$1$(dirname "$3")"
	cp "$2" "$out/roots/$1$3"
	chmod 755 "$out/roots/$1$3"
}
addcase() { # addcase NAME ROOT TARGET ARGV-JSON [TRUTH-ARGV-JSON]
	printf '{"name":"%s","root":"%s","target":"%s","argv":%s%s}\n' "$1" "$2" "$3" "$4" "${5:+,\"truth\":$5}" >>"$cases"
}
single() { # single NAME BINARY TARGET...: one root holding /app/NAME, a case per target
	local name=$1 b=$2
	shift 2
	newroot "$name"
	put "$name" "$b" "/app/$name"
	for t in "$@"; do addcase "$name@$t" "$name" "$t" "[\"/app/$name\"]"; done
}

# Go: one program, three GOAMD64 levels, static as Go builds them.
for v in v1 v3 v4; do
	(cd "$src/go" && GOAMD64=$v CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod \
		go build -trimpath -o "$bin/go-$v" main.go)
done
single go-v1 "$bin/go-v1" x86_64 x86_64_v2 x86_64_v3 haswell nehalem
single go-v3 "$bin/go-v3" x86_64_v3 haswell x86_64 x86_64_v2 nehalem
single go-v4 "$bin/go-v4" x86_64_v4 x86_64_v3 haswell x86_64 x86_64_v2

# Rust (Debian's rustc, std only).
"$rustc" -O -o "$bin/rust-plain" "$src/rust/plain.rs"
"$rustc" -O -C target-cpu=haswell -o "$bin/rust-haswell" "$src/rust/plain.rs"
"$rustc" -O -o "$bin/rust-detect" "$src/rust/detect.rs"
single rust-plain "$bin/rust-plain" x86_64 x86_64_v2 x86_64_v3 haswell
single rust-haswell "$bin/rust-haswell" haswell x86_64_v3 x86_64 x86_64_v2 nehalem
single rust-detect "$bin/rust-detect" x86_64 x86_64_v2 haswell

# C and C++: -march variants, static, stripped, target_clones,
# __builtin_cpu_supports, virtual calls.
cc() { gcc -O3 "$@"; }
cc -march=x86-64 -o "$bin/c-vec-v1" "$src/c/vec.c"
cc -march=x86-64-v2 -o "$bin/c-vec-v2" "$src/c/vec.c"
cc -march=x86-64-v3 -o "$bin/c-vec-v3" "$src/c/vec.c"
cc -march=haswell -o "$bin/c-vec-haswell" "$src/c/vec.c"
cc -march=haswell -static -o "$bin/c-vec-haswell-static" "$src/c/vec.c"
cc -march=x86-64 -static -s -o "$bin/c-vec-v1-static-stripped" "$src/c/vec.c"
cc -march=haswell -s -o "$bin/c-vec-haswell-stripped" "$src/c/vec.c"
cc -march=x86-64 -static -Wl,-z,x86-64-v3 -o "$bin/c-static-v3note" "$src/c/hello.c"
cc -march=x86-64-v4 -static -o "$bin/c-vec-v4-static" "$src/c/vec.c"
cc -march=x86-64-v3 -static -s -o "$bin/c-vec-v3-static-stripped" "$src/c/vec.c"
cc -o "$bin/c-clones" "$src/c/clones.c"
cc -o "$bin/c-cpusup" "$src/c/cpusup.c"
g++ -O3 -o "$bin/cxx-vt" "$src/c/vt.cpp"
g++ -O3 -march=haswell -o "$bin/cxx-vt-haswell" "$src/c/vt.cpp"
single c-vec-v1 "$bin/c-vec-v1" x86_64 x86_64_v2 x86_64_v3 haswell
single c-vec-v2 "$bin/c-vec-v2" x86_64_v2 haswell x86_64
single c-vec-v3 "$bin/c-vec-v3" x86_64_v3 haswell x86_64 x86_64_v2 nehalem
single c-vec-haswell "$bin/c-vec-haswell" haswell x86_64_v3 x86_64 x86_64_v2 nehalem
single c-vec-haswell-static "$bin/c-vec-haswell-static" haswell x86_64 x86_64_v2
single c-vec-v1-static-stripped "$bin/c-vec-v1-static-stripped" x86_64 haswell
single c-vec-haswell-stripped "$bin/c-vec-haswell-stripped" haswell x86_64_v2 x86_64
single c-static-v3note "$bin/c-static-v3note" x86_64 haswell
single c-vec-v4-static "$bin/c-vec-v4-static" x86_64_v4 haswell x86_64_v3
single c-vec-v3-static-stripped "$bin/c-vec-v3-static-stripped" x86_64_v3 x86_64 x86_64_v2
single c-clones "$bin/c-clones" x86_64 x86_64_v2 haswell
single c-cpusup "$bin/c-cpusup" x86_64 x86_64_v2 haswell
single cxx-vt "$bin/cxx-vt" x86_64 x86_64_v2 haswell
single cxx-vt-haswell "$bin/cxx-vt-haswell" haswell x86_64 x86_64_v2

# The start path: a #!/bin/sh entrypoint and sh -c, each exec'ing a build.
for b in c-vec-haswell c-vec-v1; do
	r=script-$b
	newroot "$r"
	put "$r" "$bin/$b" "/app/$b"
	printf '#!/bin/sh\nset -e\nexec /app/%s "$@"\n' "$b" >"$out/roots/$r/app/start.sh"
	chmod 755 "$out/roots/$r/app/start.sh"
	for t in x86_64 x86_64_v2 haswell; do
		addcase "$r@$t" "$r" "$t" '["/app/start.sh"]' "[\"/app/$b\"]"
		addcase "shc-$b@$t" "$r" "$t" "[\"/bin/sh\",\"-c\",\"exec /app/$b\"]" "[\"/app/$b\"]"
	done
done

# Libraries found through RUNPATH $ORIGIN/../lib: plain, with an
# x86-64-v3 ISA note (ld.so refuses it below v3), and built for haswell.
for v in plain v3note haswell; do
	case $v in
	plain) flags=() ;;
	v3note) flags=(-Wl,-z,x86-64-v3) ;;
	haswell) flags=(-march=haswell) ;;
	esac
	r=runpath-$v
	mkdir -p "$bin/$r"
	cc -shared -fPIC "${flags[@]}" -o "$bin/$r/libwork.so" "$src/c/libwork.c"
	cc -o "$bin/$r/main" "$src/c/usework.c" -L"$bin/$r" -lwork -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'
	newroot "$r"
	put "$r" "$bin/$r/main" /opt/work/bin/main
	put "$r" "$bin/$r/libwork.so" /opt/work/lib/libwork.so
	case $v in
	plain) targets=(x86_64 x86_64_v2 haswell) ;;
	*) targets=(haswell x86_64_v3 x86_64 x86_64_v2 nehalem) ;;
	esac
	for t in "${targets[@]}"; do addcase "$r@$t" "$r" "$t" '["/opt/work/bin/main"]'; done
done

# A RHEL 10-style libc: a copy of Debian's with its ISA note raised from
# baseline to x86-64-v3 (ld.so refuses to load it below v3).
cc -o "$bin/hello" "$src/c/hello.c"
newroot rhel10-libc
libc=$out/roots/rhel10-libc/lib/x86_64-linux-gnu/libc.so.6
rm -f "$libc"
cp "$base/lib/x86_64-linux-gnu/libc.so.6" "$libc"
python3 - "$libc" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
# GNU_PROPERTY_X86_ISA_1_NEEDED (0xc0008002), 4-byte value, bit 0 = baseline.
key = struct.pack("<II", 0xC0008002, 4) + struct.pack("<I", 1)
i = b.find(key)
if i < 0 or b.find(key, i + 1) >= 0:
    sys.exit("libc.so.6: no single baseline ISA note to raise")
b[i + 8:i + 12] = struct.pack("<I", 1 | 2 | 4)  # baseline, v2, v3
open(p, "wb").write(bytes(b))
PY
readelf -n "$libc" | grep -q 'x86-64-v3' || { echo "build.sh: libc note not raised" >&2; exit 1; }
put rhel10-libc "$bin/hello" /app/hello
for t in x86_64_v3 haswell x86_64 x86_64_v2 nehalem; do addcase "rhel10-libc@$t" rhel10-libc "$t" '["/app/hello"]'; done

# Python: Debian's interpreter, with an extension module beside it built
# plain and for haswell.
pyroot=$out/pybase
cp -al "$base" "$pyroot"
for p in python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libexpat1 zlib1g libffi8; do
	dpkg-deb -x "$(deb $p)" "$pyroot"
done
rm -rf "$pyroot/usr/share" "$pyroot/usr/lib/python3.11/test" "$pyroot/usr/lib/python3.11/idlelib"
ln -sf python3.11 "$pyroot/usr/bin/python3"
pyinc=$(python3.11-config --includes)
for v in plain haswell; do
	case $v in plain) flags=() ;; haswell) flags=(-march=haswell) ;; esac
	# shellcheck disable=SC2086
	cc -shared -fPIC "${flags[@]}" $pyinc -o "$bin/vecmod-$v.so" "$src/py/vecmod.c"
	r=python-ext-$v
	newroot "$r" "$pyroot"
	put "$r" "$bin/vecmod-$v.so" /usr/lib/python3/dist-packages/vecmod.cpython-311-x86_64-linux-gnu.so
	case $v in plain) targets=(x86_64 x86_64_v2 haswell) ;; haswell) targets=(haswell x86_64_v3 x86_64 x86_64_v2 nehalem) ;; esac
	for t in "${targets[@]}"; do
		addcase "$r@$t" "$r" "$t" '["/usr/bin/python3","-c","import vecmod; print(vecmod.run())"]'
	done
done
newroot python "$pyroot"
for t in x86_64 x86_64_v2 haswell; do
	addcase "python@$t" python "$t" '["/usr/bin/python3","-c","import json, hashlib; print(hashlib.sha256(json.dumps(list(range(1000))).encode()).hexdigest())"]'
done

# Debian's openssl (OpenSSL's capability vector picks AES-NI/AVX2 paths).
newroot openssl
for p in openssl libssl3; do dpkg-deb -x "$(deb $p)" "$out/roots/openssl"; done
rm -rf "$out/roots/openssl/usr/share"
for t in x86_64 x86_64_v2 haswell; do
	addcase "openssl@$t" openssl "$t" '["/usr/bin/openssl","dgst","-sha256","/usr/bin/openssl"]'
	addcase "openssl-aes@$t" openssl "$t" '["/usr/bin/openssl","enc","-aes-128-cbc","-K","000102030405060708090a0b0c0d0e0f","-iv","000102030405060708090a0b0c0d0e0f","-in","/usr/bin/openssl","-out","/dev/null"]'
done

# Debian's OpenBLAS (DYNAMIC_ARCH: its kernel table picks by CPU).
newroot openblas
for p in libopenblas0-pthread libgfortran5 libquadmath0; do dpkg-deb -x "$(deb $p)" "$out/roots/openblas"; done
rm -rf "$out/roots/openblas/usr/share"
blas=$(find "$out/roots/openblas" -name 'libopenblas*.so.0' | head -1)
cc -o "$bin/blas" "$src/c/blas.c" "$blas" -Wl,--allow-shlib-undefined,-rpath,/usr/lib/x86_64-linux-gnu/openblas-pthread
put openblas "$bin/blas" /app/blas
# Under qemu's models below Haswell, OpenBLAS 0.3.21 detects "Haswell" and
# dies of SIGILL (its detection misreads TCG's CPUID), which no real
# Core 2 or Nehalem does: its truth is only established for haswell.
for t in x86_64_v3 haswell; do addcase "openblas@$t" openblas "$t" '["/app/blas"]'; done

# Debian's node (18, not a vendor's build: V8, OpenSSL and simdutf pick
# their code by CPU).
newroot node
for p in nodejs libnode108 libbrotli1 libc-ares2 libicu72 libnghttp2-14 libuv1 libssl3 zlib1g node-cjs-module-lexer node-acorn node-undici; do
	dpkg-deb -x "$(deb $p)" "$out/roots/node"
done
rm -rf "$out/roots/node/usr/share/doc" "$out/roots/node/usr/share/man" "$out/roots/node/usr/share/lintian"
for t in x86_64 x86_64_v2 haswell; do
	addcase "node@$t" node "$t" '["/usr/bin/node","-e","console.log(require(\"crypto\").createHash(\"sha256\").update(\"x\").digest(\"hex\"))"]'
done

echo "build.sh: $(wc -l <"$cases") cases in $out"
