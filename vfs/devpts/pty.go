package devpts

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/jobctl"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// maxOutput bounds the replica output the master has not read yet (the tty
// layer's 64 KiB flip buffer limit).
const maxOutput = 64 << 10

// pty is one pseudo-terminal pair.
type pty struct {
	fs    *Filesystem
	index uint32
	inode *replicaInode
	tty   jobctl.TTY // job control of the replica

	mu            sync.Mutex
	ld            *ldisc
	out           []byte // replica output not yet read by the master
	winsize       [sizeofWinsize]byte
	locked        bool
	pkt           bool // TIOCPKT
	pktStatus     byte // TIOCPKT_* events the master has not read yet
	excl          bool // TIOCEXCL
	masterOpen    bool
	replicas      int  // open replica files
	replicaOpened bool // a replica was ever opened
	hungup        bool
	lastInput     time.Time

	masterQ  waiter.Queue
	replicaQ waiter.Queue
}

func newPty(fs *Filesystem, idx uint32) *pty {
	p := &pty{fs: fs, index: idx, ld: newLdisc(), locked: true, masterOpen: true}
	p.tty.Open = func(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
		return p.openReplica(ctx, flags, false)
	}
	return p
}

// replicaClosedLocked reports whether every replica file was closed (after
// one was opened): master reads then fail with EIO.
func (p *pty) replicaClosedLocked() bool { return p.replicaOpened && p.replicas == 0 }

// openReplica opens a new replica file. acquire makes it the caller's
// controlling terminal when the caller is a session leader without one.
func (p *pty) openReplica(ctx vfs.Context, flags uint32, acquire bool) (vfs.FileImpl, error) {
	p.mu.Lock()
	if p.locked || p.hungup || !p.masterOpen {
		p.mu.Unlock()
		return nil, unix.EIO
	}
	if p.excl && !ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		p.mu.Unlock()
		return nil, unix.EBUSY
	}
	p.replicas++
	p.replicaOpened = true
	p.mu.Unlock()
	r := &replicaFile{p: p, readable: flags&unix.O_ACCMODE != unix.O_WRONLY}
	r.nonblock.Store(flags&unix.O_NONBLOCK != 0)
	if acquire {
		jobctl.AcquireOnOpen(ctx, &p.tty, flags)
	}
	return r, nil
}

// masterFile is the master side (an open /dev/ptmx).
type masterFile struct {
	vfs.StreamFileBase
	p     *pty
	mount *vfs.Mount // where /dev/ptmx was opened (TIOCGPTPEER)
	once  sync.Once
}

func newMaster(p *pty, m *vfs.Mount, flags uint32) *masterFile {
	return &masterFile{p: p, mount: m}
}

// Release implements vfs.FileImpl: the replica hangs up.
func (m *masterFile) Release(vfs.Context) {
	m.once.Do(func() {
		p := m.p
		p.mu.Lock()
		p.masterOpen = false
		p.hungup = true
		p.ld.flushInput()
		free := p.replicas == 0
		p.mu.Unlock()
		p.fs.hide(p)
		p.tty.Hangup()
		p.replicaQ.Notify(waiter.AllEvents)
		if free {
			p.fs.free(p)
		}
	})
}

// Read implements vfs.StreamFile: replica output; EIO once every replica
// file is closed and the output is drained.
func (m *masterFile) Read(_ vfs.Context, dst []byte) (int, error) {
	p := m.p
	if len(dst) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	if p.pkt && p.pktStatus != 0 {
		// Packet mode: a pending status event is read alone.
		dst[0] = p.pktStatus
		p.pktStatus = 0
		p.mu.Unlock()
		return 1, nil
	}
	if len(p.out) == 0 {
		closed := p.replicaClosedLocked()
		p.mu.Unlock()
		if closed {
			return 0, unix.EIO
		}
		return 0, unix.EAGAIN
	}
	var n int
	if p.pkt {
		dst[0] = 0 // TIOCPKT_DATA
		n = 1 + copy(dst[1:], p.out)
		p.out = p.out[:copy(p.out, p.out[n-1:])]
	} else {
		n = copy(dst, p.out)
		p.out = p.out[:copy(p.out, p.out[n:])]
	}
	p.mu.Unlock()
	p.replicaQ.Notify(waiter.WritableEvents)
	return n, nil
}

// Write implements vfs.StreamFile: input for the replica, through the line
// discipline.
func (m *masterFile) Write(_ vfs.Context, src []byte) (int, error) {
	return m.p.input(src)
}

