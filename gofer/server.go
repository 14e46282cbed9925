//go:build linux

package gofer

import (
	"errors"
	"fmt"
	"sync"
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
// "unixpacket" (anything with a pollable SyscallConn). It does not close conn.
func Serve(conn syscall.Conn, mounts []Mount) error {
	s, err := NewServer(mounts)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Serve(conn)
}

// ServeFD serves this server's mounts on fd until the peer closes it. It
// does not close fd (it works on a duplicate), but the socket is switched to
// non-blocking mode for the netpoller, which the duplicate shares with fd.
func (s *Server) ServeFD(fd int) error {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("gofer: serve: dup socket: %w", err)
	}
	pc, err := newPacketConn(dup)
	if err != nil {
		return fmt.Errorf("gofer: serve: %w", err)
	}
	defer pc.close()
	return s.serve(pc)
}

// Serve serves this server's mounts on conn until the peer closes it.
func (s *Server) Serve(conn syscall.Conn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("gofer: serve: %w", err)
	}
	return s.serve(&packetConn{rc: rc})
}

// maxInFlight bounds the requests being handled at once; past it the
// reader stops reading and requests wait in the socket buffer.
const maxInFlight = 256

var bufPool = sync.Pool{New: func() any { b := make([]byte, MaxMessageSize); return &b }}

// serve reads packets and handles each in its own goroutine: handlers may
// block in the host file system, and the sentry has many requests in
// flight. Responses go out in completion order, matched by request id.
func (s *Server) serve(pc *packetConn) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, maxInFlight)
	oob := make([]byte, oobSpace)
	for {
		bp := bufPool.Get().(*[]byte)
		n, fds, flags, err := pc.recv(*bp, oob)
		// The client never sends FDs; close any so they cannot pile up.
		closeAll(fds)
		if err != nil {
			bufPool.Put(bp)
			return fmt.Errorf("gofer: serve: receive: %w", err)
		}
		if n == 0 && pc.peerClosed() {
			bufPool.Put(bp)
			return nil
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() {
				bufPool.Put(bp)
				<-sem
				wg.Done()
			}()
			var resp *pb.Response
			respFD := -1
			if flags&unix.MSG_TRUNC != 0 {
				resp = &pb.Response{Errno: int32(unix.EINVAL)}
			} else {
				resp, respFD = s.handlePacket((*bp)[:n])
			}
			s.reply(pc, resp, respFD)
		}()
	}
}

// reply sends resp (and respFD, which it closes). A send error means the
// peer is gone, which the read loop notices by itself.
func (s *Server) reply(pc *packetConn, resp *pb.Response, respFD int) {
	out, err := proto.Marshal(resp)
	if err != nil || len(out) > MaxMessageSize {
		// Handlers size their results to fit; this is a backstop so
		// the client gets an answer rather than waiting forever.
		if respFD >= 0 {
			unix.Close(respFD)
			respFD = -1
		}
		out, _ = proto.Marshal(&pb.Response{Id: resp.Id, Errno: int32(unix.EOVERFLOW)})
	}
	pc.send(out, respFD)
	if respFD >= 0 {
		unix.Close(respFD)
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
