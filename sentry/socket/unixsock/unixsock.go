// Package unixsock implements AF_UNIX sockets (SOCK_STREAM, SOCK_DGRAM,
// SOCK_SEQPACKET) entirely in the sentry: socketpair, pathname and abstract
// addresses, listen/accept/connect with a backlog, shutdown, SCM_RIGHTS
// (vfs.Files passed between guest processes), SCM_CREDENTIALS with
// SO_PASSCRED, SO_PEERCRED and readiness for poll/epoll.
//
// All socket state is protected by one package lock (mu): operations touch
// two sockets (a sender and its peer's receive queue, a connector and a
// listener) and a single lock keeps them simple and deadlock-free. Waiter
// queues are notified, and file references dropped, after mu is released
// (a dropped file may itself be a unix socket).
package unixsock

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Limits.
const (
	defaultBuf  = 212992 // net.core.{r,w}mem_default
	minBuf      = 4608   // SOCK_MIN_SNDBUF-ish
	maxBuf      = 4 << 20
	maxDgramQ   = 512 // net.unix.max_dgram_qlen
	maxBacklog  = 4096
	pathMax     = 108 // sizeof(sun_path)
	sockaddrLen = 2 + pathMax
)

const (
	stateUnconnected = iota
	stateListening
	stateConnected
)

var (
	mu       sync.Mutex
	abstract = map[abstractKey]*Socket{}
	paths    = map[socket.PathKey]*Socket{}
)

// abstractKey names an abstract socket: like Linux, each socket type has
// its own abstract namespace.
type abstractKey struct {
	stype int
	name  string
}

// message is one datagram/record, or one write of a stream.
type message struct {
	data   []byte
	from   string // sender's bound name
	rights []*vfs.File
	creds  socket.Creds
}

// Socket is an AF_UNIX socket.
type Socket struct {
	socket.Base
	v     *vfs.VFS
	stype int

	// Everything below is protected by mu.
	state     int
	everConn  bool
	peer      *Socket
	recvQ     []*message
	recvBytes int
	rcvShut   bool // no more data will arrive (own SHUT_RD, peer SHUT_WR/close)
	sndShut   bool // no more data may be sent (own SHUT_WR, peer SHUT_RD/close)
	closed    bool
	name      string // bound name: a path or "\x00" + abstract name
	key       *socket.PathKey
	binding   bool
	backlog   int
	acceptQ   []*Socket
	waiters   map[*Socket]struct{} // senders/connectors waiting for room here
	passcred  bool
	peerCred  *socket.Creds
	listenCrd socket.Creds
	sndbuf    int
	rcvbuf    int
	linger    [8]byte
	soErr     unix.Errno
	opts      map[int]int // other SOL_SOCKET ints accepted and stored
	peekOff   int         // SO_PEEK_OFF; -1: off
	lastRead  message     // sender of the last stream data read (Unread)
}

// notes collects notifications to deliver after mu is released.
type notes struct {
	n     []note
	files []*vfs.File
}

type note struct {
	s *Socket
	m waiter.EventMask
}

func (ns *notes) add(s *Socket, m waiter.EventMask) {
	if s != nil {
		ns.n = append(ns.n, note{s, m})
	}
}

// unlock releases mu and delivers the notifications.
func (ns *notes) unlock() {
	mu.Unlock()
	for _, n := range ns.n {
		n.s.Queue.Notify(n.m)
	}
	for _, f := range ns.files {
		f.DecRef(socket.BgCtx)
	}
}

const (
	evIn  = waiter.EventIn | waiter.EventRdNorm
	evOut = waiter.EventOut | waiter.EventWrNorm
	evAll = waiter.AllEvents
)

func newSocket(v *vfs.VFS, stype int) *Socket {
	return &Socket{v: v, stype: stype, sndbuf: defaultBuf, rcvbuf: defaultBuf, peekOff: -1}
}

// New returns an unconnected socket of type stype (SOCK_STREAM, SOCK_DGRAM,
// SOCK_SEQPACKET).
func New(v *vfs.VFS, stype int) *Socket { return newSocket(v, stype) }

// NewPair returns two connected sockets (socketpair(2)); both have creds as
// their peer credentials.
func NewPair(v *vfs.VFS, stype int, creds socket.Creds) (*Socket, *Socket) {
	a, b := newSocket(v, stype), newSocket(v, stype)
	a.peer, b.peer = b, a
	a.state, b.state = stateConnected, stateConnected
	a.everConn, b.everConn = true, true
	a.peerCred, b.peerCred = &creds, &creds
	return a, b
}

