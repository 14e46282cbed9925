package fs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func posixOwner(id string, pid int32) *lockOwner {
	return &lockOwner{id: id, pid: pid, posix: true}
}

// ranges lists owner's locks on k as [type start end] triples.
func ranges(m *lockManager, k fileKey, owner any) [][3]int64 {
	var out [][3]int64
	fl := m.files[k]
	if fl == nil {
		return nil
	}
	for _, l := range fl.records {
		if l.owner.id == owner {
			out = append(out, [3]int64{int64(l.typ), l.start, l.end})
		}
	}
	return out
}

func sameRanges(a, b [][3]int64) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[[3]int64]int{}
	for _, r := range a {
		seen[r]++
	}
	for _, r := range b {
		seen[r]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestRecordLocks(t *testing.T) {
	k := fileKey{dev: 1, ino: 1}
	a, b := posixOwner("a", 10), posixOwner("b", 20)
	type step struct {
		owner      *lockOwner
		typ        int16
		start, end int64
		err        error
	}
	cases := []struct {
		name  string
		steps []step
		wantA [][3]int64
	}{
		{
			name:  "read locks share",
			steps: []step{{a, lockRead, 0, 9, nil}, {b, lockRead, 5, 15, nil}},
			wantA: [][3]int64{{lockRead, 0, 9}},
		},
		{
			name:  "write conflicts with read",
			steps: []step{{a, lockRead, 0, 9, nil}, {b, lockWrite, 9, 9, unix.EAGAIN}},
			wantA: [][3]int64{{lockRead, 0, 9}},
		},
		{
			name:  "disjoint writes",
			steps: []step{{a, lockWrite, 0, 9, nil}, {b, lockWrite, 10, offsetMax, nil}},
			wantA: [][3]int64{{lockWrite, 0, 9}},
		},
		{
			name:  "unlock splits",
			steps: []step{{a, lockWrite, 0, 99, nil}, {a, lockUnlock, 10, 19, nil}, {b, lockWrite, 10, 19, nil}},
			wantA: [][3]int64{{lockWrite, 0, 9}, {lockWrite, 20, 99}},
		},
		{
			name:  "downgrade middle",
			steps: []step{{a, lockWrite, 0, 99, nil}, {a, lockRead, 40, 59, nil}, {b, lockRead, 45, 50, nil}, {b, lockRead, 60, 60, unix.EAGAIN}},
			wantA: [][3]int64{{lockWrite, 0, 39}, {lockRead, 40, 59}, {lockWrite, 60, 99}},
		},
		{
			name:  "adjacent merge",
			steps: []step{{a, lockRead, 0, 9, nil}, {a, lockRead, 10, 19, nil}, {a, lockRead, 30, offsetMax, nil}, {a, lockRead, 15, 35, nil}},
			wantA: [][3]int64{{lockRead, 0, offsetMax}},
		},
		{
			name:  "own locks never conflict",
			steps: []step{{a, lockRead, 0, 9, nil}, {a, lockWrite, 5, 14, nil}},
			wantA: [][3]int64{{lockRead, 0, 4}, {lockWrite, 5, 14}},
		},
	}
	for _, c := range cases {
		m := newLockManager()
		for i, s := range c.steps {
			if err := m.setRecord(k, s.owner, s.typ, s.start, s.end, false); err != s.err {
				t.Errorf("%s: step %d: %v, want %v", c.name, i, err, s.err)
			}
		}
		if got := ranges(m, k, "a"); !sameRanges(got, c.wantA) {
			t.Errorf("%s: a holds %v, want %v", c.name, got, c.wantA)
		}
	}
}

func TestTestRecord(t *testing.T) {
	k := fileKey{dev: 1, ino: 2}
	m := newLockManager()
	a := posixOwner("a", 10)
	if err := m.setRecord(k, a, lockWrite, 100, offsetMax, false); err != nil {
		t.Fatal(err)
	}
	if _, found := m.testRecord(k, "a", lockWrite, 0, offsetMax); found {
		t.Error("own lock reported as conflict")
	}
	c, found := m.testRecord(k, "b", lockRead, 0, 100)
	if !found {
		t.Fatal("conflict not found")
	}
	fl := spanToFlock(c)
	if fl.typ != lockWrite || fl.start != 100 || fl.len != 0 || fl.pid != 10 || fl.whence != unix.SEEK_SET {
		t.Errorf("F_GETLK answer %+v", fl)
	}
	if _, found := m.testRecord(k, "b", lockRead, 0, 99); found {
		t.Error("conflict outside the range")
	}
	// Testing F_UNLCK (F_OFD_GETLK) reports the owner's own lock only.
	if c, found := m.testRecord(k, "a", lockUnlock, 150, 160); !found || c.owner != a {
		t.Errorf("own lock under F_UNLCK: %+v %v", c, found)
	}
	if _, found := m.testRecord(k, "b", lockUnlock, 150, 160); found {
		t.Error("another owner's lock reported under F_UNLCK")
	}
}

func TestDeadOwnersReaped(t *testing.T) {
	k := fileKey{dev: 1, ino: 3}
	m := newLockManager()
	alive := true
	a := &lockOwner{id: "a", pid: 1, posix: true, alive: func() bool { return alive }}
	b := posixOwner("b", 2)
	if err := m.setRecord(k, a, lockWrite, 0, offsetMax, false); err != nil {
		t.Fatal(err)
	}
	if err := m.setRecord(k, b, lockWrite, 0, 0, false); err != unix.EAGAIN {
		t.Fatalf("live holder: %v", err)
	}
	ch := m.waitChan()
	alive = false
	if err := m.setRecord(k, b, lockWrite, 0, 0, false); err != nil {
		t.Fatalf("dead holder: %v", err)
	}
	select {
	case <-ch:
	default:
		t.Error("reaping did not wake waiters")
	}
}

func TestDeadlockDetection(t *testing.T) {
	k := fileKey{dev: 1, ino: 4}
	m := newLockManager()
	a, b := posixOwner("a", 1), posixOwner("b", 2)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.setRecord(k, a, lockWrite, 0, 0, false))
	must(m.setRecord(k, b, lockWrite, 1, 1, false))
	// a blocks on b's byte...
	if err := m.setRecord(k, a, lockWrite, 1, 1, true); err != unix.EAGAIN {
		t.Fatalf("a waits: %v", err)
	}
	// ...so b blocking on a's byte would deadlock.
	if err := m.setRecord(k, b, lockWrite, 0, 0, true); err != unix.EDEADLK {
		t.Fatalf("b: %v, want EDEADLK", err)
	}
	// Non-blocking attempts just fail.
	if err := m.setRecord(k, b, lockWrite, 0, 0, false); err != unix.EAGAIN {
		t.Fatalf("b F_SETLK: %v", err)
	}
	m.stopWaiting("a")
	if err := m.setRecord(k, b, lockWrite, 0, 0, true); err != unix.EAGAIN {
		t.Fatalf("after a gave up: %v", err)
	}
}

