package poll

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// eventfdMax is the largest value an eventfd counter may hold.
const eventfdMax = ^uint64(0) - 1

// EventFD is the implementation of an eventfd(2) file: a 64-bit counter.
// Reads and writes never block; they return EAGAIN and the caller waits on
// the file's readiness.
type EventFD struct {
	noSeek
	mu        sync.Mutex
	val       uint64
	semaphore bool
	queue     waiter.Queue
}

// NewEventFD returns an eventfd implementation with the initial value.
func NewEventFD(initval uint64, semaphore bool) *EventFD {
	return &EventFD{val: initval, semaphore: semaphore}
}

// Release implements vfs.FileImpl.
func (e *EventFD) Release(vfs.Context) {}

// Value returns the current counter (for fdinfo and tests).
func (e *EventFD) Value() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.val
}

// Read implements vfs.StreamFile: it returns the counter (or 1 in semaphore
// mode) as 8 bytes and decrements it.
func (e *EventFD) Read(_ vfs.Context, dst []byte) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	e.mu.Lock()
	if e.val == 0 {
		e.mu.Unlock()
		return 0, unix.EAGAIN
	}
	var v uint64
	if e.semaphore {
		v = 1
	} else {
		v = e.val
	}
	e.val -= v
	e.mu.Unlock()
	binary.LittleEndian.PutUint64(dst, v)
	e.queue.Notify(waiter.EventOut | waiter.EventWrNorm)
	return 8, nil
}

// Write implements vfs.StreamFile: it adds an 8-byte value to the counter,
// or returns EAGAIN if the counter would exceed 2^64-2. Like Linux (since
// 6.x), a write of any other length is EINVAL.
func (e *EventFD) Write(_ vfs.Context, src []byte) (int, error) {
	if len(src) != 8 {
		return 0, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, unix.EINVAL
	}
	e.mu.Lock()
	if v > eventfdMax-e.val {
		e.mu.Unlock()
		return 0, unix.EAGAIN
	}
	e.val += v
	e.mu.Unlock()
	e.queue.Notify(waiter.EventIn | waiter.EventRdNorm)
	return 8, nil
}

// Signal adds v to the counter without blocking (kernel-internal users).
func (e *EventFD) Signal(v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	_, err := e.Write(nil, b[:])
	return err
}

// Readiness implements vfs.Waitable.
func (e *EventFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	e.mu.Lock()
	v := e.val
	e.mu.Unlock()
	var r waiter.EventMask
	if v > 0 {
		r |= waiter.EventIn | waiter.EventRdNorm
	}
	if v < eventfdMax {
		r |= waiter.EventOut | waiter.EventWrNorm
	}
	return r & mask
}

// EventRegister implements vfs.Waitable.
func (e *EventFD) EventRegister(w *waiter.Entry) { e.queue.Register(w) }

// EventUnregister implements vfs.Waitable.
func (e *EventFD) EventUnregister(w *waiter.Entry) { e.queue.Unregister(w) }

// FDInfo returns the /proc/PID/fdinfo lines specific to eventfds (Linux
// adds an eventfd-id, a number of no meaning outside the kernel).
func (e *EventFD) FDInfo() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	sem := 0
	if e.semaphore {
		sem = 1
	}
	return fmt.Sprintf("eventfd-count: %16x\neventfd-semaphore: %d\n", e.val, sem)
}

// eventfd flags.
const (
	efdSemaphore = unix.EFD_SEMAPHORE
	efdCloexec   = unix.O_CLOEXEC
	efdNonblock  = unix.O_NONBLOCK
)

// NewEventFDFile creates an eventfd file (eventfd2(2) flags; EFD_CLOEXEC is
// for the caller).
func NewEventFDFile(v *vfs.VFS, ctx vfs.Context, initval uint64, flags uint32) (*vfs.File, error) {
	if flags&^uint32(efdSemaphore|efdCloexec|efdNonblock) != 0 {
		return nil, unix.EINVAL
	}
	impl := NewEventFD(initval, flags&efdSemaphore != 0)
	return newAnonFile(v, ctx, "eventfd", impl, unix.O_RDWR|flags&efdNonblock), nil
}