// Info implements socket.Socket.
func (s *Socket) Info() (int, int, int) { return unix.AF_UNIX, s.stype, 0 }

func (s *Socket) connOriented() bool { return s.stype != unix.SOCK_DGRAM }

// parseAddr decodes a sockaddr_un into a name ("" for an autobind request,
// a path, or "\x00"+abstract name).
func parseAddr(addr []byte) (string, error) {
	if len(addr) < 2 || len(addr) > sockaddrLen {
		return "", unix.EINVAL
	}
	if fam := binary.LittleEndian.Uint16(addr); fam != unix.AF_UNIX {
		return "", unix.EINVAL
	}
	p := addr[2:]
	if len(p) == 0 {
		return "", nil
	}
	if p[0] == 0 {
		return string(p), nil
	}
	for i, c := range p {
		if c == 0 {
			p = p[:i]
			break
		}
	}
	return string(p), nil
}

// encodeAddr encodes a bound name as a sockaddr_un (just the family when
// unbound; a path has its NUL).
func encodeAddr(name string) []byte {
	b := make([]byte, 2, 2+len(name)+1)
	binary.LittleEndian.PutUint16(b, unix.AF_UNIX)
	b = append(b, name...)
	if name != "" && name[0] != 0 {
		b = append(b, 0)
	}
	return b
}

// Bind implements socket.Socket.
func (s *Socket) Bind(c *socket.Caller, addr []byte) error {
	name, err := parseAddr(addr)
	if err != nil {
		return err
	}
	mu.Lock()
	if name == "" && !s.binding {
		// Autobinding a bound socket succeeds and changes nothing.
		err := s.autobindLocked()
		mu.Unlock()
		return err
	}
	if s.name != "" || s.binding {
		mu.Unlock()
		return unix.EINVAL
	}
	if name[0] == 0 {
		defer mu.Unlock()
		k := abstractKey{s.stype, name}
		if _, ok := abstract[k]; ok {
			return unix.EADDRINUSE
		}
		abstract[k] = s
		s.name = name
		return nil
	}
	s.binding = true
	mu.Unlock()
	var key socket.PathKey
	if c.Paths == nil {
		err = unix.EOPNOTSUPP
	} else {
		key, err = c.Paths.MknodSocket(name)
	}
	mu.Lock()
	defer mu.Unlock()
	s.binding = false
	if err != nil {
		return err
	}
	if s.closed {
		return unix.EBADF
	}
	s.name = name
	s.key = &key
	paths[key] = s
	return nil
}

// autobindLocked binds an unbound socket to a random abstract name of 5 hex
// digits.
func (s *Socket) autobindLocked() error {
	if s.name != "" {
		return nil
	}
	for i := 0; i < 0x100000; i++ {
		k := abstractKey{s.stype, fmt.Sprintf("\x00%05x", rand.IntN(0x100000))}
		if _, ok := abstract[k]; !ok {
			abstract[k] = s
			s.name = k.name
			return nil
		}
	}
	return unix.ENOSPC
}

// autobindForCreds gives a socket with SO_PASSCRED a name before it
// connects or sends, as Linux does, so that receivers can tell senders
// apart.
func (s *Socket) autobindForCreds() error {
	mu.Lock()
	defer mu.Unlock()
	if !s.passcred || s.binding {
		return nil
	}
	return s.autobindLocked()
}

// lookup finds the socket of type stype bound to name.
func lookup(c *socket.Caller, stype int, name string) (*Socket, error) {
	if name == "" {
		return nil, unix.EINVAL
	}
	if name[0] == 0 {
		mu.Lock()
		t := abstract[abstractKey{stype, name}]
		mu.Unlock()
		if t == nil {
			return nil, unix.ECONNREFUSED
		}
		return t, nil
	}
	if c.Paths == nil {
		return nil, unix.ECONNREFUSED
	}
	key, err := c.Paths.LookupSocket(name)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	t := paths[key]
	mu.Unlock()
	if t == nil {
		return nil, unix.ECONNREFUSED
	}
	return t, nil
}

