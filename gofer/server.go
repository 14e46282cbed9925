//go:build linux

package gofer

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

// Mount is one host directory served by the gofer. Index 0 of the mounts
// given to Serve is the sandbox root; the others are volumes.
type Mount struct {
	HostPath string
	ReadOnly bool
}

// maxWorkers bounds the requests served at once (and so the OS threads
// blocked in the server); more requests wait in the socket buffer.
const maxWorkers = 64

// Server serves a fixed set of mounts. One Server may serve several
// connections; fids are shared between them.
type Server struct {
	mounts     []serverMount
	fids       fidTable
	procSelfFD int // /proc/self/fd, to reopen O_PATH FDs
	ownProcFD  bool
}

type serverMount struct {
	rootFD   int // O_PATH|O_DIRECTORY
	readOnly bool
}

// procSelfFDForServer is set by Setup, which opens /proc/self/fd on a
// private procfs before that procfs is detached; servers created after
// Setup reuse it because there is no /proc to open any more.
var procSelfFDForServer = -1

// NewServer opens the mount roots. HostPath is trusted configuration, so it
// is resolved normally; everything below it is reached by single names.
func NewServer(mounts []Mount) (*Server, error) {
	if len(mounts) == 0 {
		return nil, errors.New("gofer: no mounts to serve")
	}
	s := &Server{procSelfFD: procSelfFDForServer}
	s.fids.m = make(map[uint64]*fidEntry)
	if s.procSelfFD < 0 {
		fd, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("gofer: open /proc/self/fd: %w", err)
		}
		s.procSelfFD, s.ownProcFD = fd, true
	}
	for i, m := range mounts {
		fd, err := unix.Open(m.HostPath, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("gofer: open mount %d (%q): %w", i, m.HostPath, err)
		}
		s.mounts = append(s.mounts, serverMount{rootFD: fd, readOnly: m.ReadOnly})
	}
	return s, nil
}

// Close releases every fid and the mount roots. FDs already handed to the
// client stay valid in the client.
func (s *Server) Close() error {
	s.fids.closeAll()
	for _, m := range s.mounts {
		unix.Close(m.rootFD)
	}
	s.mounts = nil
	if s.ownProcFD {
		unix.Close(s.procSelfFD)
		s.ownProcFD = false
	}
	return nil
}

// ServeFD serves mounts on the connected SOCK_SEQPACKET socket fd until the
// peer closes it. It does not close fd.
func ServeFD(fd int, mounts []Mount) error {
	s, err := NewServer(mounts)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.ServeFD(fd)
}

// Serve is ServeFD for a connection object such as a *net.UnixConn of type
// "unixpacket". Serve takes the connection over: it switches its socket to
// blocking mode, so the caller must not use conn any more except to Close it.
func Serve(conn syscall.Conn, mounts []Mount) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("gofer: serve: %w", err)
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(cfd uintptr) {
		fd, dupErr = unix.FcntlInt(cfd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return fmt.Errorf("gofer: serve: %w", err)
	}
	if dupErr != nil {
		return fmt.Errorf("gofer: serve: dup connection: %w", dupErr)
	}
	defer unix.Close(fd)
	// Blocking I/O: workers park in recvmsg instead of the netpoller,
	// which keeps the round trip short and the seccomp filter small.
	if err := unix.SetNonblock(fd, false); err != nil {
		return fmt.Errorf("gofer: serve: %w", err)
	}
	return ServeFD(fd, mounts)
}

// ServeFD serves this server's mounts on fd until the peer closes it.
//
// Workers block in recvmsg on the shared socket and each handles the packet
// it received itself, so a request costs no goroutine hand-off. A worker that
// finds no idle peer before handling starts another, up to maxWorkers, so
// slow requests do not stall fast ones.
func (s *Server) ServeFD(fd int) error {
	l := &serveLoop{s: s, sock: fd}
	l.spawn()
	l.wg.Wait()
	if err := l.err.Load(); err != nil {
		return fmt.Errorf("gofer: serve: %w", *err)
	}
	return nil
}

type serveLoop struct {
	s       *Server
	sock    int
	wg      sync.WaitGroup
	idle    atomic.Int32
	workers atomic.Int32
	done    atomic.Bool
	err     atomic.Pointer[error]
}

func (l *serveLoop) spawn() {
	l.workers.Add(1)
	l.wg.Add(1)
	go l.worker()
}

func (l *serveLoop) worker() {
	defer l.wg.Done()
	buf := make([]byte, MaxMessageSize)
	oob := make([]byte, oobSpace)
	out := make([]byte, 0, 4096)
	for !l.done.Load() {
		l.idle.Add(1)
		n, fds, flags, err := recvPacket(l.sock, buf, oob)
		l.idle.Add(-1)
		// The client never sends FDs; close any so they cannot pile up.
		closeAll(fds)
		if err != nil {
			l.done.Store(true)
			l.err.CompareAndSwap(nil, &err)
			return
		}
		if n == 0 && peerClosed(l.sock) {
			l.done.Store(true)
			return
		}
		if l.idle.Load() == 0 {
			if w := l.workers.Load(); w < maxWorkers && l.workers.CompareAndSwap(w, w+1) {
				l.wg.Add(1)
				go l.worker()
			}
		}
		var resp *pb.Response
		respFD := -1
		if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			resp = &pb.Response{Errno: int32(unix.EINVAL)}
		} else {
			resp, respFD = l.s.handlePacket(buf[:n])
		}
		out, err = proto.MarshalOptions{}.MarshalAppend(out[:0], resp)
		if err != nil || len(out) > MaxMessageSize {
			// Handlers size their results to fit; this is a backstop so
			// the client gets an answer rather than waiting forever.
			if respFD >= 0 {
				unix.Close(respFD)
				respFD = -1
			}
			out, _ = proto.Marshal(&pb.Response{Id: resp.Id, Errno: int32(unix.EOVERFLOW)})
		}
		err = sendPacket(l.sock, out, respFD)
		if respFD >= 0 {
			unix.Close(respFD)
		}
		if err != nil && (err == unix.EPIPE || err == unix.ECONNRESET || err == unix.EBADF) {
			l.done.Store(true)
			return
		}
	}
}

// handlePacket decodes and serves one request. It never panics on input:
// anything it cannot decode gets EINVAL (with id 0 when the id is unknown).
func (s *Server) handlePacket(data []byte) (*pb.Response, int) {
	var req pb.Request
	if err := proto.Unmarshal(data, &req); err != nil {
		return &pb.Response{Errno: int32(unix.EINVAL)}, -1
	}
	resp, fd := s.handle(&req)
	resp.Id = req.Id
	return resp, fd
}

// errResponse converts an error from a handler to a Response.
func errResponse(err error) *pb.Response {
	return &pb.Response{Errno: int32(toErrno(err))}
}

func toErrno(err error) unix.Errno {
	var errno unix.Errno
	if errors.As(err, &errno) && errno != 0 {
		return errno
	}
	return unix.EIO
}
