package profile

import (
	"fmt"
	"os"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/internal/lazyre"
)

var labelKey = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// ParseSpec expands a profile spec string. Keys, comma-separated:
//
//	cpu=TARGET         catalog target of the CPU (required unless arch= is given)
//	arch=ARCH          architecture only (amd64, arm64, ...): the family's generic target
//	features=F+F       CPU flags beyond the target's
//	gpu=CC|gfxNNN      a GPU: NVIDIA compute capability (8.0) or AMD gfx target; '+' for several
//	driver=VERSION     NVIDIA driver version (550.54.14)
//	cuda=VERSION       highest CUDA version the driver supports (default: from driver)
//	label.KEY=VALUE    a host label
//
// Example: cpu=zen3,gpu=8.0,driver=550.54,label.mpi=openmpi.
func ParseSpec(spec string) (*Profile, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("%w: empty profile spec (want e.g. cpu=zen3,gpu=8.0)", ErrInvalid)
	}
	var cpu, arch, driver, cuda string
	var features, gpus []string
	labels := map[string]string{}
	for _, field := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok || key == "" || value == "" {
			return nil, fmt.Errorf("%w: spec %q: field %q is not key=value", ErrInvalid, spec, field)
		}
		if lk, isLabel := strings.CutPrefix(key, "label."); isLabel {
			if err := CheckLabel(lk, value); err != nil {
				return nil, fmt.Errorf("%w: spec %q: %w", ErrInvalid, spec, err)
			}
			labels[lk] = value
			continue
		}
		var dst *string
		switch key {
		case "cpu":
			dst = &cpu
		case "arch":
			dst = &arch
		case "driver":
			dst = &driver
		case "cuda":
			dst = &cuda
		case "features":
			features = append(features, strings.Split(value, "+")...)
			continue
		case "gpu":
			gpus = append(gpus, strings.Split(value, "+")...)
			continue
		default:
			return nil, fmt.Errorf("%w: spec %q: unknown key %q (known: cpu, arch, features, gpu, driver, cuda, label.KEY)", ErrInvalid, spec, key)
		}
		if *dst != "" {
			return nil, fmt.Errorf("%w: spec %q: %s given twice", ErrInvalid, spec, key)
		}
		*dst = value
	}
	t, err := specTarget(cpu, arch)
	if err != nil {
		return nil, fmt.Errorf("%w: spec %q: %w", ErrInvalid, spec, err)
	}
	p := &Profile{OS: "linux", GPUs: []GPU{}}
	if len(labels) > 0 {
		p.Labels = labels
	}
	p.SetCPU(t, append(t.FeatureList(), features...))
	for _, g := range gpus {
		gpu, err := specGPU(g, driver, cuda)
		if err != nil {
			return nil, fmt.Errorf("%w: spec %q: %w", ErrInvalid, spec, err)
		}
		p.GPUs = append(p.GPUs, gpu)
	}
	if (driver != "" || cuda != "") && len(gpus) == 0 {
		return nil, fmt.Errorf("%w: spec %q: driver/cuda given without gpu=", ErrInvalid, spec)
	}
	return p, nil
}

func specTarget(cpu, arch string) (*catalog.Target, error) {
	switch {
	case cpu != "" && arch != "":
		t, err := catalog.Lookup(cpu)
		if err != nil {
			return nil, err
		}
		if a := t.Architecture(); a != arch && cpu != arch {
			if fam, ok := catalog.FamilyOf(arch); !ok || fam != t.Family() {
				return nil, fmt.Errorf("cpu=%s is %s, not arch=%s", cpu, a, arch)
			}
		}
		return t, nil
	case cpu != "":
		return catalog.Lookup(cpu)
	case arch != "":
		fam, ok := catalog.FamilyOf(arch)
		if !ok {
			return nil, fmt.Errorf("unknown architecture %q", arch)
		}
		return catalog.Lookup(fam)
	}
	return nil, fmt.Errorf("no cpu= (or arch=) given")
}

func specGPU(v, driver, cuda string) (GPU, error) {
	var g GPU
	if strings.HasPrefix(v, "gfx") {
		g = GPU{Vendor: VendorAMD, GFX: v}
	} else {
		g = GPU{Vendor: VendorNVIDIA, ComputeCapability: v, Driver: driver, CUDAVersion: cuda}
		if g.CUDAVersion == "" && driver != "" {
			g.CUDAVersion = CUDAForDriver(driver)
		}
	}
	return g, g.Validate()
}

// Load reads a profile argument as the CLI takes it: a path to a JSON file
// (as `tailor detect -o json` writes), inline JSON, or a spec string.
func Load(arg string) (*Profile, error) {
	if strings.HasPrefix(strings.TrimSpace(arg), "{") {
		return ParseJSON([]byte(arg))
	}
	if !strings.Contains(arg, "=") {
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is neither a spec string (cpu=...) nor a readable file: %w", ErrInvalid, arg, err)
		}
		p, err := ParseJSON(data)
		if err != nil {
			return nil, fmt.Errorf("profile file %s: %w", arg, err)
		}
		return p, nil
	}
	return ParseSpec(arg)
}