// Listen implements socket.Socket.
func (s *Socket) Listen(c *socket.Caller, backlog int) error {
	if !s.connOriented() {
		return unix.EOPNOTSUPP
	}
	mu.Lock()
	defer mu.Unlock()
	if s.state == stateConnected {
		return unix.EINVAL
	}
	if s.name == "" {
		return unix.EINVAL
	}
	if backlog < 0 || backlog > maxBacklog {
		backlog = maxBacklog
	}
	s.backlog = backlog
	s.state = stateListening
	s.listenCrd = c.Creds
	return nil
}

// Accept implements socket.Socket.
func (s *Socket) Accept(c *socket.Caller, fileFlags uint32) (*vfs.File, []byte, error) {
	if !s.connOriented() {
		return nil, nil, unix.EOPNOTSUPP
	}
	var ns notes
	mu.Lock()
	if s.state != stateListening {
		mu.Unlock()
		return nil, nil, unix.EINVAL
	}
	if len(s.acceptQ) == 0 {
		mu.Unlock()
		return nil, nil, unix.EAGAIN
	}
	srv := s.acceptQ[0]
	s.acceptQ = s.acceptQ[1:]
	s.wakeWaitersLocked(&ns)
	var peerName string
	if srv.peer != nil {
		peerName = srv.peer.name
	}
	ns.unlock()
	return socket.NewFile(s.v, c.Ctx, srv, fileFlags), encodeAddr(peerName), nil
}

// wakeWaitersLocked notifies the sockets waiting for room in s.
func (s *Socket) wakeWaitersLocked(ns *notes) {
	for w := range s.waiters {
		ns.add(w, evOut)
	}
	s.waiters = nil
}

func (s *Socket) addWaiterLocked(w *Socket) {
	if s.waiters == nil {
		s.waiters = map[*Socket]struct{}{}
	}
	s.waiters[w] = struct{}{}
}

// Connect implements socket.Socket.
func (s *Socket) Connect(c *socket.Caller, addr []byte) error {
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == unix.AF_UNSPEC && !s.connOriented() {
		mu.Lock()
		s.peer = nil
		mu.Unlock()
		return nil
	}
	name, err := parseAddr(addr)
	if err != nil {
		return err
	}
	if err := s.autobindForCreds(); err != nil {
		return err
	}
	t, err := lookup(c, s.stype, name)
	if err != nil {
		return err
	}
	var ns notes
	mu.Lock()
	defer ns.unlock()
	if t.closed {
		return unix.ECONNREFUSED
	}
	if t.stype != s.stype {
		return unix.EPROTOTYPE
	}
	if !s.connOriented() {
		s.peer = t
		s.everConn = true
		return nil
	}
	switch s.state {
	case stateListening:
		return unix.EINVAL
	case stateConnected:
		return unix.EISCONN
	}
	if t.state != stateListening || t.rcvShut {
		// Like Linux, a listener shut down for reading refuses.
		return unix.ECONNREFUSED
	}
	if len(t.acceptQ) > t.backlog {
		t.addWaiterLocked(s)
		return unix.EAGAIN
	}
	srv := newSocket(s.v, s.stype)
	srv.state, s.state = stateConnected, stateConnected
	srv.everConn, s.everConn = true, true
	srv.peer, s.peer = s, srv
	srv.name = t.name
	srv.passcred = t.passcred
	cc, lc := c.Creds, t.listenCrd
	srv.peerCred, s.peerCred = &cc, &lc
	t.acceptQ = append(t.acceptQ, srv)
	ns.add(t, evIn)
	ns.add(s, evOut)
	return nil
}

// FinishConnect implements socket.Socket (AF_UNIX connects complete at
// once).
func (s *Socket) FinishConnect() error { return nil }

// Shutdown implements socket.Socket.
func (s *Socket) Shutdown(c *socket.Caller, how int) error {
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return unix.EINVAL
	}
	var ns notes
	mu.Lock()
	defer ns.unlock()
	// Unlike TCP, Linux's AF_UNIX shutdown needs no connection: it only
	// records the shutdown (and passes it to a connected peer).
	peer := s.peer
	if !s.connOriented() || s.state != stateConnected {
		peer = nil
	}
	if how == unix.SHUT_RD || how == unix.SHUT_RDWR {
		s.rcvShut = true
		if peer != nil {
			peer.sndShut = true
		}
	}
	if how == unix.SHUT_WR || how == unix.SHUT_RDWR {
		s.sndShut = true
		if peer != nil {
			peer.rcvShut = true
		}
	}
	ns.add(s, evAll)
	ns.add(peer, evAll)
	return nil
}

