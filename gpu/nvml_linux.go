//go:build linux && nvml

package gpu

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/ebitengine/purego"

	"github.com/tailor-dev/tailor/profile"
)

// nvmlLibrary is the NVML shared library the NVIDIA driver installs.
const nvmlLibrary = "libnvidia-ml.so.1"

// This file is built with -tags nvml. Loading a shared library without cgo
// (purego) makes Go link the binary dynamically against glibc's loader:
// it then needs glibc to start (no musl, no empty base image) and costs
// every command about 1 MiB of memory and half a millisecond at start.
// The default build is static and asks nvidia-smi instead; the DaemonSet's
// image, which carries glibc for the NVIDIA tools anyway, is built with it.

// probeNVML lists the NVIDIA GPUs through libnvidia-ml.so.1, loaded at run
// time without cgo. It returns errNoNVML when the library is not installed.
func probeNVML() ([]profile.GPU, error) {
	lib, err := loadNVML()
	if err != nil {
		return nil, err
	}
	return listNVML(lib)
}

// dlNVML is libnvidia-ml loaded with purego: its functions as Go values.
type dlNVML struct {
	init          func() int32
	shutdown      func() int32
	driverVersion func(buf *byte, n uint32) int32
	cudaVersion   func(v *int32) int32
	count         func(n *uint32) int32
	handle        func(i uint32, dev *uintptr) int32
	name          func(dev uintptr, buf *byte, n uint32) int32
	capability    func(dev uintptr, major, minor *int32) int32
}

var _ nvmlAPI = (*dlNVML)(nil)

var (
	nvmlOnce   sync.Once
	nvmlLoaded *dlNVML
	nvmlErr    error
)

// loadNVML opens the library once per process: a library is never
// unloaded, and a second dlopen would only return the same handle.
func loadNVML() (*dlNVML, error) {
	nvmlOnce.Do(func() { nvmlLoaded, nvmlErr = openNVML() })
	return nvmlLoaded, nvmlErr
}

func openNVML() (*dlNVML, error) {
	h, err := purego.Dlopen(nvmlLibrary, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoNVML, err)
	}
	l := &dlNVML{}
	for _, f := range []struct {
		fn    any
		names []string // the first one the library has
	}{
		{&l.init, []string{"nvmlInit_v2", "nvmlInit"}},
		{&l.shutdown, []string{"nvmlShutdown"}},
		{&l.driverVersion, []string{"nvmlSystemGetDriverVersion"}},
		{&l.cudaVersion, []string{"nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"}},
		{&l.count, []string{"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}},
		{&l.handle, []string{"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"}},
		{&l.name, []string{"nvmlDeviceGetName"}},
		{&l.capability, []string{"nvmlDeviceGetCudaComputeCapability"}},
	} {
		if err := bind(h, f.fn, f.names); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// bind sets fn to the first of names that the library at h exports.
func bind(h uintptr, fn any, names []string) error {
	for _, n := range names {
		if sym, err := purego.Dlsym(h, n); err == nil && sym != 0 {
			purego.RegisterFunc(fn, sym)
			return nil
		}
	}
	return fmt.Errorf("%s has no %s: driver too old for tailor", nvmlLibrary, names[0])
}

// ret converts an nvmlReturn_t.
func ret(r int32) error {
	if r == 0 {
		return nil
	}
	return nvmlReturn(r)
}

func (l *dlNVML) Init() error     { return ret(l.init()) }
func (l *dlNVML) Shutdown() error { return ret(l.shutdown()) }

// nvmlStringSize is larger than NVML's longest strings
// (NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80, NVML_DEVICE_NAME_V2_BUFFER_SIZE 96).
const nvmlStringSize = 256

func (l *dlNVML) DriverVersion() (string, error) {
	var buf [nvmlStringSize]byte
	if err := ret(l.driverVersion(&buf[0], uint32(len(buf)))); err != nil {
		return "", err
	}
	return cString(buf[:]), nil
}

func (l *dlNVML) CUDADriverVersion() (int, error) {
	var v int32
	err := ret(l.cudaVersion(&v))
	return int(v), err
}

func (l *dlNVML) DeviceCount() (int, error) {
	var n uint32
	err := ret(l.count(&n))
	return int(n), err
}

func (l *dlNVML) Device(i int) (string, int, int, error) {
	var dev uintptr
	if err := ret(l.handle(uint32(i), &dev)); err != nil {
		return "", 0, 0, err
	}
	var buf [nvmlStringSize]byte
	name := ""
	if ret(l.name(dev, &buf[0], uint32(len(buf)))) == nil {
		name = cString(buf[:])
	}
	var major, minor int32
	if err := ret(l.capability(dev, &major, &minor)); err != nil {
		return name, 0, 0, fmt.Errorf("compute capability: %w", err)
	}
	return name, int(major), int(minor), nil
}

// cString is the NUL-terminated string at the start of b.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
