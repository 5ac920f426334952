package match

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/internal/lazyre"
)

// Option configures Match, Best and the comparers.
type Option func(*options) error

// options holds what the Options set. The defaults: no host policy, and a
// malformed entry fails the whole call (strict).
type options struct {
	preferTargets, preferFeatures []string
	avoidTargets, avoidFeatures   []string
	lenient                       bool
}

// WithPrefer ranks entries built for the given targets or needing the given
// CPU features above the others that fit, before CPU specificity is
// considered (GPU code still comes first). A name the catalog knows is a
// target, anything else a feature; "target:NAME" and "feature:NAME" force
// one reading. A preferred target counts only for an entry built for
// exactly that target (preferring haswell puts a haswell build above a
// skylake build on a skylake host); a preferred feature counts for every
// entry whose target or extra features need it.
func WithPrefer(names ...string) Option {
	return func(o *options) error {
		return addPolicy(&o.preferTargets, &o.preferFeatures, "prefer", names)
	}
}

// WithAvoid ranks entries that use the given targets or need the given CPU
// features below the others that fit; they still fit, and are chosen when
// nothing else does. An entry uses a target when the target is in its
// lineage (avoiding skylake_avx512 demotes icelake builds too), and needs a
// feature when its target or extra features list it, aliases honoured
// (avoid "avx512" demotes any build needing an AVX-512 subset). Some codes
// run faster at AVX2 than at AVX-512: WithAvoid("avx512f").
func WithAvoid(names ...string) Option {
	return func(o *options) error {
		return addPolicy(&o.avoidTargets, &o.avoidFeatures, "avoid", names)
	}
}

// Lenient turns an entry whose requirements cannot be read (unknown target,
// malformed CUDA arch) into a candidate that does not fit, its check
// carrying the error, instead of failing the call. The default is strict: a
// publisher's error must be loud.
func Lenient() Option {
	return func(o *options) error {
		o.lenient = true
		return nil
	}
}

func addPolicy(targets, features *[]string, verb string, names []string) error {
	for _, n := range names {
		n = strings.TrimSpace(n)
		kind, name, explicit := strings.Cut(n, ":")
		if !explicit {
			kind, name = "", n
		}
		if name == "" {
			return fmt.Errorf("%s: empty name", verb)
		}
		switch kind {
		case "target":
			t, err := catalog.Lookup(name)
			if err != nil {
				return fmt.Errorf("%s %q: %w", verb, n, err)
			}
			*targets = append(*targets, t.Name())
		case "feature":
			// Explicit: a flag newer than the catalog is taken as given.
			if !featureName.MatchString(name) {
				return fmt.Errorf("%s %q: a CPU feature is lower-case letters, digits and '_' (as /proc/cpuinfo spells it)", verb, n)
			}
			*features = append(*features, name)
		case "":
			switch t, err := catalog.Lookup(name); {
			case err == nil:
				*targets = append(*targets, t.Name())
			case catalog.IsFeature(name):
				*features = append(*features, name)
			default:
				return fmt.Errorf("%s %q: neither a target nor a CPU feature the catalog knows%s (write feature:%s for a flag newer than the catalog)", verb, n, suggestTargetOrFeature(name, err), name)
			}
		default:
			return fmt.Errorf("%s %q: want NAME, target:NAME or feature:NAME", verb, n)
		}
	}
	return nil
}

// featureName is the shape of a /proc/cpuinfo flag.
var featureName = lazyre.New(`^[a-z0-9_]+$`)

// CheckOptions reports the error opts would make Match fail with (an
// unknown target or feature in a policy), so a caller can reject bad input
// before any I/O.
func CheckOptions(opts ...Option) error {
	_, err := newOptions(opts)
	return err
}

// newOptions applies opts and rejects conflicts in one place.
func newOptions(opts []Option) (*options, error) {
	o := &options{}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("match option: %w", err)
		}
	}
	for _, t := range o.preferTargets {
		if slices.Contains(o.avoidTargets, t) {
			return nil, fmt.Errorf("match option: target %q is both preferred and avoided", t)
		}
	}
	for _, f := range o.preferFeatures {
		if slices.Contains(o.avoidFeatures, f) {
			return nil, fmt.Errorf("match option: feature %q is both preferred and avoided", f)
		}
	}
	return o, nil
}

// suggestTargetOrFeature is the closest feature name, else the target
// suggestion of the lookup error lerr.
func suggestTargetOrFeature(name string, lerr error) string {
	if s := catalog.SuggestFeature(name); s != "" {
		return s
	}
	if _, hint, ok := strings.Cut(lerr.Error(), ": did you mean "); ok {
		hint, _, _ = strings.Cut(hint, "?")
		return ": did you mean " + hint + "?"
	}
	return ""
}