// SockName implements socket.Socket.
func (s *Socket) SockName() ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	return encodeAddr(s.name), nil
}

// PeerName implements socket.Socket.
func (s *Socket) PeerName() ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	if s.peer == nil || (s.connOriented() && s.state != stateConnected) {
		return nil, unix.ENOTCONN
	}
	return encodeAddr(s.peer.name), nil
}

// Read implements vfs.StreamFile.
func (s *Socket) Read(ctx vfs.Context, dst []byte) (int, error) {
	r, err := s.RecvMsg(socket.ContextCaller(ctx), dst, 0, 0)
	r.Control.Release(ctx)
	return r.N, err
}

// Write implements vfs.StreamFile.
func (s *Socket) Write(ctx vfs.Context, src []byte) (int, error) {
	return s.SendMsg(socket.ContextCaller(ctx), src, nil, nil, 0)
}

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(c *socket.Caller, src []byte, to []byte, cm *socket.ControlMessages, flags int) (int, error) {
	if flags&unix.MSG_OOB != 0 && s.stype != unix.SOCK_STREAM {
		return 0, unix.EOPNOTSUPP // no urgent data in records
	}
	var target *Socket
	if to != nil {
		if s.connOriented() {
			mu.Lock()
			st := s.state
			mu.Unlock()
			if s.stype == unix.SOCK_STREAM {
				if st == stateConnected {
					return 0, unix.EISCONN
				}
				return 0, unix.EOPNOTSUPP
			}
		} else {
			name, err := parseAddr(to)
			if err != nil {
				return 0, err
			}
			if target, err = lookup(c, s.stype, name); err != nil {
				return 0, err
			}
		}
	}
	if !s.connOriented() {
		if err := s.autobindForCreds(); err != nil {
			return 0, err
		}
	}
	creds := c.RealCreds
	if cm != nil && cm.Creds != nil {
		creds = *cm.Creds
	}
	var rights []*vfs.File
	if cm != nil {
		rights = cm.Rights
	}
	var ns notes
	mu.Lock()
	defer ns.unlock()
	if s.connOriented() {
		if s.state != stateConnected {
			if s.everConn {
				return 0, unix.EPIPE
			}
			return 0, unix.ENOTCONN
		}
		peer := s.peer
		if s.sndShut || peer == nil || peer.closed {
			return 0, unix.EPIPE
		}
		room := s.sndbuf - peer.recvBytes
		n := len(src)
		if s.stype == unix.SOCK_SEQPACKET {
			if n > s.sndbuf {
				return 0, unix.EMSGSIZE
			}
			if room < n || (n == 0 && room <= 0) {
				peer.addWaiterLocked(s)
				return 0, unix.EAGAIN
			}
		} else {
			if n == 0 {
				return 0, nil
			}
			if room <= 0 {
				peer.addWaiterLocked(s)
				return 0, unix.EAGAIN
			}
			n = min(n, room)
		}
		peer.recvQ = append(peer.recvQ, &message{data: append([]byte(nil), src[:n]...), from: s.name, rights: rights, creds: creds})
		peer.recvBytes += n
		if cm != nil {
			cm.Rights = nil
		}
		ns.add(peer, evIn)
		return n, nil
	}
	// Datagrams.
	if target == nil {
		target = s.peer
		if target == nil {
			return 0, unix.ENOTCONN
		}
	}
	if s.sndShut {
		return 0, unix.EPIPE
	}
	if target.closed {
		if target == s.peer {
			s.peer = nil
		}
		return 0, unix.ECONNREFUSED
	}
	if target.stype != s.stype {
		return 0, unix.EPROTOTYPE
	}
	if target.peer != nil && target.peer != s && target != s {
		return 0, unix.EPERM
	}
	if target.rcvShut {
		return 0, unix.EPIPE
	}
	if len(src) > s.sndbuf-32 {
		return 0, unix.EMSGSIZE
	}
	if len(target.recvQ) >= maxDgramQ || target.recvBytes+len(src) > maxBuf {
		target.addWaiterLocked(s)
		return 0, unix.EAGAIN
	}
	target.recvQ = append(target.recvQ, &message{data: append([]byte(nil), src...), from: s.name, rights: rights, creds: creds})
	target.recvBytes += len(src)
	if cm != nil {
		cm.Rights = nil
	}
	ns.add(target, evIn)
	return len(src), nil
}

