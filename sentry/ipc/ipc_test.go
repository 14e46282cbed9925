package ipc

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var root = &Creds{Caps: ^uint64(0)}

// noBlock fails every wait, as a pending signal would.
func noBlock(<-chan struct{}, time.Time) error { return errors.New("interrupted") }

func TestSemOpAtomicAndUndo(t *testing.T) {
	ns := NewNamespace()
	id, err := ns.SemGet(root, IPCPrivate, 2, IPCCreat|0o600)
	if err != nil {
		t.Fatal(err)
	}
	val := func(n int32) int64 {
		v, _, err := ns.SemCtl(root, id, n, SemGetVal, SemCtlArgs{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The second operation would block: nothing happens.
	if err := ns.SemOp(root, 10, id, []SemBuf{{0, 1, 0}, {1, -1, IPCNoWait}}, time.Time{}, noBlock); err != unix.EAGAIN {
		t.Fatalf("SemOp = %v, want EAGAIN", err)
	}
	if val(0) != 0 {
		t.Fatalf("partial operation applied: %d", val(0))
	}
	if err := ns.SemOp(root, 10, id, []SemBuf{{0, 3, SemUndo}, {1, 2, 0}}, time.Time{}, noBlock); err != nil {
		t.Fatal(err)
	}
	// A waiter interrupted by a signal gets EINTR.
	if err := ns.SemOp(root, 11, id, []SemBuf{{0, -5, 0}}, time.Time{}, noBlock); err != unix.EINTR {
		t.Fatalf("blocked SemOp = %v, want EINTR", err)
	}
	ns.ProcessExited(10)
	if val(0) != 0 || val(1) != 2 {
		t.Errorf("after exit: %d %d, want 0 2", val(0), val(1))
	}
	if _, _, err := ns.SemCtl(root, id, 0, IPCRmid, SemCtlArgs{}); err != nil {
		t.Fatal(err)
	}
	if err := ns.SemOp(root, 10, id, []SemBuf{{0, 1, 0}}, time.Time{}, noBlock); err != unix.EINVAL {
		t.Errorf("SemOp on a removed set = %v, want EINVAL", err)
	}
}

func TestSemBlockWokenByPost(t *testing.T) {
	ns := NewNamespace()
	id, _ := ns.SemGet(root, IPCPrivate, 1, IPCCreat|0o600)
	done := make(chan error)
	go func() {
		done <- ns.SemOp(root, 1, id, []SemBuf{{0, -1, 0}}, time.Time{}, func(ch <-chan struct{}, _ time.Time) error {
			<-ch
			return nil
		})
	}()
	for {
		n, _, _ := ns.SemCtl(root, id, 0, SemGetNCnt, SemCtlArgs{})
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := ns.SemOp(root, 2, id, []SemBuf{{0, 1, 0}}, time.Time{}, noBlock); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("woken SemOp = %v", err)
	}
}

func TestMsgPick(t *testing.T) {
	q := &msgQueue{msgs: []Message{{Type: 7}, {Type: 4}, {Type: 2}, {Type: 9}, {Type: 4}}}
	for _, tc := range []struct {
		typ    int64
		except bool
		want   int
	}{
		{0, false, 0},
		{4, false, 1},
		{5, false, -1},
		{-5, false, 2},
		{-1, false, -1},
		{-100, false, 2},
		{7, true, 1},
	} {
		if got := q.pick(tc.typ, tc.except); got != tc.want {
			t.Errorf("pick(%d, %v) = %d, want %d", tc.typ, tc.except, got, tc.want)
		}
	}
}

func TestPermissions(t *testing.T) {
	ns := NewNamespace()
	owner := &Creds{UID: 1000, GID: 1000}
	id, err := ns.MsgGet(owner, 42, IPCCreat|0o640)
	if err != nil {
		t.Fatal(err)
	}
	group := &Creds{UID: 2000, GID: 3000, Groups: []uint32{1000}}
	other := &Creds{UID: 2000, GID: 2000}
	for _, tc := range []struct {
		c    *Creds
		flag int32
		want error
	}{
		{owner, 0o600, nil},
		{group, 0o400, nil},
		{group, 0o200, unix.EACCES},
		{other, 0o400, unix.EACCES},
		{other, 0, nil},
		{&Creds{UID: 2000, Caps: 1 << capIPCOwner}, 0o600, nil},
	} {
		if _, err := ns.MsgGet(tc.c, 42, tc.flag); err != tc.want {
			t.Errorf("MsgGet by %+v with %o = %v, want %v", tc.c, tc.flag, err, tc.want)
		}
	}
	if _, _, _, err := ns.MsgCtl(group, id, IPCRmid, nil); err != unix.EPERM {
		t.Errorf("IPC_RMID by a non-owner = %v, want EPERM", err)
	}
}
