package registry

import (
	"context"
	"slices"
	"testing"
)

func TestRepositoriesAndTags(t *testing.T) {
	reg, base := newTest(t, "")
	ctx := context.Background()
	for _, p := range []struct{ repo, tag string }{{"team/app", "2"}, {"team/app", "1"}, {"tools", "latest"}} {
		m := imageManifest(t, base, p.repo, nil, []byte(p.repo+p.tag))
		if a := putManifest(t, base, p.repo, p.tag, MediaOCIManifest, m); a.status != 201 {
			t.Fatalf("put %s:%s: %d", p.repo, p.tag, a.status)
		}
	}
	repos, err := reg.Repositories(ctx)
	if err != nil || !slices.Equal(repos, []string{"team/app", "tools"}) {
		t.Errorf("Repositories = %v, %v", repos, err)
	}
	tags, err := reg.Tags(ctx, "team/app")
	if err != nil || !slices.Equal(tags, []string{"1", "2"}) {
		t.Errorf("Tags(team/app) = %v, %v", tags, err)
	}
	for _, name := range []string{"absent", "../tools", ""} {
		if tags, err := reg.Tags(ctx, name); err != nil || tags != nil {
			t.Errorf("Tags(%q) = %v, %v; want none", name, tags, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := reg.Repositories(cancelled); err == nil {
		t.Error("Repositories with a cancelled context: no error")
	}
}
