// Package socket holds what the sentry's socket implementations share: the
// Socket interface the socket system calls drive, socket files on anonymous
// inodes, control messages (SCM_RIGHTS, SCM_CREDENTIALS) and the common
// SOL_SOCKET state (timeouts, readiness queue).
//
// Implementations: package unixsock (AF_UNIX, entirely in the sentry) and
// package hostinet (AF_INET, AF_INET6 and NETLINK_ROUTE backed by host
// sockets the sentry owns). Like every vfs file, sockets never block: an
// operation that would block returns unix.EAGAIN and the socket notifies its
// waiter queue when it can make progress; the system call layer does the
// waiting.
package socket

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Creds are the credentials carried by SCM_CREDENTIALS and SO_PEERCRED
// (struct ucred).
type Creds struct {
	PID      int32
	UID, GID uint32
}

// Bytes encodes c as a struct ucred.
func (c Creds) Bytes() []byte {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint32(b[0:], uint32(c.PID))
	binary.LittleEndian.PutUint32(b[4:], c.UID)
	binary.LittleEndian.PutUint32(b[8:], c.GID)
	return b
}

// NoPeerCreds is what SO_PEERCRED reports when there is no peer: pid 0 and
// IDs of -1, as Linux's cred_to_ucred leaves them.
var NoPeerCreds = Creds{PID: 0, UID: ^uint32(0), GID: ^uint32(0)}

// PathKey identifies a pathname socket's inode (device and inode number).
type PathKey struct {
	Dev, Ino uint64
}

// PathResolver does the file-system side of pathname AF_UNIX addresses for
// the calling task.
type PathResolver interface {
	// MknodSocket creates a socket inode at path (EADDRINUSE if something
	// is there) and returns its key.
	MknodSocket(path string) (PathKey, error)
	// LookupSocket resolves path for a connect or send: ENOENT and
	// EACCES as the walk finds them, ECONNREFUSED if it is not a socket.
	LookupSocket(path string) (PathKey, error)
}

// Caller is the calling task as socket implementations see it.
type Caller struct {
	Ctx   vfs.Context
	Creds Creds // tgid, euid, egid
	// RealCreds are the default SCM_CREDENTIALS (tgid, real uid/gid).
	RealCreds Creds
	// Privileged callers (CAP_SYS_ADMIN/CAP_SETUID/CAP_SETGID) may send
	// any credentials.
	Privileged bool
	// MinBindPort is the lowest inet port the caller may bind (0 with
	// CAP_NET_BIND_SERVICE, net.ipv4.ip_unprivileged_port_start without).
	MinBindPort int
	Paths       PathResolver
}

// Process is implemented by the contexts of guest tasks.
type Process interface {
	// ThreadGroupID is the caller's PID (its thread group's ID).
	ThreadGroupID() int32
}

// ContextCaller makes a Caller for read(2) and write(2) on a socket, which
// have only a vfs.Context: enough for the default SCM_CREDENTIALS a write
// carries (tgid, real uid and gid), not for binds or connects.
func ContextCaller(ctx vfs.Context) *Caller {
	c := &Caller{Ctx: ctx}
	if p, ok := ctx.(Process); ok {
		c.RealCreds.PID = p.ThreadGroupID()
	}
	if cr := ctx.Credentials(); cr != nil {
		c.RealCreds.UID, c.RealCreds.GID = cr.RealUID, cr.RealGID
	}
	return c
}

// ControlMessages are the ancillary data of one message.
type ControlMessages struct {
	// Rights are the files of an SCM_RIGHTS message; the holder owns one
	// reference on each.
	Rights []*vfs.File
	// Creds is the SCM_CREDENTIALS payload, if any.
	Creds *Creds
	// Raw holds other control messages as encoded cmsghdrs (host sockets
	// pass them through).
	Raw []byte
}

// Release drops the references held on Rights.
func (c *ControlMessages) Release(ctx vfs.Context) {
	for _, f := range c.Rights {
		f.DecRef(ctx)
	}
	c.Rights = nil
}

// RecvResult is what one receive returns besides the data.
type RecvResult struct {
	N       int    // bytes copied into the buffer
	MsgLen  int    // full length of the message (datagrams; MSG_TRUNC)
	From    []byte // sender's address (sockaddr), nil if none
	Flags   int    // msg_flags: MSG_TRUNC, MSG_CTRUNC, MSG_EOR...
	Control ControlMessages
}

