package syscalls

import "testing"

func TestDescribe(t *testing.T) {
	infos := Describe()
	byName := map[string]Info{}
	prev := -1
	for _, in := range infos {
		if in.Number <= prev {
			t.Errorf("%s: number %d after %d", in.Name, in.Number, prev)
		}
		prev = in.Number
		byName[in.Name] = in
		if (in.Status == Partial) != (in.Missing != "") {
			t.Errorf("%s: status %s with missing %q", in.Name, in.Status, in.Missing)
		}
	}
	for _, tc := range []struct {
		name   string
		number int
		status Status
	}{
		{"read", 0, Supported},
		{"openat", 257, Supported},
		{"clone", 56, Partial},
		{"ptrace", 101, Partial},
		{"io_uring_setup", 425, Unsupported},
		{"pidfd_getfd", 438, Unsupported},
	} {
		in, ok := byName[tc.name]
		if !ok || in.Number != tc.number || in.Status != tc.status {
			t.Errorf("%s: got %+v, want number %d status %s", tc.name, in, tc.number, tc.status)
		}
	}
}

// TestPartialHasHandler: an entry that says what it leaves out must
// have a handler, else the note describes nothing.
func TestPartialHasHandler(t *testing.T) {
	for nr, s := range Table() {
		if s.Partial != "" && s.Fn == nil {
			t.Errorf("%d (%s): partial %q without a handler", nr, s.Name, s.Partial)
		}
	}
}
