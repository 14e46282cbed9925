// Package pipe implements pipes (pipe(2)) and FIFOs (named pipes) for the
// VFS: a bounded byte buffer with Linux semantics (64 KiB default capacity,
// PIPE_BUF atomicity, EPIPE without readers, EOF without writers,
// F_SETPIPE_SZ, FIONREAD). Endpoints never block: they return EAGAIN and
// notify their wait queue when the caller can retry.
package pipe

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// Sizes.
const (
	// DefaultSize is the default capacity of a pipe.
	DefaultSize = 65536
	// PipeBuf is PIPE_BUF: writes of at most this many bytes are atomic.
	PipeBuf = 4096
	// MaxSize is /proc/sys/fs/pipe-max-size: larger F_SETPIPE_SZ needs
	// CAP_SYS_RESOURCE.
	MaxSize = 1 << 20
	// pageSize is the granularity of pipe sizes.
	pageSize = 4096
)

// Pipe is the shared buffer of a pipe or FIFO.
type Pipe struct {
	mu       sync.Mutex
	data     []byte // unread bytes are data[head:]
	head     int
	size     int
	readers  int
	writers  int
	rCounter uint64 // number of read opens ever
	wCounter uint64 // number of write opens ever
	queue    waiter.Queue
	// segs splits the unread bytes into the packets of packet-mode
	// (O_DIRECT) writes and runs of ordinary data, in order; packets
	// counts the packets. Like Linux's pipe buffers, each packet takes a
	// page-sized slot of the capacity, and a read returns one packet at most.
	segs    []segment
	packets int
}

// segment is a run of unread bytes: one packet, or ordinary data.
type segment struct {
	n      int
	packet bool
}

// New returns an empty pipe with the default capacity and no endpoints.
func New() *Pipe { return &Pipe{size: DefaultSize} }

func (p *Pipe) buffered() int { return len(p.data) - p.head }

// slots is the capacity in page-sized slots.
func (p *Pipe) slots() int { return max(p.size/pageSize, 1) }

// packetBytes returns the bytes held in packets.
func (p *Pipe) packetBytes() int {
	n := 0
	for _, s := range p.segs {
		if s.packet {
			n += s.n
		}
	}
	return n
}

// streamFree is the room left for ordinary writes: the capacity less the
// slots packets hold and the bytes already buffered.
func (p *Pipe) streamFree() int {
	if p.packets == 0 {
		return p.size - p.buffered()
	}
	return (p.slots()-p.packets)*pageSize - (p.buffered() - p.packetBytes())
}

// slotsUsed counts the slots packets and ordinary data occupy.
func (p *Pipe) slotsUsed() int {
	stream := p.buffered() - p.packetBytes()
	return p.packets + (stream+pageSize-1)/pageSize
}

// consume drops n unread bytes from the front of the buffer.
func (p *Pipe) consume(n int) {
	p.head += n
	if p.head == len(p.data) {
		p.data, p.head = p.data[:0], 0
	}
}

// appendData queues src as one packet or as ordinary data.
func (p *Pipe) appendData(src []byte, packet bool) {
	if p.head > 0 && p.head >= len(p.data)/2 {
		p.data = append(p.data[:0], p.data[p.head:]...)
		p.head = 0
	}
	p.data = append(p.data, src...)
	if last := len(p.segs) - 1; !packet && last >= 0 && !p.segs[last].packet {
		p.segs[last].n += len(src)
		return
	}
	p.segs = append(p.segs, segment{n: len(src), packet: packet})
	if packet {
		p.packets++
	}
}