func TestFlockSemantics(t *testing.T) {
	k := fileKey{dev: 2, ino: 1}
	m := newLockManager()
	f1, f2 := &lockOwner{id: "f1"}, &lockOwner{id: "f2"}
	steps := []struct {
		owner *lockOwner
		typ   int16
		err   error
	}{
		{f1, lockRead, nil},
		{f2, lockRead, nil},
		{f2, lockWrite, unix.EAGAIN}, // conversion fails: f2 lost its lock
		{f1, lockWrite, nil},         // so f1 may now upgrade
		{f2, lockRead, unix.EAGAIN},
		{f1, lockUnlock, nil},
		{f2, lockWrite, nil},
		{f2, lockWrite, nil}, // same type again: no-op
		{f1, lockUnlock, nil},
	}
	for i, s := range steps {
		if err := m.setFlock(k, s.owner, s.typ); err != s.err {
			t.Errorf("step %d: %v, want %v", i, err, s.err)
		}
	}
	// flock and record locks live in separate spaces.
	if err := m.setRecord(k, posixOwner("p", 5), lockWrite, 0, offsetMax, false); err != nil {
		t.Errorf("record lock vs flock: %v", err)
	}
	m.releaseOwner(nil, "f2")
	if err := m.setFlock(k, f1, lockWrite); err != nil {
		t.Errorf("after release: %v", err)
	}
}

func TestReleaseOwner(t *testing.T) {
	k1, k2 := fileKey{dev: 3, ino: 1}, fileKey{dev: 3, ino: 2}
	m := newLockManager()
	a := posixOwner("a", 1)
	for _, k := range []fileKey{k1, k2} {
		if err := m.setRecord(k, a, lockWrite, 0, 10, false); err != nil {
			t.Fatal(err)
		}
	}
	m.releaseOwner(&k1, "a")
	if len(ranges(m, k1, "a")) != 0 || len(ranges(m, k2, "a")) != 1 {
		t.Errorf("per-file release: k1 %v k2 %v", ranges(m, k1, "a"), ranges(m, k2, "a"))
	}
	if _, ok := m.files[k1]; ok {
		t.Error("empty file entry kept")
	}
	m.releaseOwner(nil, "a")
	if m.hasLocks() {
		t.Error("locks left after releasing everything")
	}
}

func TestLockSpan(t *testing.T) {
	cases := []struct {
		name       string
		f          flockRange
		cur, size  int64
		start, end int64
		err        error
	}{
		{"set to eof", flockRange{whence: unix.SEEK_SET, start: 10}, 0, 0, 10, offsetMax, nil},
		{"set len", flockRange{whence: unix.SEEK_SET, start: 10, len: 5}, 0, 0, 10, 14, nil},
		{"cur", flockRange{whence: unix.SEEK_CUR, start: -2, len: 2}, 100, 0, 98, 99, nil},
		{"end negative len", flockRange{whence: unix.SEEK_END, start: 0, len: -10}, 0, 50, 40, 49, nil},
		{"before start", flockRange{whence: unix.SEEK_SET, start: -1}, 0, 0, 0, 0, unix.EINVAL},
		{"negative len too far", flockRange{whence: unix.SEEK_SET, start: 5, len: -6}, 0, 0, 0, 0, unix.EINVAL},
		{"bad whence", flockRange{whence: 7}, 0, 0, 0, 0, unix.EINVAL},
		{"overflow start", flockRange{whence: unix.SEEK_END, start: offsetMax}, 0, 10, 0, 0, unix.EOVERFLOW},
		{"overflow len", flockRange{whence: unix.SEEK_SET, start: 10, len: offsetMax}, 0, 0, 0, 0, unix.EOVERFLOW},
		{"max len", flockRange{whence: unix.SEEK_SET, start: 0, len: offsetMax}, 0, 0, 0, offsetMax - 1, nil},
	}
	for _, c := range cases {
		s, e, err := lockSpan(c.f, c.cur, c.size)
		if err != c.err || (err == nil && (s != c.start || e != c.end)) {
			t.Errorf("%s: [%d,%d] %v, want [%d,%d] %v", c.name, s, e, err, c.start, c.end, c.err)
		}
	}
}
