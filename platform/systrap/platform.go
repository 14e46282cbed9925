package systrap

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

// stubMemSize is the size of the private stub memfd (sparse): room for
// stubMemSize/regionSize thread regions across all stub processes.
const stubMemSize = 4 << 30

// startTimeout bounds how long a live stub may take to answer a setup
// request (new process, new thread) before we give up on it.
const startTimeout = 10 * time.Second

// Platform is the systrap platform. It implements platform.Platform.
type Platform struct {
	files   []int  // backing files: [0] the memory file (guest memory), then extra ones
	stubFD  int    // private memfd holding all stub thread regions
	stubMem []byte // the sentry's mapping of stubFD
	// masterFD holds the master's region only (see masterFDNum).
	masterFD  int
	masterMem []byte
	fsgs      bool // the host allows rdfsbase/wrfsbase in user mode

	master   *proc
	masterMu sync.Mutex // serialises requests to the master
	mctl     ctl

	fp *fpLayout

	spin *spinPolicy // how long round trips spin, for every thread

	mu     sync.Mutex
	free   []int64 // free region offsets in stubFD
	next   int64   // first never-used offset
	spaces map[*addressSpace]struct{}
	closed bool

	spare     *addressSpace // made ahead for the next NewAddressSpace
	refilling bool          // a spare is being made
	handedOut int           // address spaces NewAddressSpace returned
	refillWG  sync.WaitGroup
	closeErr  error
}

var _ platform.Platform = (*Platform)(nil)

// New starts the systrap platform: it creates the stub memfd and the
// master stub process, which every address space process is forked from.
// files are the backing files guest memory is mapped from, by index
// (platform.Mapping.File): files[0] is the sentry's memory file, and there
// may be one more (a host file holding the root overlay's data). They are
// passed to the stubs at fixed descriptors (see fileFDNum). New must run
// while /proc/self/fd is reachable (before the sentry chroots).
func New(files ...int) (*Platform, error) {
	if len(files) < 1 || len(files) > maxFiles {
		return nil, fmt.Errorf("systrap: %d backing files, want 1 to %d", len(files), maxFiles)
	}
	p := &Platform{files: files, stubFD: -1, masterFD: -1, spaces: map[*addressSpace]struct{}{}, spin: newSpinPolicy()}
	if err := p.start(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Platform) start() error {
	if len(stubCode) > stubCodeMax {
		return errors.New("systrap: stub code too large")
	}
	p.fsgs = hasFSGSBase()
	var err error
	if p.stubFD, err = unix.MemfdCreate("systrap-stub", unix.MFD_CLOEXEC); err != nil {
		return fmt.Errorf("systrap: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(p.stubFD, stubMemSize); err != nil {
		return fmt.Errorf("systrap: ftruncate: %w", err)
	}
	p.stubMem, err = unix.Mmap(p.stubFD, 0, stubMemSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		return fmt.Errorf("systrap: mmap stub memory: %w", err)
	}
	if p.masterFD, err = unix.MemfdCreate("systrap-master", unix.MFD_CLOEXEC); err != nil {
		return fmt.Errorf("systrap: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(p.masterFD, regionSize); err != nil {
		return fmt.Errorf("systrap: ftruncate: %w", err)
	}
	p.masterMem, err = unix.Mmap(p.masterFD, 0, regionSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("systrap: mmap master region: %w", err)
	}
	p.mctl = ctl{b: p.masterMem, addr: masterRegion, spin: p.spin}
	if err := p.writeFilter(); err != nil {
		return err
	}
	p.initCtl(p.mctl)
	if err := p.startMaster(); err != nil {
		return err
	}
	return p.probe()
}

// writeFilter puts the seccomp program, and the sock_fprog pointing at it,
// in the master's control page for the master to install.
func (p *Platform) writeFilter() error {
	prog, err := stubFilter(uintptr(len(stubCode)), len(p.files))
	if err != nil {
		return err
	}
	if len(prog)/8 > maxBPFInsns {
		return errors.New("systrap: seccomp filter too long")
	}
	b := p.mctl.b
	le.PutUint16(b[cBPF:], uint16(len(prog)/8))
	le.PutUint64(b[cBPF+8:], masterRegion+cBPFInsns)
	copy(b[cBPFInsns:], prog)
	return nil
}

func (p *Platform) initCtl(c ctl) {
	if p.fsgs {
		*c.p32(cFlags) = flagFSGSBase
	}
}

// startMaster execs the stub ELF from a memfd with the memfds and the
// backing files at fixed descriptor numbers and waits for its first post.
func (p *Platform) startMaster() error {
	efd, err := unix.MemfdCreate("systrap-stub-elf", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("systrap: memfd_create: %w", err)
	}
	// The child's fds 3-6 are assigned before exec, so the ELF's own fd
	// must not be one of them or the exec would run the wrong file.
	if high, err := unix.FcntlInt(uintptr(efd), unix.F_DUPFD_CLOEXEC, 16); err == nil {
		unix.Close(efd)
		efd = high
	}
	defer unix.Close(efd)
	if _, err := unix.Write(efd, stubELF()); err != nil {
		return fmt.Errorf("systrap: writing stub: %w", err)
	}
	none := ^uintptr(0)
	fds := []uintptr{none, none, none, uintptr(p.stubFD), none, uintptr(p.masterFD), none}
	for i, fd := range p.files {
		fds[fileFDNum[i]] = uintptr(fd)
	}
	type forkResult struct {
		pid int
		err error
	}
	ch := make(chan forkResult, 1)
	// PR_SET_PDEATHSIG fires when the forking *thread* exits. Fork from a
	// fresh goroutine: it runs on an unlocked runtime thread, and those
	// live as long as the process, whereas the caller might be locked to
	// a thread that exits with it.
	go func() {
		pid, err := syscall.ForkExec("/proc/self/fd/"+strconv.Itoa(efd), []string{"systrap-stub"},
			&syscall.ProcAttr{
				Env:   []string{},
				Files: fds,
				// Its own process group: a terminal ^C for the sandbox must reach
				// the sentry, never the stubs directly.
				Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true},
			})
		ch <- forkResult{pid, err}
	}()
	r := <-ch
	pid, err := r.pid, r.err
	if err != nil {
		return fmt.Errorf("systrap: starting stub: %w", err)
	}
	if p.master, err = newProc(pid); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
		return fmt.Errorf("systrap: pidfd_open: %w", err)
	}
	if r := p.mctl.waitPost(false, p.master.deadline(startTimeout)); r != waitPosted {
		return p.masterFailed("start")
	}
	return nil
}

// masterFailed reports why the master is unusable, reaping it if dead.
func (p *Platform) masterFailed(what string) error {
	p.master.kill()
	var ws syscall.WaitStatus
	syscall.Wait4(p.master.pid, &ws, 0, nil)
	return fmt.Errorf("systrap: stub master failed during %s (status %#x)", what, uint32(ws))
}

// deadline returns a waitPost check that stops when the process dies or
// after d.
func (pr *proc) deadline(d time.Duration) func() bool {
	end := time.Now().Add(d)
	return func() bool { return pr.alive() && time.Now().Before(end) }
}

// probe makes the master trap once so that we learn the host's signal
// frame and FP state layout from a real frame, and checks that the whole
// event path (handler, frame validation, resume) works.
func (p *Platform) probe() error {
	c := p.mctl
	c.command(opProbe)
	if c.waitPost(false, p.master.deadline(startTimeout)) != waitPosted || c.load(cKind) != kindEvent {
		return p.masterFailed("probe")
	}
	f, ok := c.readFrame(nil)
	if !ok || c.rip(f) != stubBase+stubProbeOff {
		return p.masterFailed("probe frame")
	}
	fp, err := c.learnFP(f)
	if err != nil {
		p.masterFailed("probe")
		return err
	}
	p.fp = fp
	c.setRIP(f, stubBase+stubProbeOff+2) // skip the ud2
	c.command(opResume)
	if c.waitPost(false, p.master.deadline(startTimeout)) != waitPosted || c.load(cKind) != kindReply {
		return p.masterFailed("probe resume")
	}
	return nil
}

// hasFSGSBase reports HWCAP2_FSGSBASE from the auxiliary vector.
func hasFSGSBase() bool {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return false
	}
	for i := 0; i+16 <= len(b); i += 16 {
		if le.Uint64(b[i:]) == 26 /* AT_HWCAP2 */ {
			return le.Uint64(b[i+8:])&2 != 0
		}
	}
	return false
}

