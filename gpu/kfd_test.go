package gpu

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/tailor-dev/tailor/profile"
)

func amd(model, gfx string) profile.GPU {
	return profile.GPU{Vendor: profile.VendorAMD, Model: model, GFX: gfx}
}

func TestParseKFD(t *testing.T) {
	tests := []struct {
		dir  string
		want []profile.GPU
	}{
		{"mi250x", times(8, amd("aldebaran", "gfx90a"))},
		{"mi300x", times(8, amd("", "gfx942"))},
		{"cpu-only", []profile.GPU{}},
		{"rdna3", []profile.GPU{amd("", "gfx1100")}},
		{"rdna2", []profile.GPU{amd("navi21", "gfx1030")}},
		{"absent", []profile.GPU{}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got, err := ParseKFD(os.DirFS(filepath.Join("testdata", "kfd", tt.dir)))
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseKFD(%s) = %+v, %v, want %+v, nil", tt.dir, got, err, tt.want)
			}
		})
	}
}

func props(gfx string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte("cpu_cores_count 0\nsimd_count 4\n" + gfx + "vendor_id 4098\n")}
}

func TestParseKFDMapFS(t *testing.T) {
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []profile.GPU
		wantErr []string
	}{
		{"empty", fstest.MapFS{}, []profile.GPU{}, nil},
		{"numeric order", fstest.MapFS{
			"2/properties":  props("gfx_target_version 90402\n"),
			"10/properties": props("gfx_target_version 110000\n"),
			"1/properties":  props("gfx_target_version 90010\n"),
			"0/properties":  props("gfx_target_version 0\n"),
			"README":        {Data: []byte("not a node")},
			"x/properties":  props("gfx_target_version 90010\n"),
		}, []profile.GPU{amd("", "gfx90a"), amd("", "gfx942"), amd("", "gfx1100")}, nil},
		{"bad nodes are reported, good ones kept", fstest.MapFS{
			"0/properties": props("gfx_target_version 90010\n"),
			"1/properties": props(""),
			"2/properties": props("gfx_target_version ninety\n"),
			"3/properties": props("gfx_target_version 91600\n"),
			"4/name":       {Data: []byte("no properties\n")},
			"5/properties": props("gfx_target_version 1000000\n"),
		}, []profile.GPU{amd("", "gfx90a")}, []string{
			"KFD node 1: properties have no gfx_target_version",
			`KFD node 2: property gfx_target_version: strconv.Atoi: parsing "ninety"`,
			"KFD node 3: gfx_target_version 91600",
			"KFD node 4:",
			"KFD node 5:",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKFD(tt.fsys)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseKFD = %+v, want %+v", got, tt.want)
			}
			checkErr(t, err, tt.wantErr)
		})
	}
}

// denyFS answers every read of a node's properties with a permission error,
// as amdkfd does for a GPU the device cgroup hides.
type denyFS struct{ fstest.MapFS }

func (d denyFS) ReadFile(name string) ([]byte, error) {
	if name == "1/properties" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.MapFS.ReadFile(name)
}

func TestParseKFDHiddenGPU(t *testing.T) {
	fsys := denyFS{fstest.MapFS{
		"0/properties": props("gfx_target_version 90402\n"),
		"1/properties": props("gfx_target_version 90402\n"),
	}}
	got, err := ParseKFD(fsys)
	if want := []profile.GPU{amd("", "gfx942")}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseKFD = %+v, %v, want %+v, nil", got, err, want)
	}
}

func TestGFXTarget(t *testing.T) {
	tests := map[int]string{
		80001:  "gfx801",
		90000:  "gfx900",
		90006:  "gfx906",
		90008:  "gfx908",
		90010:  "gfx90a",
		90012:  "gfx90c",
		90400:  "gfx940",
		90401:  "gfx941",
		90402:  "gfx942",
		90500:  "gfx950",
		100100: "gfx1010",
		100300: "gfx1030",
		100306: "gfx1036",
		110000: "gfx1100",
		110003: "gfx1103",
		110501: "gfx1151",
		120001: "gfx1201",
	}
	for v, want := range tests {
		got, err := GFXTarget(v)
		if err != nil || got != want {
			t.Errorf("GFXTarget(%d) = %q, %v, want %q, nil", v, got, err, want)
		}
	}
	for _, v := range []int{0, -90010, 9999, 91000, 90016, 90099} {
		if got, err := GFXTarget(v); err == nil {
			t.Errorf("GFXTarget(%d) = %q, nil, want an error", v, got)
		}
	}
}
