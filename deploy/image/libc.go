package main

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
)

// The binary is built with CGO_ENABLED=0 and -tags nvml: NVML is loaded at
// run time (purego), which makes Go link it dynamically against glibc: ld.so,
// libc, libdl, libpthread. An empty base has none, so the image carries
// them, taken from Debian's glibc for the image's architecture: this
// machine's own, or the cross package (libc6-arm64-cross installs
// /usr/aarch64-linux-gnu). nvidia-smi and libnvidia-ml.so, which the NVIDIA
// container toolkit mounts into the container on GPU nodes, need libm and
// librt besides.

// debianTriplet is Debian's multiarch directory of each architecture.
var debianTriplet = map[string]string{
	"amd64":   "x86_64-linux-gnu",
	"arm64":   "aarch64-linux-gnu",
	"ppc64le": "powerpc64le-linux-gnu",
	"riscv64": "riscv64-linux-gnu",
	"s390x":   "s390x-linux-gnu",
}

// gpuLibs are the glibc libraries the NVIDIA tools mounted on GPU nodes
// need beyond the binary's own.
var gpuLibs = []string{"libm.so.6", "librt.so.1"}

// sysroot is where the glibc of arch is found on this machine.
func sysroot(arch string) (string, error) {
	if arch == runtime.GOARCH {
		return "/", nil
	}
	t, ok := debianTriplet[arch]
	if !ok {
		return "", fmt.Errorf("no glibc known for %s", arch)
	}
	return "/usr/" + t, nil
}

// runtimeFiles are the files the dynamically linked binary bin of arch
// needs in the image: its interpreter at the path the binary names, and
// the libraries in /lib/<triplet>. A static binary needs none.
func runtimeFiles(bin, arch string) ([]file, error) {
	ef, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	interp := ""
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return nil, err
			}
			interp = string(b[:len(b)-1]) // NUL-terminated
		}
	}
	if interp == "" {
		return nil, nil
	}
	needed, err := ef.ImportedLibraries()
	if err != nil {
		return nil, err
	}
	root, err := sysroot(arch)
	if err != nil {
		return nil, err
	}
	triplet := debianTriplet[arch]
	files := []file{}
	data, err := findLib(root, triplet, filepath.Base(interp))
	if err != nil {
		return nil, fmt.Errorf("the dynamic loader %s for %s: %w", interp, arch, err)
	}
	files = append(files, file{path: interp, mode: 0o755, data: data})
	for _, lib := range append(slices.Clone(needed), gpuLibs...) {
		data, err := findLib(root, triplet, lib)
		if err != nil {
			return nil, fmt.Errorf("%s for %s (install Debian's libc6%s): %w", lib, arch, crossSuffix(arch), err)
		}
		files = append(files, file{path: "/lib/" + triplet + "/" + lib, mode: 0o755, data: data})
	}
	return files, nil
}

func crossSuffix(arch string) string {
	if arch == runtime.GOARCH {
		return ""
	}
	return "-" + arch + "-cross"
}

// findLib reads library name from the sysroot's library directories,
// following symbolic links.
func findLib(root, triplet, name string) ([]byte, error) {
	for _, dir := range []string{"lib/" + triplet, "usr/lib/" + triplet, "lib", "lib64", "usr/lib"} {
		p := filepath.Join(root, dir, name)
		if data, err := os.ReadFile(p); err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("not found under %s", root)
}
