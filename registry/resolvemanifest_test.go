package registry

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// TestResolveManifest: ResolveManifest names what GetManifest reads, and
// fails as it does.
func TestResolveManifest(t *testing.T) {
	ctx := context.Background()
	reg, base := newTest(t, "")
	if a := putManifest(t, base, "team/app", "v1", MediaOCIManifest, imageManifest(t, base, "team/app", nil, []byte("layer"))); a.status != http.StatusCreated {
		t.Fatalf("push: %d %s", a.status, a.body)
	}
	for _, c := range []struct{ repo, ref string }{{"team/app", "v1"}, {"team/app", "missing"}, {"Bad Name", "v1"}, {"team/app", "bad:tag:"}} {
		m, gerr := reg.GetManifest(ctx, c.repo, c.ref)
		d, mt, rerr := reg.ResolveManifest(ctx, c.repo, c.ref)
		var ge, re *Error
		switch {
		case gerr == nil && (rerr != nil || d != m.Digest || mt != m.MediaType):
			t.Errorf("%s:%s: resolved %s %s (%v), GetManifest read %s %s", c.repo, c.ref, d, mt, rerr, m.Digest, m.MediaType)
		case gerr != nil && (!errors.As(gerr, &ge) || !errors.As(rerr, &re) || ge.Status != re.Status || ge.Code != re.Code):
			t.Errorf("%s:%s: ResolveManifest %v, GetManifest %v", c.repo, c.ref, rerr, gerr)
		case gerr != nil && ge.Status != http.StatusNotFound && ge.Status != http.StatusBadRequest:
			t.Errorf("%s:%s: %v", c.repo, c.ref, gerr)
		}
	}
}
