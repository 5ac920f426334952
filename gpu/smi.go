package gpu

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/profile"
)

// smiQuery is the nvidia-smi command line whose output
// [ParseNvidiaSMI] reads. The compute_cap field exists since driver 510.
var smiQuery = []string{"--query-gpu=name,compute_cap,driver_version", "--format=csv,noheader"}

// smiQueryPCI is the query for drivers older than 510, which have no
// compute_cap field: the PCI device id stands in (see
// [ComputeCapabilityForPCI]).
var smiQueryPCI = []string{"--query-gpu=name,pci.device_id,driver_version", "--format=csv,noheader"}

// noComputeCap is what nvidia-smi before driver 510 prints (exit status 2)
// for a query of compute_cap.
const noComputeCap = `"compute_cap" is not a valid field`

// noDevices is what nvidia-smi prints (exit status 6) when the driver runs
// but sees no GPU.
const noDevices = "No devices were found"

// ParseNvidiaSMI parses the output of
//
//	nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader
//
// one GPU a line, such as "NVIDIA H100 80GB HBM3, 9.0, 550.54.15". The CUDA
// version of each GPU is derived from its driver version with
// [profile.CUDAForDriver]; [ParseNvidiaSMIBanner] reads the exact one.
// A field nvidia-smi could not read ("[N/A]", "[Not Supported]") is left
// empty; a line without a valid compute capability is skipped and reported
// in the error, which joins one error per bad line. The GPUs of the good
// lines are returned in every case, as a non-nil slice.
func ParseNvidiaSMI(out []byte) ([]profile.GPU, error) {
	return parseSMI(out, "compute_cap", func(s string) (string, error) { return s, nil })
}

// ParseNvidiaSMIPCI parses the output of
//
//	nvidia-smi --query-gpu=name,pci.device_id,driver_version --format=csv,noheader
//
// what drivers older than 510 answer, such as "Tesla V100-SXM2-16GB,
// 0x1DB110DE, 470.82.01": the compute capability comes from the PCI device
// id ([ComputeCapabilityForPCI]). Otherwise it is [ParseNvidiaSMI].
func ParseNvidiaSMIPCI(out []byte) ([]profile.GPU, error) {
	return parseSMI(out, "pci.device_id", func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		dev, err := parsePCIDeviceID(s)
		if err != nil {
			return "", err
		}
		cc := ComputeCapabilityForPCI(dev)
		if cc == "" {
			return "", fmt.Errorf("PCI device %#04x: compute capability unknown", dev)
		}
		return cc, nil
	})
}

// parseSMI parses "name, X, driver_version" lines, cc turning field X into
// a compute capability.
func parseSMI(out []byte, field string, cc func(string) (string, error)) ([]profile.GPU, error) {
	gpus := []profile.GPU{}
	var errs []error
	n := 0
	for line := range strings.Lines(string(out)) {
		n++
		line = strings.TrimSpace(line)
		if line == "" || line == noDevices {
			continue
		}
		g, err := parseSMILine(line, field, cc)
		if err != nil {
			errs = append(errs, fmt.Errorf("parse nvidia-smi output line %d: %w", n, err))
			continue
		}
		gpus = append(gpus, g)
	}
	return gpus, errors.Join(errs...)
}

// parseSMILine parses "name, field, driver_version". The name is
// everything before the last two commas, so a name with a comma survives.
func parseSMILine(line, field string, cc func(string) (string, error)) (profile.GPU, error) {
	fields := strings.Split(line, ",")
	if len(fields) < 3 {
		return profile.GPU{}, fmt.Errorf("%q: want name, %s, driver_version", line, field)
	}
	k := len(fields)
	c, err := cc(smiValue(fields[k-2]))
	if err != nil {
		return profile.GPU{}, fmt.Errorf("%q: %w", line, err)
	}
	g := profile.GPU{
		Vendor:            profile.VendorNVIDIA,
		Model:             smiValue(strings.Join(fields[:k-2], ",")),
		ComputeCapability: c,
		Driver:            smiValue(fields[k-1]),
	}
	if g.Driver != "" {
		g.CUDAVersion = profile.CUDAForDriver(g.Driver)
	}
	if err := g.Validate(); err != nil {
		return profile.GPU{}, fmt.Errorf("%q: %w", line, err)
	}
	return g, nil
}

// smiValue trims a CSV field and maps the values nvidia-smi prints for
// unknown fields ("[N/A]", "[Not Supported]", "[Unknown Error]") to "".
func smiValue(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return ""
	}
	return s
}

// Banner is what the header of plain nvidia-smi output states.
type Banner struct {
	// Driver is the driver version, "550.54.15".
	Driver string
	// CUDAVersion is the highest CUDA version the driver supports, "12.4".
	CUDAVersion string
}

var (
	bannerDriver = lazyre.New(`Driver Version:\s*([0-9]+(?:\.[0-9]+){0,3})\b`)
	bannerCUDA   = lazyre.New(`CUDA Version:\s*([0-9]+(?:\.[0-9]+){0,3})\b`)
)

// ParseNvidiaSMIBanner reads the driver and CUDA versions from the banner
// that plain nvidia-smi prints:
//
//	| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4 |
//
// It fails when the output states no CUDA version (a driver failure message,
// or "CUDA Version: N/A").
func ParseNvidiaSMIBanner(out []byte) (Banner, error) {
	var b Banner
	if m := bannerDriver.FindSubmatch(out); m != nil {
		b.Driver = string(m[1])
	}
	m := bannerCUDA.FindSubmatch(out)
	if m == nil {
		return b, fmt.Errorf("parse nvidia-smi banner: no %q in %q", "CUDA Version:", firstLine(out))
	}
	b.CUDAVersion = string(m[1])
	return b, nil
}

// firstLine returns the first non-empty line of out, trimmed and capped, for
// error messages.
func firstLine(out []byte) string {
	for line := range strings.Lines(string(out)) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200] + "..."
			}
			return line
		}
	}
	return ""
}