// input feeds src to the line discipline (master writes, TIOCSTI).
func (p *pty) input(src []byte) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	var sigs []int32
	var echo []byte
	n := 0
	wasStopped := p.ld.stopped
	for n < len(src) && p.ld.inputRoom() {
		echo = echo[:0]
		r := p.ld.receive(src[n], &echo)
		n++
		if r.sig != 0 {
			sigs = append(sigs, r.sig)
		}
		if r.flush {
			p.out = p.out[:0]
		}
		p.out = append(p.out, echo...)
	}
	if n > 0 {
		p.lastInput = time.Now()
	}
	stopChange := wasStopped != p.ld.stopped
	if stopChange {
		p.stopEventLocked()
	}
	p.mu.Unlock()
	for _, s := range sigs {
		p.tty.SignalForeground(s)
	}
	if n == 0 {
		return 0, unix.EAGAIN
	}
	p.replicaQ.Notify(waiter.ReadableEvents)
	if stopChange {
		p.replicaQ.Notify(waiter.WritableEvents)
	}
	p.masterQ.Notify(waiter.ReadableEvents)
	return n, nil
}

// Readiness implements vfs.Waitable.
func (m *masterFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	p := m.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var r waiter.EventMask
	if len(p.out) > 0 || (p.pkt && p.pktStatus != 0) {
		r |= waiter.ReadableEvents
	}
	if p.replicaClosedLocked() {
		r |= waiter.EventHUp
	}
	if p.ld.inputRoom() {
		r |= waiter.WritableEvents
	}
	return r & (mask | waiter.EventHUp | waiter.EventErr)
}

// EventRegister implements vfs.Waitable.
func (m *masterFile) EventRegister(e *waiter.Entry) { m.p.masterQ.Register(e) }

// EventUnregister implements vfs.Waitable.
func (m *masterFile) EventUnregister(e *waiter.Entry) { m.p.masterQ.Unregister(e) }

// Ioctl implements vfs.Ioctler.
func (m *masterFile) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	p := m.p
	switch cmd {
	case unix.TIOCGPTN:
		return 0, putInt(ctx, arg, int32(p.index))
	case unix.TIOCSPTLCK:
		v, err := getInt(ctx, arg)
		if err != nil {
			return 0, err
		}
		p.mu.Lock()
		p.locked = v != 0
		p.mu.Unlock()
		return 0, nil
	case unix.TIOCGPTLCK:
		p.mu.Lock()
		l := p.locked
		p.mu.Unlock()
		return 0, putInt(ctx, arg, boolInt(l))
	case unix.TIOCPKT:
		v, err := getInt(ctx, arg)
		if err != nil {
			return 0, err
		}
		p.mu.Lock()
		if v != 0 && !p.pkt {
			p.pktStatus = 0
		}
		p.pkt = v != 0
		p.mu.Unlock()
		return 0, nil
	case unix.TIOCGPKT:
		p.mu.Lock()
		pk := p.pkt
		p.mu.Unlock()
		return 0, putInt(ctx, arg, boolInt(pk))
	case unix.TIOCGPTPEER:
		return m.openPeer(ctx, uint32(arg))
	case unix.TIOCNOTTY:
		return 0, unix.ENOTTY // a master is never a controlling terminal
	case fionread:
		p.mu.Lock()
		n := len(p.out)
		p.mu.Unlock()
		return 0, putInt(ctx, arg, int32(n))
	case unix.TCFLSH:
		return 0, p.flush(ctx, arg, true)
	}
	return p.ioctl(ctx, false, true, cmd, arg)
}

// openPeer implements TIOCGPTPEER: a replica file for this master, opened
// through the devpts mount of the master's mount namespace.
func (m *masterFile) openPeer(ctx vfs.Context, flags uint32) (uintptr, error) {
	proc, ok := ctx.(jobctl.Process)
	if !ok || m.mount == nil {
		return 0, unix.EINVAL
	}
	if flags&^(unix.O_ACCMODE|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC|linux.O_LARGEFILE) != 0 {
		return 0, unix.EINVAL
	}
	p := m.p
	var loc vfs.Location
	for _, mnt := range p.fs.v.Mounts(m.mount.Namespace()) {
		if mnt.Filesystem().Impl() == p.fs {
			root := vfs.Location{Mount: mnt, Dentry: mnt.Root()}
			l, err := p.fs.v.GetLocation(ctx, root, root, strconv.Itoa(int(p.index)), 0)
			if err == nil {
				loc = l
				break
			}
		}
	}
	if !loc.Ok() {
		return 0, unix.EIO
	}
	defer loc.DecRef()
	impl, err := p.openReplica(ctx, flags|unix.O_NOCTTY, false)
	if err != nil {
		return 0, err
	}
	f := p.fs.v.NewFile(loc, impl, flags&^unix.O_CLOEXEC)
	defer f.DecRef(ctx)
	fd, err := proc.InstallFD(f, flags&unix.O_CLOEXEC != 0)
	return uintptr(fd), err
}

