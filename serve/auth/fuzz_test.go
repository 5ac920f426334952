package auth

import "testing"

func FuzzGrant(f *testing.F) {
	for _, s := range []string{"repository:app:pull", "repository:a/b:pull,push", "registry:catalog:*", "repository:x:*", "a:b", ":::", "repository::pull"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, scope string, mayPush bool) {
		a, ok := Grant(scope, mayPush)
		if !ok {
			return
		}
		if len(a.Actions) == 0 {
			t.Fatalf("Grant(%q) = %+v with no action", scope, a)
		}
		for _, act := range a.Actions {
			if act == ActionPush && !mayPush {
				t.Fatalf("Grant(%q, false) gave push", scope)
			}
			if act != ActionPull && act != ActionPush && act != "*" {
				t.Fatalf("Grant(%q) gave action %q", scope, act)
			}
		}
		if a.Type != "repository" && a.Type != "registry" {
			t.Fatalf("Grant(%q) gave type %q", scope, a.Type)
		}
	})
}
