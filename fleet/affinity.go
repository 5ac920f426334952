package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/resolve"
)

// ErrNoNode is returned when no entry of an index can run on any Linux
// node, so no affinity can admit anything.
var ErrNoNode = errors.New("no entry of the index runs on a Linux node")

// Affinity is a required node affinity: a node is admitted when one of the
// terms holds on its labels.
type Affinity struct {
	Terms []Term
	// Generic lists the architectures (amd64) for which the index has a
	// generic entry: every node of those gets a build, labelled or not.
	Generic []string
}

// Admits reports whether a node with these labels may run the pod.
func (a *Affinity) Admits(labels map[string]string) bool {
	return slices.ContainsFunc(a.Terms, func(t Term) bool { return t.Holds(labels) })
}

// YAML is the affinity as a pod spec fragment (affinity: nodeAffinity:
// requiredDuringSchedulingIgnoredDuringExecution: ...), to paste under a
// pod template's spec.
func (a *Affinity) YAML() ([]byte, error) {
	type required struct {
		Terms []Term `json:"nodeSelectorTerms"`
	}
	type nodeAffinity struct {
		Required required `json:"requiredDuringSchedulingIgnoredDuringExecution"`
	}
	type podAffinity struct {
		NodeAffinity nodeAffinity `json:"nodeAffinity"`
	}
	doc := struct {
		Affinity podAffinity `json:"affinity"`
	}{podAffinity{nodeAffinity{required{a.Terms}}}}
	return yaml.Marshal(doc)
}

// AffinityFor fetches ref and returns its Affinity.
func AffinityFor(ctx context.Context, c *remote.Client, ref string) (*Affinity, error) {
	e, err := resolve.Fetch(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	a, err := AffinityOf(e.Descriptors())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return a, nil
}

// AffinityOf returns the node affinity, over the labels of package nfd,
// that admits exactly the nodes some entry fits (as match judges their
// profiles read back by nfd.Profile). An entry with no requirements is
// admitted by kubernetes.io/arch alone, since every node of its
// architecture runs it. Entries whose requirements cannot be read are an
// error, as they are for resolve.
func AffinityOf(entries []v1.Descriptor) (*Affinity, error) {
	var all dnf
	var generic []string
	for i, d := range entries {
		cond, gen, err := entryCondition(d)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if gen != "" && !slices.Contains(generic, gen) {
			generic = append(generic, gen)
		}
		all = append(all, cond...)
	}
	if len(all) == 0 {
		return nil, ErrNoNode
	}
	return &Affinity{Terms: prune(all), Generic: generic}, nil
}

// entryCondition is the dnf of the nodes entry d fits; genericArch is its
// architecture when it needs nothing beyond it.
func entryCondition(d v1.Descriptor) (cond dnf, genericArch string, err error) {
	if d.Platform == nil || !strings.HasPrefix(match.PlatformKey(d.Platform), "linux/") {
		return nil, "", nil
	}
	r, err := requirement.FromDescriptor(d)
	if err != nil {
		return nil, "", err
	}
	arch := strings.TrimPrefix(match.PlatformKey(d.Platform), "linux/")
	plat := platformCondition(d, arch)
	if plat == nil {
		return nil, "", nil
	}
	if r.IsGeneric() && d.Platform.Variant == "" {
		return one(
			Expression{Key: nfd.KeyKubeArch, Operator: OpIn, Values: []string{arch}},
			Expression{Key: nfd.KeyKubeOS, Operator: OpIn, Values: []string{"linux"}},
		), arch, nil
	}
	cond = plat
	if r.Target != "" {
		cond = and(cond, one(Expression{Key: nfd.TargetKey(r.Target), Operator: OpExists}))
	}
	for _, f := range r.Features {
		cond = and(cond, one(Expression{Key: nfd.FeatureKey(f), Operator: OpExists}))
	}
	if len(r.CUDA) > 0 || r.CUDAVersion != "" {
		cond = and(cond, cudaCondition(r.CUDA, r.CUDAVersion))
	}
	if len(r.ROCm) > 0 {
		var any dnf
		for _, g := range r.ROCm {
			any = append(any, one(Expression{Key: nfd.AMDKey(strings.ToLower(g)), Operator: OpExists})...)
		}
		cond = and(cond, any)
	}
	for k, v := range r.Labels {
		cond = and(cond, one(Expression{Key: nfd.HostLabelKey(k), Operator: OpIn, Values: []string{v}}))
	}
	return cond, "", nil
}

// platformCondition is the dnf of the nodes whose target d's platform
// fits, found by asking match for a host of every target of arch: the
// architecture alone when every target fits, else the list of targets
// (a level variant fits only the targets that descend from the level).
func platformCondition(d v1.Descriptor, arch string) dnf {
	plat := v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Platform: d.Platform}
	var fits []string
	n := 0
	for _, t := range catalog.All() {
		if t.Architecture() != arch {
			continue
		}
		n++
		p, err := profile.New(t.Name())
		if err != nil {
			continue
		}
		if cands, err := match.Match([]v1.Descriptor{plat}, p); err == nil && cands[0].Fits {
			fits = append(fits, t.Name())
		}
	}
	switch {
	case len(fits) == 0:
		return nil
	case len(fits) == n:
		return one(Expression{Key: nfd.KeyArch, Operator: OpIn, Values: []string{arch}})
	}
	slices.Sort(fits)
	return one(Expression{Key: nfd.KeyTarget, Operator: OpIn, Values: fits})
}

