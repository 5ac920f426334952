package stack

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tailor-dev/tailor/profile"
)

// maxFleetLine bounds one line of a fleet file (an inline JSON profile is
// a few KiB).
const maxFleetLine = 1 << 20

// ReadFleet reads a fleet: one host per line, a spec string
// (cpu=zen3,label.fabric=ucx), an inline JSON profile, or the path of a
// profile file as `tailor detect -o json` writes it (relative to dir).
// Blank lines and lines starting with # are skipped. A line that is no
// profile is an error naming it (profile.ErrInvalid).
func ReadFleet(r io.Reader, dir string) ([]Host, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxFleetLine)
	var hosts []Host
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		arg := line
		if !strings.HasPrefix(line, "{") && !strings.Contains(line, "=") && !filepath.IsAbs(line) {
			arg = filepath.Join(dir, line)
		}
		p, err := profile.Load(arg)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		hosts = append(hosts, Host{Name: line, Profile: p})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: reading the fleet: %w", profile.ErrInvalid, err)
	}
	return hosts, nil
}
