package vfs

import "testing"

func TestShared(t *testing.T) {
	type key struct{}
	made := 0
	mk := func() any { made++; return &made }
	v1, v2 := New(), New()
	a, b := v1.Shared(key{}, mk), v1.Shared(key{}, mk)
	if a != b || made != 1 {
		t.Fatalf("one VFS gave two values (%p, %p) after %d makes", a, b, made)
	}
	if v2.Shared(key{}, mk); made != 2 {
		t.Fatalf("a second VFS shared the first one's value")
	}
}