// allocRegion returns the stubFD offset of a zeroed thread region.
func (p *Platform) allocRegion() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		off := p.free[n-1]
		p.free = p.free[:n-1]
		return off, nil
	}
	if p.next+regionSize > stubMemSize {
		return 0, errors.New("systrap: out of stub regions")
	}
	off := p.next
	p.next += regionSize
	return off, nil
}

// freeRegion returns a region no stub process maps any more. Punching a
// hole both frees its memory and zeroes it for the next user.
func (p *Platform) freeRegion(off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stubFD < 0 {
		// Closed: the descriptor number may belong to another file now.
		return
	}
	unix.Fallocate(p.stubFD, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, regionSize)
	p.free = append(p.free, off)
}

func (p *Platform) regionCtl(off int64, addr uintptr) ctl {
	return ctl{b: p.stubMem[off : off+regionSize : off+regionSize], addr: addr, spin: p.spin}
}

// MaxUserAddress implements platform.Platform.
func (p *Platform) MaxUserAddress() uintptr { return maxUserAddress }

// FPStateSize is the size of the FP state in State.FP: the fpstate area of
// a host signal frame, which guest signal frames reproduce.
func (p *Platform) FPStateSize() int { return p.fp.size }

// InitialFPState returns a copy of the initial FP state (what a nil
// State.FP stands for).
func (p *Platform) InitialFPState() []byte { return append([]byte(nil), p.fp.initial...) }

// MasterPID returns the host pid of the master stub process (for tests and
// diagnostics).
func (p *Platform) MasterPID() int { return p.master.pid }

// NewContext implements platform.Platform.
func (p *Platform) NewContext() (platform.Context, error) {
	return &context{p: p, threads: map[*addressSpace]*thread{}}, nil
}

// Close implements platform.Platform: it destroys every address space and
// the master. Stub processes are gone when it returns.
func (p *Platform) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return p.closeErr
	}
	p.closed = true
	p.spare = nil // in spaces: released below
	p.mu.Unlock()
	// A spare being made ends up in spaces, or released.
	p.refillWG.Wait()
	p.mu.Lock()
	spaces := make([]*addressSpace, 0, len(p.spaces))
	for as := range p.spaces {
		spaces = append(spaces, as)
	}
	p.mu.Unlock()
	for _, as := range spaces {
		as.Release()
	}
	if p.master != nil {
		p.master.kill()
		var ws syscall.WaitStatus
		syscall.Wait4(p.master.pid, &ws, 0, nil)
		p.master.close()
	}
	if p.stubMem != nil {
		unix.Munmap(p.stubMem)
		p.stubMem = nil
	}
	if p.masterMem != nil {
		unix.Munmap(p.masterMem)
		p.masterMem = nil
	}
	p.mu.Lock()
	for _, fd := range []int{p.stubFD, p.masterFD} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	p.stubFD, p.masterFD = -1, -1
	p.mu.Unlock()
	return nil
}
