package kernel

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

func TestSigInfoChildLayout(t *testing.T) {
	// A clone(2) child may exit with any signal; its notification keeps
	// the SIGCHLD layout (pid, uid, status at 24).
	for _, sig := range []int32{int32(unix.SIGCHLD), int32(unix.SIGUSR1), linux.SIGRTMIN + 2} {
		si := &SigInfo{Signo: sig, Code: linux.CLD_EXITED, Child: true, PID: 12, UID: 34, Status: 5}
		b := si.Bytes()
		le := binary.LittleEndian
		if pid, uid, st := le.Uint32(b[16:]), le.Uint32(b[20:]), le.Uint32(b[24:]); pid != 12 || uid != 34 || st != 5 {
			t.Errorf("signal %d: pid %d uid %d status %d, want 12 34 5", sig, pid, uid, st)
		}
	}
}

func TestSigQueue(t *testing.T) {
	var q sigQueue
	usr1 := int32(unix.SIGUSR1)
	rt := int32(linux.SIGRTMIN)
	if !q.enqueue(&SigInfo{Signo: usr1, Value: 1}) || q.enqueue(&SigInfo{Signo: usr1, Value: 2}) {
		t.Fatal("a standard signal must be queued once")
	}
	for v := uint64(1); v <= 3; v++ {
		if !q.enqueue(&SigInfo{Signo: rt, Value: v}) {
			t.Fatalf("real-time instance %d not queued", v)
		}
	}
	// Lowest number first, then the real-time instances in order.
	want := []struct {
		sig int32
		val uint64
	}{{usr1, 1}, {rt, 1}, {rt, 2}, {rt, 3}}
	for _, w := range want {
		si := q.dequeue(0)
		if si == nil || si.Signo != w.sig || si.Value != w.val {
			t.Fatalf("dequeue = %+v, want signal %d value %d", si, w.sig, w.val)
		}
	}
	if si := q.dequeue(0); si != nil || q.set != 0 {
		t.Fatalf("queue not empty: %+v, set %#x", si, q.set)
	}
}

func TestSigQueueMask(t *testing.T) {
	var q sigQueue
	q.enqueue(&SigInfo{Signo: int32(unix.SIGUSR1)})
	q.enqueue(&SigInfo{Signo: int32(unix.SIGUSR2)})
	if si := q.dequeue(SigBit(int32(unix.SIGUSR1))); si == nil || si.Signo != int32(unix.SIGUSR2) {
		t.Fatalf("dequeue with SIGUSR1 masked = %+v, want SIGUSR2", si)
	}
	if si := q.dequeue(SigBit(int32(unix.SIGUSR1))); si != nil {
		t.Fatalf("dequeue = %+v, want nothing deliverable", si)
	}
}