// RecvMsg implements socket.Socket. MSG_PEEK leaves the data queued (and
// duplicates passed files), starting at SO_PEEK_OFF when it is set;
// MSG_TRUNC makes datagram receives return the full length. MSG_WAITALL is
// the caller's (it loops).
func (s *Socket) RecvMsg(c *socket.Caller, dst []byte, flags int, controlLen int) (socket.RecvResult, error) {
	var r socket.RecvResult
	if flags&unix.MSG_OOB != 0 && s.stype != unix.SOCK_STREAM {
		return r, unix.EOPNOTSUPP
	}
	peek := flags&unix.MSG_PEEK != 0
	var ns notes
	mu.Lock()
	defer ns.unlock()
	if s.connOriented() && s.state != stateConnected {
		if s.state == stateListening || !s.everConn {
			return r, unix.EINVAL
		}
	}
	idx, off := 0, 0
	if peek && s.peekOff > 0 {
		idx, off = s.peekStartLocked()
	}
	if idx == len(s.recvQ) {
		if s.soErr != 0 {
			err := s.soErr
			s.soErr = 0
			return r, err
		}
		if s.rcvShut || (s.connOriented() && s.state == stateConnected && (s.peer == nil || s.peer.closed)) {
			return r, nil
		}
		return r, unix.EAGAIN
	}
	first := s.recvQ[idx]
	if first.from != "" {
		// An unbound sender has no address at all (msg_namelen 0).
		r.From = encodeAddr(first.from)
	}
	if s.passcred {
		cr := first.creds
		r.Control.Creds = &cr
	}
	var consumed int
	if s.stype == unix.SOCK_STREAM {
		consumed = s.recvStreamLocked(&r, dst, idx, off, peek)
	} else {
		consumed = s.recvRecordLocked(&r, dst, idx, off, peek)
	}
	if peek {
		if s.peekOff >= 0 {
			s.peekOff += r.N
		}
		return r, nil
	}
	if s.peekOff >= 0 {
		s.peekOff = max(s.peekOff-consumed, 0)
	}
	s.recvBytes -= consumed
	if len(s.recvQ) == 0 {
		s.recvQ = nil
	}
	s.wakeWaitersLocked(&ns)
	return r, nil
}

// peekStartLocked finds where a peek at SO_PEEK_OFF starts: the index of
// the message in recvQ (len(recvQ) if the offset is past the data) and the
// offset in it. Datagrams are skipped whole, as Linux does.
func (s *Socket) peekStartLocked() (idx, off int) {
	off = s.peekOff
	for idx < len(s.recvQ) && off >= len(s.recvQ[idx].data) {
		if s.stype != unix.SOCK_STREAM && off == 0 {
			break // an empty datagram at the offset is the next one
		}
		off -= len(s.recvQ[idx].data)
		idx++
	}
	return idx, off
}

// takeRights moves (or, peeking, duplicates) m's passed files into r.
func takeRights(r *socket.RecvResult, m *message, peek bool) {
	if len(m.rights) == 0 {
		return
	}
	if peek {
		for _, f := range m.rights {
			f.IncRef()
		}
	}
	r.Control.Rights = append(r.Control.Rights, m.rights...)
	if !peek {
		m.rights = nil
	}
}

// recvStreamLocked copies stream data from recvQ[idx] at offset off into
// dst and returns the bytes consumed. Like Linux, data from different
// senders is not merged (with SO_PASSCRED), and a message carrying rights
// ends the read.
func (s *Socket) recvStreamLocked(r *socket.RecvResult, dst []byte, idx, off int, peek bool) int {
	first := s.recvQ[idx]
	consumed := 0
	i := idx
	for i < len(s.recvQ) && r.N < len(dst) {
		m := s.recvQ[i]
		if r.N > 0 && s.passcred && m.creds != first.creds {
			break
		}
		n := copy(dst[r.N:], m.data[off:])
		off = 0
		r.N += n
		hadRights := len(m.rights) > 0
		takeRights(r, m, peek)
		if !peek {
			s.lastRead = message{from: m.from, creds: m.creds}
			m.data = m.data[n:]
			consumed += n
			if len(m.data) == 0 {
				i++
			}
		} else {
			i++
		}
		if hadRights {
			break
		}
	}
	if !peek {
		s.recvQ = s.recvQ[i:]
	}
	r.MsgLen = r.N
	return consumed
}