// replicaFile is an open /dev/pts/N (or /dev/tty on it).
type replicaFile struct {
	vfs.StreamFileBase
	p        *pty
	readable bool
	nonblock atomic.Bool
	once     sync.Once
	deadline time.Time // VTIME timer of a pending read (p.mu)
}

// Release implements vfs.FileImpl.
func (r *replicaFile) Release(vfs.Context) {
	r.once.Do(func() {
		p := r.p
		p.mu.Lock()
		p.replicas--
		free := p.replicas == 0 && !p.masterOpen
		p.mu.Unlock()
		p.masterQ.Notify(waiter.ReadableEvents | waiter.EventHUp)
		if free {
			p.fs.free(p)
		}
	})
}

// SetStatusFlags implements vfs.StatusFlagsSetter (O_NONBLOCK matters to
// VMIN reads).
func (r *replicaFile) SetStatusFlags(_ vfs.Context, _, nf uint32) error {
	r.nonblock.Store(nf&unix.O_NONBLOCK != 0)
	return nil
}

// Read implements vfs.StreamFile.
func (r *replicaFile) Read(ctx vfs.Context, dst []byte) (int, error) {
	p := r.p
	if err := jobctl.CheckRead(ctx, &p.tty); err != nil {
		return 0, err
	}
	if len(dst) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	if p.hungup {
		p.mu.Unlock()
		return 0, nil
	}
	n, err := r.readLocked(dst)
	p.mu.Unlock()
	if n > 0 {
		p.masterQ.Notify(waiter.WritableEvents)
	}
	return n, err
}

func (r *replicaFile) readLocked(dst []byte) (int, error) {
	p := r.p
	ld := p.ld
	if ld.icanon() {
		if !ld.hasLine() {
			return 0, unix.EAGAIN
		}
		return ld.read(dst), nil
	}
	vmin, vtime := int(ld.termios.CC[unix.VMIN]), time.Duration(ld.termios.CC[unix.VTIME])*100*time.Millisecond
	avail := len(ld.in)
	need := min(vmin, len(dst))
	now := time.Now()
	switch {
	case vmin == 0 && vtime == 0:
		return ld.read(dst), nil
	case avail > 0 && (avail >= need || r.nonblock.Load()):
		r.deadline = time.Time{}
		return ld.read(dst), nil
	case vtime == 0:
		return 0, unix.EAGAIN
	case vmin == 0:
		// A read timer from the call on.
		if r.deadline.IsZero() || now.Sub(r.deadline) > time.Second {
			r.deadline = now.Add(vtime)
			r.armTimer(vtime)
			return 0, unix.EAGAIN
		}
		if !now.Before(r.deadline) {
			r.deadline = time.Time{}
			return 0, nil
		}
		return 0, unix.EAGAIN
	default:
		// An inter-byte timer, once a byte arrived.
		if avail == 0 {
			return 0, unix.EAGAIN
		}
		d := p.lastInput.Add(vtime)
		if !now.Before(d) {
			return ld.read(dst), nil
		}
		r.armTimer(d.Sub(now))
		return 0, unix.EAGAIN
	}
}

func (r *replicaFile) armTimer(d time.Duration) {
	q := &r.p.replicaQ
	time.AfterFunc(d, func() { q.Notify(waiter.ReadableEvents) })
}

// Write implements vfs.StreamFile: output processing into the master's
// input.
func (r *replicaFile) Write(ctx vfs.Context, src []byte) (int, error) {
	p := r.p
	p.mu.Lock()
	tostop := p.ld.termios.l(unix.TOSTOP)
	p.mu.Unlock()
	if tostop {
		if err := jobctl.CheckChange(ctx, &p.tty); err != nil {
			return 0, err
		}
	}
	if len(src) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	if p.hungup {
		p.mu.Unlock()
		return 0, unix.EIO
	}
	if p.ld.stopped || len(p.out) >= maxOutput {
		p.mu.Unlock()
		return 0, unix.EAGAIN
	}
	n := min(len(src), maxOutput-len(p.out))
	p.out = p.ld.output(p.out, src[:n])
	p.mu.Unlock()
	p.masterQ.Notify(waiter.ReadableEvents)
	return n, nil
}