// NewPipe implements pipe2(2): it returns the read and write ends as Files
// on one anonymous inode. flags may hold O_NONBLOCK and O_DIRECT
// (O_CLOEXEC is for the caller).
func NewPipe(v *vfs.VFS, ctx vfs.Context, flags uint32) (r, w *vfs.File, err error) {
	if flags&^(unix.O_NONBLOCK|unix.O_DIRECT|unix.O_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	flags &^= unix.O_CLOEXEC
	p := New()
	in := &pipeInode{AnonInode: v.NewAnonInode(ctx, unix.S_IFIFO|0o600), p: p}
	loc := v.NewAnonLocation(fmt.Sprintf("pipe:[%d]", in.Ino), in, unix.S_IFIFO)
	p.mu.Lock()
	p.readers, p.writers = 1, 1
	p.rCounter, p.wCounter = 1, 1
	re := &Endpoint{p: p, read: true}
	we := &Endpoint{p: p, write: true}
	we.packet.Store(flags&unix.O_DIRECT != 0)
	p.mu.Unlock()
	// Like Linux, only the write end shows O_DIRECT: it is how writes
	// are made.
	return v.NewFile(loc, re, unix.O_RDONLY|flags&^unix.O_DIRECT), v.NewFile(loc, we, unix.O_WRONLY|flags), nil
}

// pipeInode is the anonymous inode of a pipe(2) pipe. Opening it again
// (through /proc/PID/fd/N) opens a new end of the same pipe, as a FIFO
// open would, like Linux's pipefifo_fops.
type pipeInode struct {
	*vfs.AnonInode
	p *Pipe
}

// Open implements vfs.Inode.
func (in *pipeInode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	return in.p.Open(ctx, flags)
}

// Open opens an endpoint of a FIFO (named pipe) with open(2) flags. Like
// Linux: O_RDWR never blocks; O_RDONLY|O_NONBLOCK succeeds at once;
// O_WRONLY|O_NONBLOCK without readers is ENXIO; otherwise the open waits for
// the other side (see vfs.File.OpenReady).
func (p *Pipe) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	nonblock := flags&unix.O_NONBLOCK != 0
	e := &Endpoint{p: p, rSnap: p.rCounter, wSnap: p.wCounter}
	e.packet.Store(flags&unix.O_DIRECT != 0)
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		e.read = true
		e.waitWriter = !nonblock && p.writers == 0
		if nonblock && p.writers == 0 {
			// Like Linux, a reader that did not wait for a writer
			// reports no EPOLLHUP until a writer has come and gone.
			e.hupSnap = p.wCounter
		}
	case unix.O_WRONLY:
		if nonblock && p.readers == 0 {
			return nil, unix.ENXIO
		}
		e.write = true
		e.waitReader = p.readers == 0
	default:
		e.read, e.write = true, true
	}
	if e.read {
		p.readers++
		p.rCounter++
	}
	if e.write {
		p.writers++
		p.wCounter++
	}
	p.queue.Notify(waiter.EventIn | waiter.EventOut)
	return e, nil
}

// Endpoint is one open end of a pipe (a vfs.FileImpl).
type Endpoint struct {
	vfs.StreamFileBase
	p           *Pipe
	read, write bool
	// Counters at open: a FIFO open waits for them to change.
	rSnap, wSnap           uint64
	waitReader, waitWriter bool
	// A reader reports EPOLLHUP without writers only while the writer
	// counter differs from hupSnap (Linux's f_version): zero except for
	// an O_NONBLOCK reader that opened with no writer.
	hupSnap uint64
	// packet is the file's O_DIRECT: its writes are packets.
	packet atomic.Bool
}

// SetStatusFlags implements vfs.StatusFlagsSetter: F_SETFL may turn packet
// mode on or off.
func (e *Endpoint) SetStatusFlags(_ vfs.Context, _, flags uint32) error {
	e.packet.Store(flags&unix.O_DIRECT != 0)
	return nil
}

// Pipe returns the endpoint's pipe.
func (e *Endpoint) Pipe() *Pipe { return e.p }

// OpenReady implements vfs.OpenWaiter.
func (e *Endpoint) OpenReady() bool {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.waitWriter && p.wCounter == e.wSnap {
		return false
	}
	if e.waitReader && p.rCounter == e.rSnap {
		return false
	}
	e.waitReader, e.waitWriter = false, false
	return true
}

// Release implements vfs.FileImpl.
func (e *Endpoint) Release(vfs.Context) {
	p := e.p
	p.mu.Lock()
	if e.read {
		p.readers--
	}
	if e.write {
		p.writers--
	}
	if p.readers == 0 && p.writers == 0 {
		// Like Linux, a FIFO's buffered data is dropped with its last user.
		p.data, p.head = nil, 0
		p.segs, p.packets = nil, 0
	}
	p.mu.Unlock()
	p.queue.Notify(waiter.EventIn | waiter.EventOut | waiter.EventHUp | waiter.EventErr)
}

// Read implements vfs.StreamFile: EAGAIN if empty with writers, 0 (EOF)
// without.
func (e *Endpoint) Read(_ vfs.Context, dst []byte) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	p := e.p
	p.mu.Lock()
	if p.buffered() == 0 {
		w := p.writers
		p.mu.Unlock()
		if w == 0 {
			return 0, nil
		}
		return 0, unix.EAGAIN
	}
	seg := &p.segs[0]
	n := copy(dst, p.data[p.head:p.head+seg.n])
	if seg.packet {
		// A packet is read whole: what dst cannot hold is dropped.
		p.consume(seg.n)
		p.segs = p.segs[1:]
		p.packets--
	} else {
		p.consume(n)
		if seg.n -= n; seg.n == 0 {
			p.segs = p.segs[1:]
		}
	}
	p.mu.Unlock()
	p.queue.Notify(waiter.WritableEvents)
	return n, nil
}

