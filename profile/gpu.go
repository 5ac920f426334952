package profile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
)

var (
	ccPattern  = lazyre.New(`^[1-9][0-9]?\.[0-9]$`)
	gfxPattern = lazyre.New(`^gfx[0-9][0-9a-f]{2,4}$`)
	verPattern = lazyre.New(`^[0-9]+(\.[0-9]+){0,3}$`)
)

// Validate checks the GPU's fields for well-formedness.
func (g GPU) Validate() error {
	switch g.Vendor {
	case VendorNVIDIA:
		if !ccPattern.MatchString(g.ComputeCapability) {
			return fmt.Errorf("NVIDIA compute capability %q: want major.minor such as 8.0", g.ComputeCapability)
		}
		if g.Driver != "" && !verPattern.MatchString(g.Driver) {
			return fmt.Errorf("driver version %q: want dotted numbers such as 550.54.14", g.Driver)
		}
		if g.CUDAVersion != "" && !verPattern.MatchString(g.CUDAVersion) {
			return fmt.Errorf("CUDA version %q: want dotted numbers such as 12.4", g.CUDAVersion)
		}
	case VendorAMD:
		if !gfxPattern.MatchString(g.GFX) {
			return fmt.Errorf("AMD GPU target %q: want gfx followed by digits, such as gfx90a", g.GFX)
		}
	default:
		return fmt.Errorf("GPU vendor %q: want nvidia or amd", g.Vendor)
	}
	return nil
}

// Capability returns the NVIDIA compute capability as numbers (9, 0).
func (g GPU) Capability() (major, minor int, ok bool) {
	maj, mn, found := strings.Cut(g.ComputeCapability, ".")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(mn)
	return a, b, err1 == nil && err2 == nil
}

// cudaDriverFloors lists, newest first, the minimum Linux x86_64 driver of
// each CUDA toolkit release: NVIDIA's CUDA Toolkit release notes, table 3
// "CUDA Toolkit and Corresponding Driver Versions" (the GA row of each
// release; 11.0's is its 11.0.1 RC row, the first driver that ran it). 12.7
// is no toolkit release: it is the CUDA version the R565 drivers report
// (nvidia-smi's "CUDA Version: 12.7" from 565.57.01 on, the first R565
// production driver).
var cudaDriverFloors = []struct{ cuda, driver string }{
	{"13.0", "580.65.06"},
	{"12.9", "575.51.03"},
	{"12.8", "570.26"},
	{"12.7", "565.57.01"},
	{"12.6", "560.28.03"},
	{"12.5", "555.42.02"},
	{"12.4", "550.54.14"},
	{"12.3", "545.23.06"},
	{"12.2", "535.54.03"},
	{"12.1", "530.30.02"},
	{"12.0", "525.60.13"},
	{"11.8", "520.61.05"},
	{"11.7", "515.43.04"},
	{"11.6", "510.39.01"},
	{"11.5", "495.29.05"},
	{"11.4", "470.42.01"},
	{"11.3", "465.19.01"},
	{"11.2", "460.27.03"},
	{"11.1", "455.23"},
	{"11.0", "450.36.06"},
	{"10.2", "440.33"},
	{"10.1", "418.39"},
	{"10.0", "410.48"},
}

// CUDAForDriver returns the highest CUDA version an NVIDIA Linux driver
// supports (what nvidia-smi prints as "CUDA Version"), or "" when the driver
// is older than CUDA 10 or not a version.
func CUDAForDriver(driver string) string {
	for _, f := range cudaDriverFloors {
		if CompareVersions(driver, f.driver) >= 0 {
			return f.cuda
		}
	}
	return ""
}

// CUDAReleaseDriver returns the driver that shipped with CUDA toolkit
// version cuda (its major.minor release: "12.4.1" reads as 12.4), the
// oldest that JIT-compiles the toolkit's PTX; "" when the release is not
// in the table (older than 10.0, newer than this table, or not a version).
func CUDAReleaseDriver(cuda string) string {
	parts := strings.SplitN(cuda, ".", 3)
	if len(parts) < 2 {
		parts = append(parts, "0")
	}
	mm := parts[0] + "." + parts[1]
	for _, f := range cudaDriverFloors {
		if f.cuda == mm && f.cuda != "12.7" {
			return f.driver
		}
	}
	return ""
}

// CompareVersions compares dotted numeric versions ("550.54" < "550.54.14"
// is false: missing parts count as 0). Non-numeric parts count as 0.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
