package ipc

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var root = &Creds{Caps: ^uint64(0)}

// noBlock fails every wait, as a pending signal would.
func noBlock(<-chan struct{}) error { return errors.New("interrupted") }

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
	if err := ns.SemOp(root, 10, id, []SemBuf{{0, 1, 0}, {1, -1, IPCNoWait}}, noBlock); err != unix.EAGAIN {
		t.Fatalf("SemOp = %v, want EAGAIN", err)
	}
	if val(0) != 0 {
		t.Fatalf("partial operation applied: %d", val(0))
	}
	if err := ns.SemOp(root, 10, id, []SemBuf{{0, 3, SemUndo}, {1, 2, 0}}, noBlock); err != nil {
		t.Fatal(err)
	}
	// A waiter interrupted by a signal gets EINTR.
	if err := ns.SemOp(root, 11, id, []SemBuf{{0, -5, 0}}, noBlock); err != unix.EINTR {
		t.Fatalf("blocked SemOp = %v, want EINTR", err)
	}
	ns.ProcessExited(10)
	if val(0) != 0 || val(1) != 2 {
		t.Errorf("after exit: %d %d, want 0 2", val(0), val(1))
	}
	if _, _, err := ns.SemCtl(root, id, 0, IPCRmid, SemCtlArgs{}); err != nil {
		t.Fatal(err)
	}
	if err := ns.SemOp(root, 10, id, []SemBuf{{0, 1, 0}}, noBlock); err != unix.EINVAL {
		t.Errorf("SemOp on a removed set = %v, want EINVAL", err)
	}
}

func TestSemBlockWokenByPost(t *testing.T) {
	ns := NewNamespace()
	id, _ := ns.SemGet(root, IPCPrivate, 1, IPCCreat|0o600)
	done := make(chan error)
	go func() {
		done <- ns.SemOp(root, 1, id, []SemBuf{{0, -1, 0}}, func(ch <-chan struct{}) error {
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
	if err := ns.SemOp(root, 2, id, []SemBuf{{0, 1, 0}}, noBlock); err != nil {
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

func TestMQueue(t *testing.T) {
	ns := NewNamespace()
	q, err := ns.MQOpen(root, "q", true, true, 0o600, &MQAttr{MaxMsg: 3, MsgSize: 4}, true, true, false, 819200)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.MQOpen(root, "q", true, true, 0o600, nil, true, true, false, 819200); err != unix.EEXIST {
		t.Errorf("second exclusive create: %v, want EEXIST", err)
	}
	var fired []MQSender
	if err := q.SetNotify(7, &MQNotification{TGID: 7, Signo: 10, Fire: func(s MQSender) { fired = append(fired, s) }}); err != nil {
		t.Fatal(err)
	}
	if err := q.SetNotify(8, &MQNotification{TGID: 8}); err != unix.EBUSY {
		t.Errorf("second registration: %v, want EBUSY", err)
	}
	send := func(s string, prio uint32) error {
		return q.Send([]byte(s), prio, true, noBlock, MQSender{TGID: 5, UID: 1})
	}
	for _, m := range []struct {
		s    string
		prio uint32
	}{{"a", 1}, {"b", 3}, {"c", 1}} {
		if err := send(m.s, m.prio); err != nil {
			t.Fatal(err)
		}
	}
	if err := send("d", 0); err != unix.EAGAIN {
		t.Errorf("send to a full queue: %v, want EAGAIN", err)
	}
	if err := q.Send([]byte("toolong"), 0, true, noBlock, MQSender{}); err != unix.EMSGSIZE {
		t.Errorf("long message: %v, want EMSGSIZE", err)
	}
	if len(fired) != 1 || fired[0].TGID != 5 {
		t.Errorf("notifications %v, want one from TGID 5", fired)
	}
	if _, _, err := q.Receive(3, true, noBlock); err != unix.EMSGSIZE {
		t.Errorf("short receive buffer: %v, want EMSGSIZE", err)
	}
	var got string
	for range 3 {
		d, _, err := q.Receive(4, true, noBlock)
		if err != nil {
			t.Fatal(err)
		}
		got += string(d)
	}
	if got != "bac" {
		t.Errorf("received %q, want priority then arrival order %q", got, "bac")
	}
	if err := ns.MQUnlink(&Creds{UID: 9}, "q"); err != unix.EACCES {
		t.Errorf("unlink by another user: %v, want EACCES", err)
	}
	if err := ns.MQUnlink(root, "q"); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.MQOpen(root, "q", false, false, 0, nil, true, false, false, 819200); err != unix.ENOENT {
		t.Errorf("open after unlink: %v, want ENOENT", err)
	}
}

// Queues are charged to their creator until unlinked and closed.
func TestMQueueCharge(t *testing.T) {
	ns := NewNamespace()
	const limit = 819200
	open := func(name string) (*MQueue, error) {
		return ns.MQOpen(root, name, true, true, 0o600, nil, true, true, false, limit)
	}
	var qs []*MQueue
	for i := 0; ; i++ {
		q, err := open(string(rune('a' + i)))
		if err != nil {
			if err != unix.EMFILE {
				t.Fatalf("open %d: %v, want EMFILE", i, err)
			}
			break
		}
		qs = append(qs, q)
	}
	// 10 messages of 8192 bytes and 96 bytes of bookkeeping each, as Linux.
	if len(qs) != 9 {
		t.Fatalf("opened %d default queues within %d bytes, want 9", len(qs), limit)
	}
	if err := ns.MQUnlink(root, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := open("z"); err != unix.EMFILE {
		t.Errorf("open with an unlinked but open queue: %v, want EMFILE", err)
	}
	ns.MQClose(qs[0])
	if _, err := open("z"); err != nil {
		t.Errorf("open after unlink and close: %v", err)
	}
}

// Identifiers are allocated like Linux's: indices cyclically from 0, the
// sequence number (id / 32768) going up when they wrap.
func TestIdentifiers(t *testing.T) {
	ns := NewNamespace()
	get := func() int32 {
		id, err := ns.SemGet(root, IPCPrivate, 1, IPCCreat|0o600)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for want := int32(0); want < 3; want++ {
		if id := get(); id != want {
			t.Fatalf("id %d, want %d", id, want)
		}
	}
	if _, _, err := ns.SemCtl(root, 1, 0, IPCRmid, SemCtlArgs{}); err != nil {
		t.Fatal(err)
	}
	if id := get(); id != 3 {
		t.Errorf("after a removal: id %d, want the next index 3", id)
	}
	ns.sems.lastIdx = seqMultiplier - 1
	if id := get(); id != seqMultiplier+1 {
		t.Errorf("after wrapping: id %d, want index 1 (free again) with sequence 1", id)
	}
}
