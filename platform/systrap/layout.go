package systrap

// This file is the single description of the stub's address-space layout
// and of the shared control page. stub_amd64.S repeats these numbers (it is
// assembled without access to Go); TestStubLayoutMatches checks that the
// two agree by reading the .set lines of the assembly source.

const (
	// stubBase is the lowest address owned by the stub; everything below
	// it belongs to the guest.
	stubBase = 0x7ffe00000000
	// maxUserAddress is the exclusive upper bound of guest addresses.
	maxUserAddress = stubBase
	// taskSize is the host's x86-64 user address-space limit.
	taskSize = 0x7ffffffff000

	// stubCodeMax bounds the stub code; the master unmaps whatever the
	// kernel placed in [stubBase+stubCodeMax, masterRegion).
	stubCodeMax = 0x8000

	// regionSize is the size (and alignment) of a thread region: control
	// page, private stack and signal alternate stack. The stub finds its
	// region by masking its stack pointer, so it needs no TLS.
	regionSize = 0x10000
	// masterRegion is the master stub's own region (masterFDNum).
	masterRegion = stubBase + 0x10000
	// slotBase is the region of slot 0 of an address-space process; slot
	// i is at slotBase + i*regionSize. Slot 0 is the executor thread.
	slotBase = stubBase + 0x20000
	// maxSlots bounds the threads of one stub process.
	maxSlots = 8192

	// Offsets inside a region.
	stackTop    = 0x4000 // private stack: [0x1000, 0x4000)
	altStackLo  = 0x4000 // signal alternate stack: [0x4000, 0x10000)
	altStackLen = regionSize - altStackLo

	// File descriptors of the stub processes.
	stubFDNum = 3 // private memfd holding the regions
	memFDNum  = 4 // backing file 0: the sentry's memory file (guest memory)
	// masterFDNum holds only the master's region; address-space processes
	// close it right after the fork and the seccomp filter never lets
	// mmap use it, so guest code cannot reach the master.
	masterFDNum = 5
	// extraFDNum is backing file 1, when the platform has one (a host
	// file holding the root overlay's data); mmap may use it only then.
	extraFDNum = 6
)

// maxFiles is how many backing files a platform can have; fileFDNum maps
// a backing file's index (platform.Mapping.File) to its descriptor in the
// stubs.
const maxFiles = 2

var fileFDNum = [maxFiles]uintptr{memFDNum, extraFDNum}

// Control page (first page of each region) field offsets.
const (
	cState       = 0x00 // u32 futex word: stateDead/stateCmd/statePosted
	cStubSleep   = 0x04 // u32: the stub is (about to be) in FUTEX_WAIT
	cSentrySleep = 0x08 // u32: the sentry is (about to be) in FUTEX_WAIT
	cFlags       = 0x0c // u32: flagFSGSBase
	cOp          = 0x10 // u64: command
	cResult      = 0x18 // u64: command result
	cArg0        = 0x20
	cArg1        = 0x28
	cArg2        = 0x30
	cNSys        = 0x38 // u64: number of entries in a syscall batch
	cSigno       = 0x40 // u64: signal number (event)
	cInfo        = 0x48 // u64: siginfo address (event)
	cUC          = 0x50 // u64: ucontext address (event)
	cFSBase      = 0x58 // u64: guest FS base, read at the event, set on resume
	cGSBase      = 0x60 // u64: guest GS base
	cTID         = 0x68 // u64: host tid of the thread
	cKind        = 0x70 // u64: kindReply or kindEvent
	cSpin        = 0x78 // u32: the stub's spin budget while it waits (spinPolicy)
	cSyscalls    = 0x100
	sysEntrySize = 64 // nr, a0..a5, result
	maxBatch     = 32
	cBPF         = 0x900 // master only: struct sock_fprog, then the filter
	cBPFInsns    = 0x910
	maxBPFInsns  = (0x1000 - cBPFInsns) / 8
)

// State word values.
const (
	stateDead   = 0 // initial (zeroed) and written by CLONE_CHILD_CLEARTID at exit
	stateCmd    = 1 // the sentry posted a command
	statePosted = 2 // the stub posted an event or a reply
)

// Kinds of posts.
const (
	kindReply = 0
	kindEvent = 1
)

// Commands.
const (
	opSyscalls  = 1 // execute cSyscalls[0:cNSys] in order, stop at the first error
	opResume    = 2 // return from the signal handler into the guest
	opFork      = 3 // master: fork a new stub process, region arg0 at memfd offset arg1
	opNewThread = 4 // map region arg0 from memfd offset arg1 and clone a thread on it
	opExit      = 5 // exit this thread
	opProbe     = 6 // execute ud2 (lets the sentry learn the signal frame layout)
)

const flagFSGSBase = 1