// Peek copies buffered bytes into dst without consuming them (tee(2)),
// with Read's results: EAGAIN if empty with writers, 0 without.
func (e *Endpoint) Peek(dst []byte) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buffered() == 0 {
		if p.writers == 0 {
			return 0, nil
		}
		return 0, unix.EAGAIN
	}
	return copy(dst, p.data[p.head:]), nil
}

// Write implements vfs.StreamFile: EPIPE without readers (the kernel raises
// SIGPIPE), EAGAIN when full or when a write of at most PIPE_BUF bytes does
// not fit whole; larger writes may be partial.
func (e *Endpoint) Write(_ vfs.Context, src []byte) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	p := e.p
	p.mu.Lock()
	if p.readers == 0 {
		p.mu.Unlock()
		return 0, unix.EPIPE
	}
	var n int
	if e.packet.Load() {
		n = p.writePacketsLocked(src)
	} else if free := p.streamFree(); free > 0 && (len(src) > PipeBuf || free >= len(src)) {
		n = min(free, len(src))
		p.appendData(src[:n], false)
	}
	p.mu.Unlock()
	if n == 0 {
		return 0, unix.EAGAIN
	}
	p.queue.Notify(waiter.ReadableEvents)
	return n, nil
}

// writePacketsLocked queues src as packets of at most PipeBuf bytes, one
// per free slot, and returns the bytes queued.
func (p *Pipe) writePacketsLocked(src []byte) int {
	n := 0
	for n < len(src) && p.slotsUsed() < p.slots() {
		c := min(len(src)-n, PipeBuf)
		p.appendData(src[n:n+c], true)
		n += c
	}
	return n
}

// Readiness implements vfs.Waitable.
func (e *Endpoint) Readiness(mask waiter.EventMask) waiter.EventMask {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var r waiter.EventMask
	if e.read {
		if p.buffered() > 0 {
			r |= waiter.ReadableEvents
		}
		if p.writers == 0 && p.wCounter != e.hupSnap {
			r |= waiter.EventHUp
		}
	}
	if e.write {
		free := p.streamFree()
		if e.packet.Load() && p.slotsUsed() < p.slots() || free >= PipeBuf || (free > 0 && p.size < PipeBuf) {
			r |= waiter.WritableEvents
		}
		if p.readers == 0 {
			r |= waiter.EventErr
		}
	}
	return r & (mask | waiter.EventErr | waiter.EventHUp)
}

// EventRegister implements vfs.Waitable.
func (e *Endpoint) EventRegister(w *waiter.Entry) { e.p.queue.Register(w) }

// EventUnregister implements vfs.Waitable.
func (e *Endpoint) EventUnregister(w *waiter.Entry) { e.p.queue.Unregister(w) }

// Ioctl implements vfs.Ioctler: FIONREAD.
func (e *Endpoint) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case fionread:
		e.p.mu.Lock()
		n := e.p.buffered()
		e.p.mu.Unlock()
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(n))
		return 0, vfs.CopyOut(ctx, arg, b[:])
	}
	return 0, unix.ENOTTY
}

// PipeSize implements F_GETPIPE_SZ.
func (e *Endpoint) PipeSize() int64 {
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	return int64(e.p.size)
}

// SetPipeSize implements F_SETPIPE_SZ: the size is rounded up to a power of
// two number of pages; EPERM above MaxSize without CAP_SYS_RESOURCE, EBUSY
// if the data does not fit. It returns the new size.
func (e *Endpoint) SetPipeSize(ctx vfs.Context, n int64) (int64, error) {
	if n <= 0 {
		n = pageSize
	}
	if n > 1<<31 {
		return 0, unix.EINVAL
	}
	sz := int64(pageSize)
	for sz < n {
		sz <<= 1
	}
	if sz > MaxSize && !ctx.Credentials().HasCap(unix.CAP_SYS_RESOURCE) {
		return 0, unix.EPERM
	}
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slotsUsed() > int(sz/pageSize) {
		return 0, unix.EBUSY
	}
	p.size = int(sz)
	p.queue.Notify(waiter.WritableEvents)
	return sz, nil
}

// fionread is FIONREAD (TIOCINQ) on x86-64 and arm64.
const fionread = 0x541B