// recvRecordLocked receives the datagram or record recvQ[idx] (from offset
// off when peeking) into dst and returns the bytes consumed.
func (s *Socket) recvRecordLocked(r *socket.RecvResult, dst []byte, idx, off int, peek bool) int {
	m := s.recvQ[idx]
	r.N = copy(dst, m.data[off:])
	r.MsgLen = len(m.data) - off
	if r.N < r.MsgLen {
		r.Flags |= unix.MSG_TRUNC
	}
	takeRights(r, m, peek)
	if peek {
		return 0
	}
	s.recvQ = s.recvQ[1:]
	return len(m.data)
}

// Unread implements vfs.Unreader: stream data a read could not copy to the
// caller goes back to the front of the queue (datagrams are dropped, as
// Linux does).
func (s *Socket) Unread(_ vfs.Context, b []byte) {
	if s.stype != unix.SOCK_STREAM || len(b) == 0 {
		return
	}
	var ns notes
	mu.Lock()
	m := s.lastRead
	m.data = append([]byte(nil), b...)
	s.recvQ = append([]*message{&m}, s.recvQ...)
	s.recvBytes += len(b)
	ns.add(s, evIn)
	ns.unlock()
}

// Readiness implements vfs.Waitable.
func (s *Socket) Readiness(mask waiter.EventMask) waiter.EventMask {
	mu.Lock()
	defer mu.Unlock()
	var r waiter.EventMask
	if s.state == stateListening {
		if len(s.acceptQ) > 0 {
			r |= evIn
		}
		return r & mask
	}
	if len(s.recvQ) > 0 || s.soErr != 0 {
		r |= evIn
	}
	if s.soErr != 0 {
		r |= waiter.EventErr
	}
	peerGone := s.connOriented() && s.state == stateConnected && (s.peer == nil || s.peer.closed)
	rcvShut := s.rcvShut || peerGone
	sndShut := s.sndShut || peerGone
	if rcvShut {
		r |= evIn | waiter.EventRdHUp
	}
	if rcvShut && sndShut {
		r |= waiter.EventHUp
	}
	if s.connOriented() {
		switch {
		case s.state != stateConnected:
			if s.stype == unix.SOCK_STREAM {
				r |= waiter.EventHUp
			}
			r |= evOut
		case sndShut:
			r |= evOut
		case s.peer.recvBytes < s.sndbuf:
			r |= evOut
		}
	} else {
		p := s.peer
		if p == nil || p.closed || (len(p.recvQ) < maxDgramQ && p.recvBytes < maxBuf) {
			r |= evOut
		}
	}
	return r & mask
}

// Release implements vfs.FileImpl: the socket is closed.
func (s *Socket) Release(ctx vfs.Context) {
	var ns notes
	mu.Lock()
	s.closeLocked(&ns)
	ns.unlock()
}

func (s *Socket) closeLocked(ns *notes) {
	if s.closed {
		return
	}
	s.closed = true
	if s.name != "" {
		if s.name[0] == 0 {
			if k := (abstractKey{s.stype, s.name}); abstract[k] == s {
				delete(abstract, k)
			}
		} else if s.key != nil && paths[*s.key] == s {
			delete(paths, *s.key)
		}
	}
	for _, p := range s.acceptQ {
		p.closeLocked(ns)
	}
	s.acceptQ = nil
	if p := s.peer; p != nil && s.connOriented() {
		p.rcvShut, p.sndShut = true, true
		if len(s.recvQ) > 0 {
			p.soErr = unix.ECONNRESET
		}
		ns.add(p, evAll)
		p.wakeWaitersLocked(ns)
	}
	for _, m := range s.recvQ {
		ns.files = append(ns.files, m.rights...)
	}
	s.recvQ = nil
	s.recvBytes = 0
	s.wakeWaitersLocked(ns)
	ns.add(s, evAll)
}

// Ioctl implements vfs.Ioctler: FIONREAD (SIOCINQ), SIOCOUTQ, and the
// interface queries every socket answers.
func (s *Socket) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.SIOCINQ:
		mu.Lock()
		n := s.recvBytes
		if s.stype != unix.SOCK_STREAM {
			n = 0
			if len(s.recvQ) > 0 {
				n = len(s.recvQ[0].data)
			}
		}
		if s.state == stateListening {
			n = 0
		}
		mu.Unlock()
		return 0, vfs.CopyOut(ctx, arg, socket.Int32(n))
	case unix.SIOCOUTQ:
		mu.Lock()
		n := 0
		if s.connOriented() && s.peer != nil {
			n = s.peer.recvBytes
		}
		mu.Unlock()
		return 0, vfs.CopyOut(ctx, arg, socket.Int32(n))
	}
	return socket.InterfaceIoctl(ctx, cmd, arg)
}