// Readiness implements vfs.Waitable.
func (r *replicaFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hungup {
		return mask&(waiter.ReadableEvents|waiter.WritableEvents) | waiter.EventHUp | waiter.EventErr
	}
	var m waiter.EventMask
	ld := p.ld
	if ld.icanon() {
		if ld.hasLine() {
			m |= waiter.ReadableEvents
		}
	} else {
		amt := 1
		if vmin := int(ld.termios.CC[unix.VMIN]); vmin > 0 && ld.termios.CC[unix.VTIME] == 0 {
			amt = vmin
		}
		if len(ld.in) >= amt {
			m |= waiter.ReadableEvents
		}
	}
	if !ld.stopped && len(p.out) < maxOutput {
		m |= waiter.WritableEvents
	}
	return m & mask
}

// EventRegister implements vfs.Waitable.
func (r *replicaFile) EventRegister(e *waiter.Entry) { r.p.replicaQ.Register(e) }

// EventUnregister implements vfs.Waitable.
func (r *replicaFile) EventUnregister(e *waiter.Entry) { r.p.replicaQ.Unregister(e) }

// Ioctl implements vfs.Ioctler.
func (r *replicaFile) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	p := r.p
	switch cmd {
	case fionread:
		p.mu.Lock()
		n := p.ld.inq()
		p.mu.Unlock()
		return 0, putInt(ctx, arg, int32(n))
	case unix.TCFLSH:
		if err := jobctl.CheckChange(ctx, &p.tty); err != nil {
			return 0, err
		}
		return 0, p.flush(ctx, arg, false)
	case unix.TIOCGPTN, unix.TIOCSPTLCK, unix.TIOCGPTLCK, unix.TIOCPKT, unix.TIOCGPKT, unix.TIOCGPTPEER:
		return 0, unix.ENOTTY
	}
	return p.ioctl(ctx, true, r.readable, cmd, arg)
}

// fionread is FIONREAD (TIOCINQ).
const fionread = 0x541b

// flush implements TCFLSH from the master's or the replica's side.
func (p *pty) flush(_ vfs.Context, arg uintptr, master bool) error {
	var in, out bool
	switch arg {
	case unix.TCIFLUSH:
		in = true
	case unix.TCOFLUSH:
		out = true
	case unix.TCIOFLUSH:
		in, out = true, true
	default:
		return unix.EINVAL
	}
	if master {
		in, out = out, in
	}
	p.mu.Lock()
	if in {
		p.ld.flushInput()
		p.pktEventLocked(unix.TIOCPKT_FLUSHREAD)
	}
	if out {
		p.out = p.out[:0]
		p.pktEventLocked(unix.TIOCPKT_FLUSHWRITE)
	}
	p.mu.Unlock()
	p.masterQ.Notify(waiter.ReadableEvents | waiter.WritableEvents)
	p.replicaQ.Notify(waiter.WritableEvents)
	return nil
}