// Socket is the FileImpl of every socket file.
type Socket interface {
	vfs.FileImpl
	vfs.StreamFile
	vfs.Waitable

	// Info returns the family, type and protocol of the socket.
	Info() (family, stype, protocol int)
	// Bind binds the socket to the sockaddr addr.
	Bind(c *Caller, addr []byte) error
	// Listen makes a connection-oriented socket listen.
	Listen(c *Caller, backlog int) error
	// Accept takes a pending connection as a new file (with status
	// flags fileFlags, e.g. O_NONBLOCK) and returns the peer's address.
	// EAGAIN when none is pending.
	Accept(c *Caller, fileFlags uint32) (*vfs.File, []byte, error)
	// Connect starts connecting to addr. A connection that takes time
	// gives EINPROGRESS (wait for EventOut, then FinishConnect); a full
	// backlog gives EAGAIN (wait for EventOut and retry).
	Connect(c *Caller, addr []byte) error
	// FinishConnect returns the outcome of a connection that gave
	// EINPROGRESS once the socket is writable (SO_ERROR).
	FinishConnect() error
	// Shutdown implements shutdown(2).
	Shutdown(c *Caller, how int) error
	// SockName and PeerName return sockaddrs.
	SockName() ([]byte, error)
	PeerName() ([]byte, error)
	// SendMsg sends src to the address to (nil: the peer). On success it
	// takes ownership of cm.Rights. It never blocks: EAGAIN (or a short
	// count on a stream) means wait for EventOut.
	SendMsg(c *Caller, src []byte, to []byte, cm *ControlMessages, flags int) (int, error)
	// RecvMsg receives into dst. It never blocks: EAGAIN means wait for
	// EventIn. controlLen is the room the caller has for control data.
	RecvMsg(c *Caller, dst []byte, flags int, controlLen int) (RecvResult, error)
	// GetSockOpt returns the option's value (at most optLen bytes are
	// used by the caller).
	GetSockOpt(c *Caller, level, name, optLen int) ([]byte, error)
	// SetSockOpt sets an option.
	SetSockOpt(c *Caller, level, name int, val []byte) error
	// Timeouts returns SO_RCVTIMEO and SO_SNDTIMEO (0: none).
	Timeouts() (rcv, snd time.Duration)
}

// Base holds the state every socket implementation shares: the readiness
// queue and SO_RCVTIMEO/SO_SNDTIMEO (implemented in the sentry). Embed it.
type Base struct {
	vfs.StreamFileBase
	Queue    waiter.Queue
	rcvTimeo atomic.Int64
	sndTimeo atomic.Int64
}

// WholeSourceWrites implements vfs.WholeSourceWriter: write(2) on a
// socket is a send, which fails with EFAULT rather than send a part.
func (b *Base) WholeSourceWrites() {}

// EventRegister implements vfs.Waitable.
func (b *Base) EventRegister(e *waiter.Entry) { b.Queue.Register(e) }

// EventUnregister implements vfs.Waitable.
func (b *Base) EventUnregister(e *waiter.Entry) { b.Queue.Unregister(e) }

// Timeouts implements Socket.
func (b *Base) Timeouts() (time.Duration, time.Duration) {
	return time.Duration(b.rcvTimeo.Load()), time.Duration(b.sndTimeo.Load())
}

// TimeoOpt handles SO_RCVTIMEO and SO_SNDTIMEO: set with val != nil, get
// otherwise. ok is false for other options.
func (b *Base) TimeoOpt(level, name int, val []byte) (out []byte, ok bool, err error) {
	if level != unix.SOL_SOCKET {
		return nil, false, nil
	}
	var p *atomic.Int64
	switch name {
	case unix.SO_RCVTIMEO_OLD:
		p = &b.rcvTimeo
	case unix.SO_SNDTIMEO_OLD:
		p = &b.sndTimeo
	default:
		return nil, false, nil
	}
	if val == nil {
		d := p.Load()
		out = make([]byte, 16)
		binary.LittleEndian.PutUint64(out[0:], uint64(d/int64(time.Second)))
		binary.LittleEndian.PutUint64(out[8:], uint64(d%int64(time.Second)/int64(time.Microsecond)))
		return out, true, nil
	}
	if len(val) < 16 {
		return nil, true, unix.EINVAL
	}
	sec := int64(binary.LittleEndian.Uint64(val[0:]))
	usec := int64(binary.LittleEndian.Uint64(val[8:]))
	if usec < 0 || usec >= 1000000 {
		return nil, true, unix.EDOM
	}
	switch {
	case sec < 0:
		p.Store(0) // Linux: a negative timeout means "return at once"... treated as none here
	case sec > int64(time.Duration(1<<62)/time.Second):
		p.Store(0)
	default:
		p.Store(sec*int64(time.Second) + usec*int64(time.Microsecond))
	}
	return nil, true, nil
}

// NewFile makes a socket file ("socket:[ino]", st_mode S_IFSOCK|0777) for
// impl. fileFlags may hold O_NONBLOCK.
func NewFile(v *vfs.VFS, ctx vfs.Context, impl vfs.FileImpl, fileFlags uint32) *vfs.File {
	in := v.NewAnonInode(ctx, unix.S_IFSOCK|0o777)
	loc := v.NewAnonLocation(fmt.Sprintf("socket:[%d]", in.Ino), in, unix.S_IFSOCK)
	return v.NewFile(loc, impl, unix.O_RDWR|fileFlags&unix.O_NONBLOCK)
}

// Int32 encodes an int option value.
func Int32(v int) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(int32(v)))
	return b
}

// GetInt32 decodes an int option value (EINVAL if too short).
func GetInt32(val []byte) (int, error) {
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return int(int32(binary.LittleEndian.Uint32(val))), nil
}

// BgCtx is a context for dropping file references outside any system call.
var BgCtx = vfs.NewContext(vfs.RootCredentials())
