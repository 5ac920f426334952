package match

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/requirement"
)

// CheckVerified is the requirement name of what `tailor verify --record`
// found an entry's code really needs (dev.tailor.verified.*).
const CheckVerified = "verified"

// checkVerified checks what verify recorded on an entry: its real needs
// must hold too, whatever the entry declares (DESIGN.md §5a).
func (h *host) checkVerified(v requirement.Verification) Check {
	c := Check{Requirement: CheckVerified}
	if !v.Known {
		c.Detail = "tailor verify found it does not run on the CPU it declares (" + requirement.AnnotationVerified + "=" + v.Verdict + "), and what it needs is unknown"
		return c
	}
	n := v.Needs
	if n.IsGeneric() {
		c.OK, c.Detail = true, "tailor verify found it needs nothing beyond its architecture"
		return c
	}
	var fails, holds []string
	if n.Target != "" {
		if cc := h.checkCPU(n.Target); cc.OK {
			holds = append(holds, n.Target)
		} else {
			fails = append(fails, cc.Detail)
		}
	}
	if len(n.Features) > 0 {
		if miss := h.missing(slices.Values(n.Features)); len(miss) > 0 {
			fails = append(fails, lacks(miss))
		} else {
			holds = append(holds, strings.Join(n.Features, ", "))
		}
	}
	if len(n.CUDA) > 0 {
		checks, _ := h.checkCUDA(n)
		for _, cc := range checks {
			if !cc.OK {
				fails = append(fails, cc.Detail)
			}
		}
	}
	what := "tailor verify found its code needs " + n.String()
	if len(fails) > 0 {
		c.Detail = fmt.Sprintf("%s (%s=%s): %s", what, requirement.AnnotationVerified, v.Verdict, strings.Join(fails, "; "))
		return c
	}
	c.OK, c.Detail = true, fmt.Sprintf("%s: host has %s", what, strings.Join(holds, ", "))
	if len(holds) == 0 {
		c.Detail = what + ": host fits"
	}
	return c
}
