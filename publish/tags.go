package publish

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/requirement"
)

// ErrNoConvention is returned (wrapped) by ParseTag for a tag that follows
// none of the conventions it knows.
var ErrNoConvention = errors.New("no known tag convention")

var (
	// cpu-skylake, cpu-skylake_avx512
	cpuDashTag = lazyre.New(`^cpu-([a-z0-9_.]+)$`)
	// cpu_broadwell, cpu_broadwell-nvcap_52
	cpuUnderscoreTag = lazyre.New(`^cpu_([a-z0-9_.]+?)(?:-nvcap_([0-9]{2,3}))?$`)
	// nvcap_52 alone
	nvcapTag = lazyre.New(`^nvcap_([0-9]{2,3})$`)
	// 1.2-x86-64-v3, x86-64-v3
	levelTag = lazyre.New(`^(?:(.+)-)?x86-64-v([2-4])$`)
)

// ParseTag reads the requirements a tag names by convention:
//
//	generic                  no requirement
//	cpu-<target>             cpu=<target>
//	cpu_<target>-nvcap_<NN>  cpu=<target>,cuda=sm_<NN> (nvcap part optional)
//	nvcap_<NN>               cuda=sm_<NN>
//	[<tag>-]x86-64-v<N>      the level-only target x86_64_v<N>
//
// A tag of no convention wraps ErrNoConvention; one that names an unknown
// target or a malformed CUDA code wraps requirement.ErrMalformed (or
// catalog.ErrUnknownTarget). Either error says why, for the import report.
func ParseTag(tag string) (requirement.Requirements, error) {
	r := requirement.Requirements{Source: requirement.SourceShort}
	switch {
	case tag == "generic":
		return r, nil
	case cpuDashTag.MatchString(tag):
		t, err := lookupTagTarget(cpuDashTag.FindStringSubmatch(tag)[1])
		r.Target = t
		return r, err
	case cpuUnderscoreTag.MatchString(tag):
		m := cpuUnderscoreTag.FindStringSubmatch(tag)
		t, err := lookupTagTarget(m[1])
		if err != nil {
			return r, err
		}
		r.Target = t
		if m[2] != "" {
			return withNvcap(r, m[2])
		}
		return r, nil
	case nvcapTag.MatchString(tag):
		return withNvcap(r, nvcapTag.FindStringSubmatch(tag)[1])
	case levelTag.MatchString(tag):
		r.Target = "x86_64_v" + levelTag.FindStringSubmatch(tag)[2]
		return r, nil
	}
	return r, fmt.Errorf("%w (want generic, cpu-<target>, cpu_<target>-nvcap_<NN> or <tag>-x86-64-v<N>)", ErrNoConvention)
}

// lookupTagTarget accepts the catalog name, or one with dashes for
// underscores where the tag syntax allows it.
func lookupTagTarget(name string) (string, error) {
	if _, err := catalog.Lookup(name); err == nil {
		return name, nil
	}
	alt := strings.ReplaceAll(name, "-", "_")
	if _, err := catalog.Lookup(alt); err == nil {
		return alt, nil
	}
	_, err := catalog.Lookup(name)
	return "", err
}

func withNvcap(r requirement.Requirements, nn string) (requirement.Requirements, error) {
	a, err := requirement.ParseCUDAArch("sm_" + nn)
	if err != nil {
		return r, err
	}
	r.CUDA = append(r.CUDA, a)
	return r, nil
}
