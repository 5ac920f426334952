package stack

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/requirement"
)

// Union is what an entry whose axis values need rs needs: one CPU target
// and one CUDA version at most, the features, CUDA and ROCm code and
// labels of all. Two different targets, CUDA versions, or values of one
// label are a conflict (an ErrStack): no host could satisfy both.
func Union(rs ...requirement.Requirements) (requirement.Requirements, error) {
	var u requirement.Requirements
	for _, r := range rs {
		if err := pick(&u.Target, r.Target, "CPU targets"); err != nil {
			return requirement.Requirements{}, err
		}
		if err := pick(&u.CUDAVersion, r.CUDAVersion, "CUDA versions"); err != nil {
			return requirement.Requirements{}, err
		}
		u.Features = append(u.Features, r.Features...)
		u.CUDA = append(u.CUDA, r.CUDA...)
		u.ROCm = append(u.ROCm, r.ROCm...)
		for k, v := range r.Labels {
			if old, ok := u.Labels[k]; ok && old != v {
				return requirement.Requirements{}, fmt.Errorf("%w: labels %s=%s and %s=%s conflict", ErrStack, k, old, k, v)
			}
			if u.Labels == nil {
				u.Labels = map[string]string{}
			}
			u.Labels[k] = v
		}
	}
	u.Features = sortedUnique(u.Features)
	u.ROCm = sortedUnique(u.ROCm)
	if len(u.CUDA) > 0 {
		slices.SortFunc(u.CUDA, func(a, b requirement.CUDAArch) int { return strings.Compare(a.String(), b.String()) })
		u.CUDA = slices.CompactFunc(u.CUDA, func(a, b requirement.CUDAArch) bool { return a == b })
	}
	u.Source = requirement.SourceShort
	if u.IsGeneric() {
		u.Source = requirement.SourceNone
	}
	return u, nil
}

func pick(dst *string, v, what string) error {
	if v == "" || v == *dst {
		return nil
	}
	if *dst != "" {
		return fmt.Errorf("%w: two %s, %s and %s", ErrStack, what, *dst, v)
	}
	*dst = v
	return nil
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// labelsString is the labels as k=v,k2=v2, sorted.
func labelsString(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
