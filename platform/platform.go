// Package platform defines how the sentry runs guest code: address spaces
// into which guest memory is mapped from the sentry's backing files (the
// memory file, and optionally a host file holding one file system's data),
// and
// contexts that run a guest thread until it makes a system call, faults, or
// is interrupted. The kernel depends only on this package; implementations
// live in subpackages (systrap, kvm).
package platform

import "errors"

// Access is a set of memory access permissions or the type of a faulting
// access.
type Access struct {
	Read, Write, Execute bool
}

// Common access sets.
var (
	NoAccess  = Access{}
	Read      = Access{Read: true}
	ReadWrite = Access{Read: true, Write: true}
	ReadExec  = Access{Read: true, Execute: true}
	AnyAccess = Access{Read: true, Write: true, Execute: true}
)

// Any reports whether any permission is set.
func (a Access) Any() bool { return a.Read || a.Write || a.Execute }

// Registers is the x86-64 user register state of a guest thread, in the
// field order of Linux's struct user_regs_struct.
type Registers struct {
	R15, R14, R13, R12, Rbp, Rbx, R11, R10, R9, R8 uint64
	Rax, Rcx, Rdx, Rsi, Rdi, OrigRax               uint64
	Rip, Cs, Eflags, Rsp, Ss                       uint64
	FsBase, GsBase                                 uint64
	Ds, Es, Fs, Gs                                 uint64
}

// State is the complete user state of a guest thread.
type State struct {
	Regs Registers
	// FP is the FPU/vector state in the layout Linux writes into a signal
	// frame (an XSAVE area whose fxsave sw_reserved bytes carry
	// FP_XSTATE_MAGIC1 and the sizes, followed by FP_XSTATE_MAGIC2). A nil
	// FP means "the initial state": the platform fills it in on return
	// from Switch.
	FP []byte
}

// EventKind says why Context.Switch returned.
type EventKind int

const (
	// EventSyscall: the guest executed a syscall instruction. Regs.Rax and
	// Regs.OrigRax hold the syscall number, Rip points after the
	// instruction; the kernel puts the result in Rax and switches back.
	EventSyscall EventKind = iota + 1
	// EventFault: a memory access fault (SIGSEGV/SIGBUS). Addr is the
	// faulting address, Access the kind of access that faulted. Rip still
	// points at the faulting instruction.
	EventFault
	// EventSignal: the guest raised a synchronous signal that is not a
	// memory fault (SIGILL, SIGFPE, SIGTRAP, ...). Signo, Code and Addr
	// are from the host siginfo.
	EventSignal
	// EventInterrupted: Interrupt was called.
	EventInterrupted
)

func (k EventKind) String() string {
	switch k {
	case EventSyscall:
		return "syscall"
	case EventFault:
		return "fault"
	case EventSignal:
		return "signal"
	case EventInterrupted:
		return "interrupted"
	}
	return "unknown"
}

// Event describes why Switch returned.
type Event struct {
	Kind   EventKind
	Signo  int32   // host signal number for EventFault and EventSignal
	Code   int32   // si_code
	Addr   uintptr // fault address (si_addr)
	Access Access  // for EventFault: the access that faulted
	// Trapno and ErrorCode are from the host signal frame (for
	// EventFault/EventSignal), so the kernel can build a faithful guest
	// signal frame.
	Trapno, ErrorCode uint64
}

// ErrAddressSpaceGone is returned by Switch when the address space's host
// process died underneath it (killed from outside, OOM). The kernel treats
// it as a fatal SIGKILL for the guest process.
var ErrAddressSpaceGone = errors.New("platform: address space process died")

// Platform creates address spaces and contexts.
type Platform interface {
	// NewAddressSpace makes an empty guest address space.
	NewAddressSpace() (AddressSpace, error)
	// NewContext makes a context: the ability to run one guest thread.
	NewContext() (Context, error)
	// MaxUserAddress is the exclusive upper bound of guest addresses; the
	// platform may reserve the range above it for itself.
	MaxUserAddress() uintptr
	// Close releases every resource of the platform.
	Close() error
}

// AddressSpace is a guest address space. Its methods may be called from any
// goroutine but not concurrently with each other for overlapping ranges;
// the kernel's memory manager serialises them.
type AddressSpace interface {
	// MapFile maps [offset, offset+length) of the memory file (backing
	// file 0) at addr with the given permissions (MAP_SHARED|MAP_FIXED
	// semantics). addr, length and offset are page aligned.
	MapFile(addr, length uintptr, offset int64, perm Access) error
	// MapFiles maps each Mapping, from any of the platform's backing
	// files, at the cost of about one MapFile (the memory manager maps a
	// fault's neighbours with it). It stops at the first error; a
	// Mapping's File outside the platform's files is EINVAL.
	MapFiles(ms []Mapping) error
	// Unmap removes any mapping in [addr, addr+length).
	Unmap(addr, length uintptr) error
	// Protect lowers the permissions of the mappings in [addr,
	// addr+length), all of which must exist, to perm, which may not
	// include Write: copy-on-write takes write access away, never gives
	// it.
	Protect(addr, length uintptr, perm Access) error
	// Release destroys the address space. Contexts still bound to it
	// return ErrAddressSpaceGone from Switch.
	Release()
}

// Range is a page-aligned range of guest addresses.
type Range struct {
	Addr, Length uintptr
}

// Mapping maps [Offset, Offset+Length) of backing file File at Addr.
type Mapping struct {
	Addr, Length uintptr
	Offset       int64
	Perm         Access
	// File is the index of the backing file among those the platform
	// was created with; 0, the zero value, is the memory file.
	File int
}

// LocalMapper is implemented by contexts that can change an address space's
// mappings through their own thread in it while that thread is stopped
// between two Switch calls. That thread has just reported an event and is
// still awake, so a page fault is resolved without waking anything else.
type LocalMapper interface {
	// MapFilesLocal does as.MapFiles(ms) through the context's thread in
	// as (falling back to as.MapFiles when it has none).
	MapFilesLocal(as AddressSpace, ms []Mapping) error
	// UnmapLocal does as.Unmap(addr, length) the same way.
	UnmapLocal(as AddressSpace, addr, length uintptr) error
	// ProtectLocal does as.Protect for several ranges the same way.
	ProtectLocal(as AddressSpace, rs []Range, perm Access) error
}

// Context runs one guest thread at a time.
type Context interface {
	// Switch runs the guest with state st in address space as until an
	// event happens; st is updated in place with the guest's new state.
	Switch(as AddressSpace, st *State) (Event, error)
	// Interrupt makes a running Switch return EventInterrupted promptly; if
	// no Switch is running, the next one returns EventInterrupted at once.
	// Safe to call from any goroutine.
	Interrupt()
	// Release frees the context's host resources.
	Release()
}