// ioctl serves the terminal ioctls both sides share (termios, window size,
// job control): a master's apply to its replica.
func (p *pty) ioctl(ctx vfs.Context, replica, readable bool, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.TCGETS, unix.TCGETS2:
		size := sizeofTermios
		if cmd == unix.TCGETS2 {
			size = sizeofTermios2
		}
		p.mu.Lock()
		b := p.ld.termios.marshal(size)
		p.mu.Unlock()
		return 0, vfs.CopyOut(ctx, arg, b)
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TCSETS2, unix.TCSETSW2, unix.TCSETSF2:
		if err := jobctl.CheckChange(ctx, &p.tty); err != nil {
			return 0, err
		}
		size := sizeofTermios
		if cmd == unix.TCSETS2 || cmd == unix.TCSETSW2 || cmd == unix.TCSETSF2 {
			size = sizeofTermios2
		}
		b := make([]byte, size)
		if err := vfs.CopyIn(ctx, arg, b); err != nil {
			return 0, err
		}
		p.mu.Lock()
		nt := p.ld.termios
		nt.unmarshal(b)
		if cmd == unix.TCSETSF || cmd == unix.TCSETSF2 {
			p.ld.flushInput()
		}
		p.ld.setTermios(nt)
		p.mu.Unlock()
		p.replicaQ.Notify(waiter.ReadableEvents | waiter.WritableEvents)
		p.masterQ.Notify(waiter.WritableEvents)
		return 0, nil
	case unix.TIOCGWINSZ:
		p.mu.Lock()
		ws := p.winsize
		p.mu.Unlock()
		return 0, vfs.CopyOut(ctx, arg, ws[:])
	case unix.TIOCSWINSZ:
		var ws [sizeofWinsize]byte
		if err := vfs.CopyIn(ctx, arg, ws[:]); err != nil {
			return 0, err
		}
		p.mu.Lock()
		changed := ws != p.winsize
		p.winsize = ws
		p.mu.Unlock()
		if changed {
			p.tty.SignalForeground(int32(unix.SIGWINCH))
		}
		return 0, nil
	case unix.TIOCOUTQ:
		return 0, putInt(ctx, arg, 0)
	case unix.TCXONC:
		if err := jobctl.CheckChange(ctx, &p.tty); err != nil {
			return 0, err
		}
		switch arg {
		case unix.TCOOFF, unix.TCOON:
			p.mu.Lock()
			if stop := arg == unix.TCOOFF; stop != p.ld.stopped {
				p.ld.stopped = stop
				p.stopEventLocked()
			}
			p.mu.Unlock()
			p.replicaQ.Notify(waiter.WritableEvents)
			p.masterQ.Notify(waiter.ReadableEvents)
		case unix.TCIOFF, unix.TCION:
		default:
			return 0, unix.EINVAL
		}
		return 0, nil
	case unix.TCSBRK, unix.TCSBRKP, unix.TIOCSBRK, unix.TIOCCBRK:
		return 0, nil
	case unix.TIOCEXCL, unix.TIOCNXCL:
		p.mu.Lock()
		p.excl = cmd == unix.TIOCEXCL
		p.mu.Unlock()
		return 0, nil
	case unix.TIOCGEXCL:
		p.mu.Lock()
		e := p.excl
		p.mu.Unlock()
		return 0, putInt(ctx, arg, boolInt(e))
	case unix.TIOCSTI:
		return 0, p.simulateInput(ctx, replica, arg)
	case unix.TIOCGETD:
		return 0, putInt(ctx, arg, 0) // N_TTY
	case unix.TIOCSETD:
		v, err := getInt(ctx, arg)
		if err != nil {
			return 0, err
		}
		if v != 0 {
			return 0, unix.EINVAL
		}
		return 0, nil
	}
	r, handled, err := jobctl.Ioctl(ctx, &p.tty, jobctl.IoctlOptions{Replica: replica, Readable: readable}, cmd, arg)
	if handled {
		return r, err
	}
	return 0, unix.ENOTTY
}

// pktEventLocked records a packet-mode status event for the master.
func (p *pty) pktEventLocked(ev byte) {
	if p.pkt {
		p.pktStatus |= ev
	}
}

// stopEventLocked records that output was stopped or restarted
// (TIOCPKT_STOP/TIOCPKT_START; the newer event cancels the older).
func (p *pty) stopEventLocked() {
	if !p.pkt {
		return
	}
	if p.ld.stopped {
		p.pktStatus = p.pktStatus&^unix.TIOCPKT_START | unix.TIOCPKT_STOP
	} else {
		p.pktStatus = p.pktStatus&^unix.TIOCPKT_STOP | unix.TIOCPKT_START
	}
}

// simulateInput implements TIOCSTI: the byte at arg is input as if typed
// on the terminal. Only on one's controlling terminal, unless privileged.
func (p *pty) simulateInput(ctx vfs.Context, replica bool, arg uintptr) error {
	privileged := ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN)
	if !privileged {
		proc, ok := ctx.(jobctl.Process)
		if !replica || !ok || proc.ControllingTTY() != &p.tty {
			return unix.EPERM
		}
	}
	var c [1]byte
	if err := vfs.CopyIn(ctx, arg, c[:]); err != nil {
		return err
	}
	if !replica {
		// On the master the byte is "typed" at the master's end: it
		// becomes data the master reads.
		p.mu.Lock()
		p.out = append(p.out, c[0])
		p.mu.Unlock()
		p.masterQ.Notify(waiter.ReadableEvents)
		return nil
	}
	_, err := p.input(c[:])
	return err
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func putInt(ctx vfs.Context, addr uintptr, v int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return vfs.CopyOut(ctx, addr, b[:])
}

func getInt(ctx vfs.Context, addr uintptr) (int32, error) {
	var b [4]byte
	if err := vfs.CopyIn(ctx, addr, b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}
