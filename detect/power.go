package detect

import (
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
)

// powerPattern finds the generation in a ppc cpuinfo "cpu" line:
// "POWER9 (raw), altivec supported", "POWER8NVL (raw)".
var powerPattern = lazyre.New(`POWER(\d+)`)

// powerVendor is the catalog vendor of POWER targets.
const powerVendor = "IBM"

// parsePower reads a ppc64/ppc64le cpuinfo block: the "cpu" line gives the
// generation. A cpu line without a POWER generation (an emulator) gives
// generation 0, so only the family root fits, as in archspec.
func parsePower(info *CPUInfo, fields map[string]string) error {
	cpu, err := require(fields, "cpu", info.Machine)
	if err != nil {
		return err
	}
	info.Model = cpu
	if m := powerPattern.FindStringSubmatch(cpu); m != nil {
		if gen, err := strconv.Atoi(m[1]); err == nil && gen < 1000 {
			info.Generation = gen
			info.Vendor = powerVendor
		}
	}
	var fs []string
	if strings.Contains(cpu, "altivec supported") {
		fs = append(fs, "altivec")
	}
	info.setFeatures(fs)
	return nil
}
