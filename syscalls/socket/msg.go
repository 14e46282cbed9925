package socket

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

const (
	iovMax      = 1024           // UIO_MAXIOV
	taskSize    = 0x7ffffffff000 // TASK_SIZE_MAX
	maxRW       = 0x7ffff000     // MAX_RW_COUNT
	scmMaxFD    = 253            // SCM_MAX_FD
	maxControl  = 64 << 10       // beyond this, ENOBUFS (optmem_max)
	streamChunk = 1 << 20        // stream I/O goes through the sentry in chunks
	maxMsg      = 8 << 20        // largest datagram/record buffered at once
	msghdrSize  = 56
	mmsghdrSize = 64
	cmsgHdrLen  = 16
)

// Flags accepted by the send and receive calls.
const (
	sendFlagsOK = unix.MSG_OOB | unix.MSG_DONTROUTE | unix.MSG_DONTWAIT | unix.MSG_EOR |
		unix.MSG_NOSIGNAL | unix.MSG_MORE | unix.MSG_CONFIRM | unix.MSG_FASTOPEN | unix.MSG_ZEROCOPY | unix.MSG_BATCH
	recvFlagsOK = unix.MSG_OOB | unix.MSG_PEEK | unix.MSG_TRUNC | unix.MSG_DONTWAIT |
		unix.MSG_WAITALL | unix.MSG_ERRQUEUE | unix.MSG_CMSG_CLOEXEC | unix.MSG_WAITFORONE | unix.MSG_NOSIGNAL
)

type iovec struct{ base, len uint64 }

// ioSeq is the guest buffers of one call seen as one byte stream.
type ioSeq []iovec

func parseIovecs(b []byte) (ioSeq, int, error) {
	n := len(b) / 16
	seq := make(ioSeq, 0, n)
	total := 0
	for i := 0; i < n; i++ {
		base, l := le.Uint64(b[16*i:]), le.Uint64(b[16*i+8:])
		if int64(l) < 0 {
			return nil, 0, unix.EINVAL
		}
		if l > 0 && (base+l < base || base+l > taskSize) {
			return nil, 0, unix.EFAULT
		}
		l = min(l, uint64(maxRW-total))
		total += int(l)
		seq = append(seq, iovec{base, l})
	}
	return seq, total, nil
}

func singleSeq(addr, count uint64) (ioSeq, int, error) {
	count = min(count, maxRW)
	if count > 0 && (addr+count < addr || addr+count > taskSize) {
		return nil, 0, unix.EFAULT
	}
	return ioSeq{{addr, count}}, int(count), nil
}

// walk calls fn for the guest ranges of [pos, pos+length).
func (s ioSeq) walk(pos, length int, fn func(addr uint64, from, n int) (int, error)) (int, error) {
	done := 0
	for _, v := range s {
		if done == length {
			break
		}
		if uint64(pos) >= v.len {
			pos -= int(v.len)
			continue
		}
		n := int(min(uint64(length-done), v.len-uint64(pos)))
		m, err := fn(v.base+uint64(pos), done, n)
		done += m
		if err != nil || m != n {
			return done, unix.EFAULT
		}
		pos = 0
	}
	return done, nil
}

func (s ioSeq) copyIn(t *kernel.Task, pos int, data []byte) (int, error) {
	return s.walk(pos, len(data), func(addr uint64, from, n int) (int, error) {
		return t.CopyIn(addr, data[from:from+n])
	})
}

func (s ioSeq) copyOut(t *kernel.Task, pos int, data []byte) (int, error) {
	return s.walk(pos, len(data), func(addr uint64, from, n int) (int, error) {
		return t.CopyOut(addr, data[from:from+n])
	})
}

// msghdr is a decoded struct msghdr.
type msghdr struct {
	name       uint64
	namelen    int32
	iov        uint64
	iovlen     uint64
	control    uint64
	controllen uint64
	flags      int32
}

func readMsghdr(t *kernel.Task, addr uint64) (msghdr, error) {
	var b [msghdrSize]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return msghdr{}, err
	}
	return msghdr{
		name: le.Uint64(b[0:]), namelen: int32(le.Uint32(b[8:])),
		iov: le.Uint64(b[16:]), iovlen: le.Uint64(b[24:]),
		control: le.Uint64(b[32:]), controllen: le.Uint64(b[40:]),
		flags: int32(le.Uint32(b[48:])),
	}, nil
}