// GetSockOpt implements socket.Socket.
func (s *Socket) GetSockOpt(c *socket.Caller, level, name, optLen int) ([]byte, error) {
	if out, ok, err := s.TimeoOpt(level, name, nil); ok {
		return out, err
	}
	if level != unix.SOL_SOCKET {
		return nil, unix.EOPNOTSUPP
	}
	mu.Lock()
	defer mu.Unlock()
	switch name {
	case unix.SO_TYPE:
		return socket.Int32(s.stype), nil
	case unix.SO_DOMAIN:
		return socket.Int32(unix.AF_UNIX), nil
	case unix.SO_PROTOCOL:
		return socket.Int32(0), nil
	case unix.SO_ERROR:
		e := s.soErr
		s.soErr = 0
		return socket.Int32(int(e)), nil
	case unix.SO_PASSCRED:
		return socket.Int32(b2i(s.passcred)), nil
	case unix.SO_PEERCRED:
		if s.peerCred == nil {
			return socket.NoPeerCreds.Bytes(), nil
		}
		return s.peerCred.Bytes(), nil
	case unix.SO_SNDBUF:
		return socket.Int32(s.sndbuf), nil
	case unix.SO_RCVBUF:
		return socket.Int32(s.rcvbuf), nil
	case unix.SO_ACCEPTCONN:
		return socket.Int32(b2i(s.state == stateListening)), nil
	case unix.SO_PEEK_OFF:
		return socket.Int32(s.peekOff), nil
	case unix.SO_LINGER:
		return append([]byte(nil), s.linger[:]...), nil
	case unix.SO_REUSEADDR, unix.SO_REUSEPORT, unix.SO_KEEPALIVE, unix.SO_BROADCAST, unix.SO_PASSSEC, unix.SO_OOBINLINE, unix.SO_DONTROUTE, unix.SO_PRIORITY, unix.SO_SNDLOWAT, unix.SO_RCVLOWAT:
		v, ok := s.opts[name]
		if !ok && name == unix.SO_RCVLOWAT || !ok && name == unix.SO_SNDLOWAT {
			v = 1
		}
		return socket.Int32(v), nil
	}
	return nil, unix.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket.
func (s *Socket) SetSockOpt(c *socket.Caller, level, name int, val []byte) error {
	if _, ok, err := s.TimeoOpt(level, name, val); ok {
		return err
	}
	if level != unix.SOL_SOCKET {
		return unix.EOPNOTSUPP
	}
	if name == unix.SO_LINGER {
		if len(val) < 8 {
			return unix.EINVAL
		}
		mu.Lock()
		copy(s.linger[:], val)
		mu.Unlock()
		return nil
	}
	v, err := socket.GetInt32(val)
	if err != nil {
		return err
	}
	var ns notes
	mu.Lock()
	defer ns.unlock()
	switch name {
	case unix.SO_PASSCRED:
		s.passcred = v != 0
	case unix.SO_PEEK_OFF:
		s.peekOff = v // any negative value turns it off
	case unix.SO_SNDBUF, unix.SO_SNDBUFFORCE:
		s.sndbuf = clampBuf(v)
		ns.add(s, evOut)
	case unix.SO_RCVBUF, unix.SO_RCVBUFFORCE:
		s.rcvbuf = clampBuf(v)
	case unix.SO_REUSEADDR, unix.SO_REUSEPORT, unix.SO_KEEPALIVE, unix.SO_BROADCAST, unix.SO_PASSSEC, unix.SO_OOBINLINE, unix.SO_DONTROUTE, unix.SO_PRIORITY, unix.SO_SNDLOWAT, unix.SO_RCVLOWAT:
		if s.opts == nil {
			s.opts = map[int]int{}
		}
		if name != unix.SO_PRIORITY && name != unix.SO_RCVLOWAT && name != unix.SO_SNDLOWAT && v != 0 {
			v = 1
		}
		s.opts[name] = v
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// clampBuf applies Linux's doubling and limits to SO_SNDBUF/SO_RCVBUF.
func clampBuf(v int) int {
	if v < 0 || v > maxBuf/2 {
		v = maxBuf / 2
	}
	return max(2*v, minBuf)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
