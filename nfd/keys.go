package nfd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
)

// Prefix is the label namespace of tailor's node labels.
const Prefix = "tailor.dev/"

// Label keys with one value per node.
const (
	// KeyTarget is the host's catalog target (sapphirerapids).
	KeyTarget = Prefix + "cpu.target"
	// KeyVendor is the CPU vendor (GenuineIntel, AuthenticAMD, ARM).
	KeyVendor = Prefix + "cpu.vendor"
	// KeyLevel is the x86-64 level, v1-v4.
	KeyLevel = Prefix + "cpu.level"
	// KeyArch is the OCI architecture (amd64, arm64).
	KeyArch = Prefix + "platform.architecture"
	// KeyVariant is the OCI variant (v3, v8.2).
	KeyVariant = Prefix + "platform.variant"
	// KeyNVIDIACount is the number of NVIDIA GPUs.
	KeyNVIDIACount = Prefix + "gpu.nvidia.count"
	// KeyNVIDIACC is the highest compute capability, major.minor (9.0).
	KeyNVIDIACC = Prefix + "gpu.nvidia.compute-capability"
	// KeyNVIDIACCNumber is the highest compute capability as the integer
	// 10*major+minor (90), for nodeAffinity's Gt and Lt.
	KeyNVIDIACCNumber = Prefix + "gpu.nvidia.cc.highest"
	// KeyDriver is the NVIDIA driver version (550.54.14).
	KeyDriver = Prefix + "gpu.nvidia.driver"
	// KeyDriverNumber is the driver version as an integer (DriverNumber),
	// for nodeAffinity's Gt.
	KeyDriverNumber = Prefix + "gpu.nvidia.driver.number"
	// KeyCUDA is the highest CUDA version the driver supports (12.4).
	KeyCUDA = Prefix + "gpu.nvidia.cuda"
	// KeyCUDAMajor is KeyCUDA's major version (12), for nodeAffinity's Gt.
	KeyCUDAMajor = Prefix + "gpu.nvidia.cuda.major"
)

// Keys of NFD's and NVIDIA GPU feature discovery's labels read back.
const (
	nfdCPUIDPrefix = "feature.node.kubernetes.io/cpu-cpuid."
	nfdVendor      = "feature.node.kubernetes.io/cpu-model.vendor_id"
	// KeyKubeArch is the architecture label every kubelet sets.
	KeyKubeArch = "kubernetes.io/arch"
	// KeyKubeOS is the operating system label every kubelet sets.
	KeyKubeOS = "kubernetes.io/os"
)

// TargetKey is the label a node carries, value "true", for every target
// whose builds it runs (Runs): its own, its ancestors and fitting siblings.
func TargetKey(target string) string { return Prefix + "cpu.target." + target }

// FeatureKey is the label, value "true", of one CPU feature of the node in
// Linux /proc/cpuinfo naming (avx512f).
func FeatureKey(feature string) string { return Prefix + "cpu.feature." + feature }

// VendorKey is the label, value "true", a node carries for each vendor
// whose targets it may run by features: its CPU's and its target's. Vendors
// compare without case, so the key is lower case.
func VendorKey(vendor string) string { return Prefix + "cpu.vendor." + strings.ToLower(vendor) }

// CCKey is the label of one NVIDIA compute capability present on the node;
// its value is how many GPUs have it.
func CCKey(major, minor int) string {
	return fmt.Sprintf("%sgpu.nvidia.cc.%d.%d", Prefix, major, minor)
}

// MajorKey is the label of one compute capability major present on the
// node; its value is the highest minor of that major (for sm_XY code, which
// runs on X.Z with Z >= Y).
func MajorKey(major int) string { return fmt.Sprintf("%sgpu.nvidia.cc.%d", Prefix, major) }

// AMDKey is the label, value "true", of one AMD GPU target (gfx90a).
func AMDKey(gfx string) string { return Prefix + "gpu.amd." + gfx }

// HostLabelKey is the label of one host label (mpi=openmpi becomes
// tailor.dev/label.mpi=openmpi).
func HostLabelKey(k string) string { return Prefix + "label." + k }

// DriverNumber encodes a dotted driver version of up to four parts as an
// integer that orders as the versions do (profile.CompareVersions):
// a.b.c.d = a*10^12 + b*10^8 + c*10^4 + d. ok is false for a version that
// does not fit (a part of b, c or d above 9999, a above 999999).
func DriverNumber(v string) (n int64, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) > 4 {
		return 0, false
	}
	scale := []int64{1e12, 1e8, 1e4, 1}
	for i, p := range parts {
		x, err := strconv.ParseInt(p, 10, 64)
		if err != nil || x < 0 || (i > 0 && x > 9999) || x > 999999 {
			return 0, false
		}
		n += x * scale[i]
	}
	return n, true
}

// Kubernetes label syntax: a name (the part after the prefix) or a value is
// at most 63 characters, alphanumeric at both ends, with -_. inside.
var labelText = lazyre.New(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)

// validKey reports whether k is a valid label key (prefix/name).
func validKey(k string) bool {
	name := k
	if i := strings.IndexByte(k, '/'); i >= 0 {
		name = k[i+1:]
	}
	return name != "" && len(name) <= 63 && labelText.MatchString(name)
}

// validValue reports whether v is a valid label value.
func validValue(v string) bool { return len(v) <= 63 && labelText.MatchString(v) }