// cudaCondition: some NVIDIA GPU runs one of archs (requirement.CUDAArch
// RunsOn), with a driver that runs that code (match.DriverFloor: native
// code and PTX have floors of their own); with none listed, any NVIDIA GPU.
func cudaCondition(archs []requirement.CUDAArch, version string) dnf {
	if len(archs) == 0 {
		return and(one(Expression{Key: nfd.KeyNVIDIACount, Operator: OpExists}), driverCondition(version, false))
	}
	var out dnf
	for _, a := range archs {
		var e Expression
		switch {
		case a.Suffix == "a": // exactly X.Y
			e = Expression{Key: nfd.CCKey(a.Major, a.Minor), Operator: OpExists}
		case a.PTX && a.Suffix == "": // any X.Y or above
			e = Expression{Key: nfd.KeyNVIDIACCNumber, Operator: OpGt, Values: []string{strconv.Itoa(10*a.Major + a.Minor - 1)}}
		default: // X.Z with Z >= Y, integrated (Tegra) or desktop as X.Y is
			var minors []string
			for m := a.Minor; m <= 9; m++ {
				if a.PTX || requirement.Integrated(a.Major, m) == requirement.Integrated(a.Major, a.Minor) {
					minors = append(minors, strconv.Itoa(m))
				}
			}
			if len(minors) == 0 {
				continue
			}
			e = Expression{Key: nfd.MajorKey(a.Major), Operator: OpIn, Values: minors}
		}
		out = append(out, and(one(e), driverCondition(version, a.PTX))...)
	}
	return out
}

// driverCondition: the driver is at or above the floor of code built with
// CUDA version (match.DriverFloor) or, with no driver version known,
// supports a CUDA version that runs it (the same major or newer for native
// code from 11 on; that release or newer for PTX and before 11); a GPU
// with neither known (a hand-written profile) is taken to be new enough,
// as match does.
func driverCondition(version string, ptx bool) dnf {
	if version == "" {
		return always
	}
	floor := match.DriverFloor(version, ptx)
	if floor == "" {
		return always
	}
	var out dnf
	if n, ok := nfd.DriverNumber(floor); ok {
		out = append(out, one(Expression{Key: nfd.KeyDriverNumber, Operator: OpGt, Values: []string{strconv.FormatInt(n-1, 10)}})...)
	}
	parts := strings.SplitN(version, ".", 3)
	major, err := strconv.Atoi(parts[0])
	if err == nil {
		noDriver := Expression{Key: nfd.KeyDriver, Operator: OpDoesNotExist}
		newerMajor := Expression{Key: nfd.KeyCUDAMajor, Operator: OpGt, Values: []string{strconv.Itoa(major)}}
		minor := 0
		if len(parts) > 1 {
			minor, _ = strconv.Atoi(parts[1])
		}
		if ptx || major < 11 {
			var same []string
			for m := minor; m <= 9; m++ {
				same = append(same, fmt.Sprintf("%d.%d", major, m))
			}
			out = append(out, one(noDriver, newerMajor)...)
			out = append(out, one(noDriver, Expression{Key: nfd.KeyCUDA, Operator: OpIn, Values: same})...)
		} else {
			out = append(out, one(noDriver, Expression{Key: nfd.KeyCUDAMajor, Operator: OpGt, Values: []string{strconv.Itoa(major - 1)}})...)
		}
	}
	return append(out, one(noDriverKnown()...)...)
}

// noDriverKnown: a GPU whose driver and CUDA versions are both unknown.
func noDriverKnown() []Expression {
	return []Expression{{Key: nfd.KeyDriver, Operator: OpDoesNotExist}, {Key: nfd.KeyCUDAMajor, Operator: OpDoesNotExist}}
}