func (m *msghdr) iovecs(t *kernel.Task) (ioSeq, int, error) {
	if m.iovlen > iovMax {
		return nil, 0, unix.EMSGSIZE
	}
	b := make([]byte, 16*m.iovlen)
	if err := copyIn(t, m.iov, b); err != nil {
		return nil, 0, err
	}
	return parseIovecs(b)
}

// isStream reports whether s is a byte stream (sends may be partial and
// MSG_WAITALL applies).
func isStream(s socket.Socket) bool {
	_, st, _ := s.Info()
	return st == unix.SOCK_STREAM
}

func isUnix(s socket.Socket) bool {
	fam, _, _ := s.Info()
	return fam == unix.AF_UNIX
}

// parseControl decodes the control messages of a send.
func parseControl(t *kernel.Task, s socket.Socket, c *socket.Caller, b []byte) (*socket.ControlMessages, error) {
	cm := &socket.ControlMessages{}
	fail := func(err error) (*socket.ControlMessages, error) {
		cm.Release(ctx(t))
		return nil, err
	}
	for len(b) >= cmsgHdrLen {
		l := le.Uint64(b)
		if l < cmsgHdrLen || l > uint64(len(b)) {
			return fail(unix.EINVAL)
		}
		level, typ := int32(le.Uint32(b[8:])), int32(le.Uint32(b[12:]))
		data := b[cmsgHdrLen:l]
		next := min(uint64(len(b)), (l+7)&^7)
		if level != unix.SOL_SOCKET {
			if !isUnix(s) {
				cm.Raw = append(cm.Raw, b[:next]...)
			}
			b = b[next:]
			continue
		}
		switch typ {
		case unix.SCM_RIGHTS:
			if !isUnix(s) {
				return fail(unix.EINVAL)
			}
			n := len(data) / 4
			if len(cm.Rights)+n > scmMaxFD {
				return fail(unix.EINVAL)
			}
			for i := 0; i < n; i++ {
				f, err := t.GetFile(int32(le.Uint32(data[4*i:])))
				if err != nil {
					return fail(unix.EBADF)
				}
				cm.Rights = append(cm.Rights, f)
			}
		case unix.SCM_CREDENTIALS:
			if len(data) != 12 {
				return fail(unix.EINVAL)
			}
			cr := socket.Creds{PID: int32(le.Uint32(data[0:])), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
			if !c.Privileged {
				tc := t.Creds()
				if cr.PID != c.Creds.PID ||
					(cr.UID != tc.RealUID && cr.UID != tc.EffectiveUID && cr.UID != tc.SavedUID) ||
					(cr.GID != tc.RealGID && cr.GID != tc.EffectiveGID && cr.GID != tc.SavedGID) {
					return fail(unix.EPERM)
				}
			}
			cm.Creds = &cr
		default:
			return fail(unix.EINVAL)
		}
		b = b[next:]
	}
	return cm, nil
}

// sendmsg sends the data of seq (total bytes) to the address to with the
// control messages cm (consumed). A blocking stream send sends everything
// unless interrupted; progress wins over a later error.
func sendmsg(t *kernel.Task, f *vfs.File, s socket.Socket, seq ioSeq, total int, to []byte, cm *socket.ControlMessages, flags int) (int, error) {
	if cm != nil {
		defer cm.Release(ctx(t))
	}
	c := caller(t)
	_, snd := s.Timeouts()
	nonblock := nonblocking(f, flags)
	stream := isStream(s)
	if !stream && total > maxMsg {
		return 0, unix.EMSGSIZE
	}
	chunk := total
	if stream {
		chunk = min(total, streamChunk)
	}
	buf := make([]byte, chunk)
	sent := 0
	for first := true; first || sent < total; first = false {
		n := min(chunk, total-sent)
		if m, err := seq.copyIn(t, sent, buf[:n]); err != nil {
			if sent > 0 {
				return sent, nil
			}
			_ = m
			return 0, err
		}
		data := buf[:n]
		for len(data) > 0 || first {
			var k int
			err := block(t, f, writable, snd, nonblock, func() error {
				var err error
				k, err = s.SendMsg(c, data, to, cm, flags)
				return err
			})
			first = false
			if err != nil {
				if sent > 0 {
					return sent, nil
				}
				if err == unix.EPIPE && flags&unix.MSG_NOSIGNAL == 0 {
					t.SendSignal(&kernel.SigInfo{Signo: int32(unix.SIGPIPE), PID: t.ThreadGroup().ID(), UID: int32(t.Creds().RealUID)})
				}
				return 0, err
			}
			cm = nil
			sent += k
			data = data[k:]
			if !stream || nonblock {
				return sent, nil
			}
		}
	}
	return sent, nil
}

// recvResult is what recvmsg reports besides the data.
type recvResult struct {
	n       int // bytes returned (the full datagram length with MSG_TRUNC)
	from    []byte
	flags   int
	control socket.ControlMessages
}

// recvmsg receives into seq (total bytes).
func recvmsg(t *kernel.Task, f *vfs.File, s socket.Socket, seq ioSeq, total int, flags int, controlLen int) (recvResult, error) {
	var res recvResult
	c := caller(t)
	rcv, _ := s.Timeouts()
	nonblock := nonblocking(f, flags)
	stream := isStream(s)
	size := min(total, maxMsg)
	if stream {
		size = min(total, streamChunk)
	}
	buf := make([]byte, size)
	got := 0
	// Linux's MSG_PEEK|MSG_WAITALL on a blocking TCP socket waits until
	// all of it can be peeked (or no more can come); AF_UNIX peeks return
	// what is there.
	peekAll := stream && !isUnix(s) && !nonblock && flags&(unix.MSG_PEEK|unix.MSG_WAITALL) == unix.MSG_PEEK|unix.MSG_WAITALL
	for {
		var r socket.RecvResult
		peeked := 0
		err := block(t, f, readable, rcv, nonblock, func() error {
			var err error
			r, err = s.RecvMsg(c, buf[:min(size, total-got)], flags, controlLen)
			if err == nil && peekAll && r.N > 0 && r.N < size && f.Readiness(waiter.EventRdHUp|waiter.EventHUp) == 0 {
				peeked = r.N
				r.Control.Release(ctx(t))
				return unix.EAGAIN
			}
			return err
		})
		if err != nil && peeked > 0 {
			// A timeout or a signal ends the wait with what is there.
			r, err = s.RecvMsg(c, buf[:min(size, total-got)], flags, controlLen)
		}
		if err != nil {
			if got > 0 {
				return res, nil
			}
			return res, err
		}
		if m, err := seq.copyOut(t, got, buf[:r.N]); err != nil {
			r.Control.Release(ctx(t))
			if u, ok := s.(vfs.Unreader); ok && flags&unix.MSG_PEEK == 0 {
				// Linux leaves stream data it could not copy queued.
				u.Unread(ctx(t), buf[:r.N])
				m = 0
			}
			if got+m > 0 {
				res.n = got + m
				return res, nil
			}
			return res, err
		}
		if got == 0 {
			res.from, res.flags, res.control = r.From, r.Flags, r.Control
		} else {
			r.Control.Release(ctx(t))
		}
		if !stream {
			res.n = r.N
			if flags&unix.MSG_TRUNC != 0 {
				res.n = r.MsgLen
			}
			return res, nil
		}
		got += r.N
		res.n = got
		// MSG_WAITALL: a blocking stream receive waits for everything
		// (or EOF, an error or a signal).
		if r.N == 0 || got >= total || flags&unix.MSG_WAITALL == 0 || flags&unix.MSG_PEEK != 0 || nonblock {
			return res, nil
		}
	}
}

// putControl encodes the received control messages into at most room
// bytes, installing passed files. It returns the bytes and whether
// something was truncated (MSG_CTRUNC).
func putControl(t *kernel.Task, cm *socket.ControlMessages, room int, cloexec bool) ([]byte, bool) {
	var out []byte
	trunc := false
	put := func(level, typ int32, data []byte) bool {
		// Like Linux's put_cmsg: a message that does not fit is copied
		// truncated (with its full cmsg_len) if its header fits.
		l := cmsgHdrLen + len(data)
		avail := room - len(out)
		if avail < cmsgHdrLen {
			return false
		}
		h := make([]byte, cmsgHdrLen, l)
		le.PutUint64(h[0:], uint64(l))
		le.PutUint32(h[8:], uint32(level))
		le.PutUint32(h[12:], uint32(typ))
		h = append(h, data...)
		if l > avail {
			out = append(out, h[:avail]...)
			return false
		}
		out = append(out, h...)
		if pad := (l+7)&^7 - l; len(out)+pad <= room {
			out = append(out, make([]byte, pad)...)
		}
		return true
	}
	if cm.Creds != nil {
		if !put(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, cm.Creds.Bytes()) {
			trunc = true
		}
	}
	if len(cm.Rights) > 0 {
		max := (room - len(out) - cmsgHdrLen) / 4
		var fds []byte
		for i, f := range cm.Rights {
			if i >= max {
				trunc = true
				break
			}
			fd, err := t.NewFD(f, cloexec)
			if err != nil {
				trunc = true
				break
			}
			fds = le.AppendUint32(fds, uint32(fd))
		}
		if len(fds) > 0 {
			put(unix.SOL_SOCKET, unix.SCM_RIGHTS, fds)
		}
		cm.Release(ctx(t))
	}
	if len(cm.Raw) > 0 {
		n := min(len(cm.Raw), room-len(out))
		if n < len(cm.Raw) {
			trunc = true
		}
		out = append(out, cm.Raw[:max(n, 0)]...)
	}
	return out, trunc
}

// Sendto implements sendto(2).
func Sendto(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	fd, buf, length, flags, addr, addrlen := argInt(a[0]), a[1], a[2], int(argInt(a[3])), a[4], argInt(a[5])
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	seq, total, err := singleSeq(buf, length)
	if err != nil {
		return 0, err
	}
	var to []byte
	if addr != 0 {
		if to, err = copyInAddr(t, addr, addrlen); err != nil {
			return 0, err
		}
	}
	n, err := sendmsg(t, f, s, seq, total, to, nil, flags)
	return uint64(n), err
}

// Recvfrom implements recvfrom(2).
func Recvfrom(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	fd, buf, length, flags, addr, lenAddr := argInt(a[0]), a[1], a[2], int(argInt(a[3])), a[4], a[5]
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	seq, total, err := singleSeq(buf, length)
	if err != nil {
		return 0, err
	}
	if addr != 0 {
		var lb [4]byte
		if err := copyIn(t, lenAddr, lb[:]); err != nil {
			return 0, err
		}
		if int32(le.Uint32(lb[:])) < 0 {
			return 0, unix.EINVAL
		}
	}
	r, err := recvmsg(t, f, s, seq, total, flags&^unix.MSG_CMSG_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	r.control.Release(ctx(t))
	if r.from != nil {
		if err := copyOutAddr(t, r.from, addr, lenAddr); err != nil {
			return 0, err
		}
	} else if addr != 0 {
		var lb [4]byte
		copyOut(t, lenAddr, lb[:])
	}
	return uint64(r.n), nil
}

// sendOne sends the message described by the msghdr at addr.
func sendOne(t *kernel.Task, f *vfs.File, s socket.Socket, addr uint64, flags int) (int, error) {
	m, err := readMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	seq, total, err := m.iovecs(t)
	if err != nil {
		return 0, err
	}
	var to []byte
	if m.name != 0 && m.namelen != 0 {
		if to, err = copyInAddr(t, m.name, m.namelen); err != nil {
			return 0, err
		}
	}
	var cm *socket.ControlMessages
	if m.controllen > 0 {
		if m.controllen > maxControl {
			return 0, unix.ENOBUFS
		}
		b := make([]byte, m.controllen)
		if err := copyIn(t, m.control, b); err != nil {
			return 0, err
		}
		if cm, err = parseControl(t, s, caller(t), b); err != nil {
			return 0, err
		}
	}
	return sendmsg(t, f, s, seq, total, to, cm, flags)
}

// recvOne receives into the msghdr at addr, updating it.
func recvOne(t *kernel.Task, f *vfs.File, s socket.Socket, addr uint64, flags int) (int, error) {
	m, err := readMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	seq, total, err := m.iovecs(t)
	if err != nil {
		return 0, err
	}
	if m.name != 0 && m.namelen < 0 {
		return 0, unix.EINVAL
	}
	room := int(min(m.controllen, maxControl))
	if m.control == 0 {
		room = 0
	}
	r, err := recvmsg(t, f, s, seq, total, flags, room)
	if err != nil {
		return 0, err
	}
	// msg_name.
	namelen := uint32(0)
	if m.name != 0 && r.from != nil {
		if err := copyOut(t, m.name, r.from[:min(int(m.namelen), len(r.from))]); err != nil {
			r.control.Release(ctx(t))
			return 0, err
		}
		namelen = uint32(len(r.from))
	}
	ctl, trunc := putControl(t, &r.control, room, flags&unix.MSG_CMSG_CLOEXEC != 0)
	if trunc {
		r.flags |= unix.MSG_CTRUNC
	}
	if len(ctl) > 0 {
		if err := copyOut(t, m.control, ctl); err != nil {
			return 0, err
		}
	}
	var b [8]byte
	le.PutUint32(b[:], namelen)
	if m.name != 0 {
		if err := copyOut(t, addr+8, b[:4]); err != nil {
			return 0, err
		}
	}
	le.PutUint64(b[:], uint64(len(ctl)))
	if err := copyOut(t, addr+40, b[:]); err != nil {
		return 0, err
	}
	// Like Linux, msg_flags starts as the caller's MSG_CMSG_CLOEXEC.
	le.PutUint32(b[:], uint32(r.flags|flags&unix.MSG_CMSG_CLOEXEC))
	if err := copyOut(t, addr+48, b[:4]); err != nil {
		return 0, err
	}
	return r.n, nil
}

// checkMsgFlags refuses MSG_CMSG_COMPAT in the native msghdr calls
// (sendmsg, recvmsg and their batch forms), before the descriptor is
// looked at, as Linux does.
func checkMsgFlags(flags uint64) error {
	if uint32(flags)&linux.MSG_CMSG_COMPAT != 0 {
		return unix.EINVAL
	}
	return nil
}

// Sendmsg implements sendmsg(2).
func Sendmsg(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return oneMsg(t, a, sendOne)
}

// Recvmsg implements recvmsg(2).
func Recvmsg(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return oneMsg(t, a, recvOne)
}

// oneMsg is sendmsg/recvmsg: the flags checked, the socket looked up, one
// message moved by op.
func oneMsg(t *kernel.Task, a *kernel.SyscallArgs, op func(*kernel.Task, *vfs.File, socket.Socket, uint64, int) (int, error)) (uint64, error) {
	if err := checkMsgFlags(a[2]); err != nil {
		return 0, err
	}
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	n, err := op(t, f, s, a[1], int(argInt(a[2])))
	return uint64(n), err
}

// Sendmmsg implements sendmmsg(2).
func Sendmmsg(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if err := checkMsgFlags(a[3]); err != nil {
		return 0, err
	}
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	vec, vlen, flags := a[1], min(uint64(uint32(a[2])), iovMax), int(argInt(a[3]))
	i := uint64(0)
	for ; i < vlen; i++ {
		addr := vec + i*mmsghdrSize
		n, err := sendOne(t, f, s, addr, flags)
		if err != nil {
			if i > 0 {
				break
			}
			return 0, err
		}
		var b [4]byte
		le.PutUint32(b[:], uint32(n))
		if err := copyOut(t, addr+msghdrSize, b[:]); err != nil {
			if i > 0 {
				break
			}
			return 0, err
		}
	}
	return i, nil
}

// Recvmmsg implements recvmmsg(2). The timeout is checked for validity;
// MSG_WAITFORONE makes the calls after the first non-blocking.
func Recvmmsg(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if err := checkMsgFlags(a[3]); err != nil {
		return 0, err
	}
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	vec, vlen, flags, timeout := a[1], min(uint64(uint32(a[2])), iovMax), int(argInt(a[3])), a[4]
	if timeout != 0 {
		var ts [16]byte
		if err := copyIn(t, timeout, ts[:]); err != nil {
			return 0, err
		}
		if int64(le.Uint64(ts[0:])) < 0 || le.Uint64(ts[8:]) >= 1e9 {
			return 0, unix.EINVAL
		}
	}
	i := uint64(0)
	for ; i < vlen; i++ {
		addr := vec + i*mmsghdrSize
		n, err := recvOne(t, f, s, addr, flags)
		if err != nil {
			if i > 0 {
				break
			}
			return 0, err
		}
		var b [4]byte
		le.PutUint32(b[:], uint32(n))
		if err := copyOut(t, addr+msghdrSize, b[:]); err != nil {
			if i > 0 {
				break
			}
			return 0, err
		}
		if flags&unix.MSG_WAITFORONE != 0 {
			flags |= unix.MSG_DONTWAIT
		}
	}
	return i, nil
}
