package lazyre

import "testing"

func TestLazy(t *testing.T) {
	r := New(`^v([0-9]+)$`)
	if r.re != nil {
		t.Fatal("compiled before first use")
	}
	if !r.MatchString("v12") || r.MatchString("x") {
		t.Error("MatchString")
	}
	if m := r.FindStringSubmatch("v7"); len(m) != 2 || m[1] != "7" {
		t.Errorf("FindStringSubmatch = %q", m)
	}
	if m := r.FindSubmatch([]byte("v8")); len(m) != 2 || string(m[1]) != "8" {
		t.Errorf("FindSubmatch = %q", m)
	}
	if got := New(`[0-9]`).ReplaceAllString("a1b2", "#"); got != "a#b#" {
		t.Errorf("ReplaceAllString = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("an invalid expression did not panic on first use")
		}
	}()
	bad := New(`(`) // no panic yet: nothing compiled
	bad.MatchString("x")
}
