// Package control is the control socket of a sandbox: the CLI asks the
// sentry to start the container's init, signal processes, run new ones
// (exec) and list them. Messages are controlpb's, one Request per
// SOCK_SEQPACKET connection (see control.proto).
package control

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	pb "github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
)

// SocketName is the control socket's name in a container's state
// directory.
const SocketName = "control"

// maxMessage bounds one packet; a process description with its
// environment fits easily.
const maxMessage = 1 << 20

// sockPath names the socket in dir through /proc/self/fd, so that a deep
// state directory does not hit the 108-byte limit of sun_path.
func sockPath(dir string) (string, func(), error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("control socket: %w", err)
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", fd, SocketName), func() { unix.Close(fd) }, nil
}

// Listen creates the listening control socket in dir and returns its FD
// (close-on-exec; the launcher passes it to the sentry).
func Listen(dir string) (*os.File, error) {
	p, done, err := sockPath(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: p}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("control socket: bind %s: %w", filepath.Join(dir, SocketName), err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("control socket: listen: %w", err)
	}
	return os.NewFile(uintptr(fd), "control-listener"), nil
}

// Conn is one control connection.
type Conn struct{ fd int }

// Close closes the connection.
func (c *Conn) Close() error { return unix.Close(c.fd) }

// Dial connects to the control socket in dir.
func Dial(dir string) (*Conn, error) {
	p, done, err := sockPath(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: p}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connecting to the sandbox: %w", err)
	}
	return &Conn{fd: fd}, nil
}

// Every packet starts with a version byte: an empty message would be a
// zero-length packet, which looks like the end of the connection.
const wireVersion = 1

func (c *Conn) send(m proto.Message, fds []int) error {
	b, err := proto.MarshalOptions{}.MarshalAppend([]byte{wireVersion}, m)
	if err != nil {
		return err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	return unix.Sendmsg(c.fd, b, oob, nil, unix.MSG_NOSIGNAL)
}

// recv reads one message into m and returns the FDs that came with it.
func (c *Conn) recv(m proto.Message) ([]int, error) {
	// Learn the packet's length first (MSG_TRUNC gives the whole length;
	// without a control buffer, a peek installs no FD), so that the
	// buffer is the message's size rather than maxMessage: a megabyte
	// per message made the sentry's and the CLI's heaps grow, and the
	// sentry collect garbage, as a sandbox started.
	size, _, _, _, err := recvmsg(c.fd, nil, nil, unix.MSG_PEEK|unix.MSG_TRUNC)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, min(max(size, 1), maxMessage+1))
	oob := make([]byte, unix.CmsgSpace(8*4))
	n, oobn, flags, _, err := recvmsg(c.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if n > maxMessage {
		flags |= unix.MSG_TRUNC
	}
	var fds []int
	if oobn > 0 {
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for i := range msgs {
				if r, err := unix.ParseUnixRights(&msgs[i]); err == nil {
					fds = append(fds, r...)
				}
			}
		}
	}
	if n == 0 {
		closeFDs(fds)
		return nil, errors.New("connection closed")
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		closeFDs(fds)
		return nil, errors.New("message truncated")
	}
	if buf[0] != wireVersion {
		closeFDs(fds)
		return nil, fmt.Errorf("unknown control protocol version %d", buf[0])
	}
	if err := proto.Unmarshal(buf[1:n], m); err != nil {
		closeFDs(fds)
		return nil, err
	}
	return fds, nil
}

// recvmsg is unix.Recvmsg, retried on EINTR, with the error of a receive
// timeout (SO_RCVTIMEO) explained.
func recvmsg(fd int, p, oob []byte, flags int) (n, oobn, recvflags int, from unix.Sockaddr, err error) {
	for {
		n, oobn, recvflags, from, err = unix.Recvmsg(fd, p, oob, flags)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.EAGAIN {
		err = errors.New("the sandbox did not answer")
	}
	return n, oobn, recvflags, from, err
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// Send sends a request with fds (stdio of an exec).
func (c *Conn) Send(req *pb.Request, fds []int) error { return c.send(req, fds) }

// Recv reads the next response; a response with an error becomes a Go
// error.
func (c *Conn) Recv() (*pb.Response, error) {
	resp := &pb.Response{}
	fds, err := c.recv(resp)
	closeFDs(fds)
	if err != nil {
		return nil, err
	}
	if resp.Error != "" {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}

// callTimeout bounds a Call's wait for its answer: a wedged sentry must
// not hang the runtime's commands (kill -9 does not need the sentry).
const callTimeout = 60 * time.Second

// Call sends req to the sandbox whose state directory is dir and returns
// its (first) response.
func Call(dir string, req *pb.Request) (*pb.Response, error) {
	c, err := Dial(dir)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tv := unix.NsecToTimeval(callTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, err
	}
	if err := c.Send(req, nil); err != nil {
		return nil, err
	}
	return c.Recv()
}

// Handler serves requests in the sentry.
//
// A handler that also has a StartReplied() method has it called once the
// answer to a start request was sent.
type Handler interface {
	Start() error
	Signal(signo, pid int32, all bool) error
	// Exec starts p with stdio (ownership passes to Exec) and returns
	// its pid and a function that waits for its exit status.
	Exec(p *pb.Process, stdio []int) (pid int32, wait func() int, err error)
	Ps() []int32
	// Ready reports whether the container's command can be executed.
	Ready() error
	// Update changes the guest task limit (0: unchanged, <0: none).
	Update(maxTasks int64) error
}

// Serve accepts connections on the listening socket l until it is closed
// and serves each in a goroutine.
func Serve(l int, h Handler) error {
	for {
		fd, _, err := unix.Accept4(l, unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return err
		}
		go serveConn(&Conn{fd: fd}, h)
	}
}

func serveConn(c *Conn, h Handler) {
	defer c.Close()
	req := &pb.Request{}
	fds, err := c.recv(req)
	if err != nil {
		return
	}
	reply := func(r *pb.Response) { c.send(r, nil) }
	errResp := func(err error) *pb.Response {
		if err != nil {
			return &pb.Response{Error: err.Error()}
		}
		return &pb.Response{}
	}
	switch r := req.Req.(type) {
	case *pb.Request_Start:
		closeFDs(fds)
		reply(errResp(h.Start()))
		if r, ok := h.(interface{ StartReplied() }); ok {
			r.StartReplied()
		}
	case *pb.Request_Signal:
		closeFDs(fds)
		reply(errResp(h.Signal(r.Signal.Signo, r.Signal.Pid, r.Signal.All)))
	case *pb.Request_Ps:
		closeFDs(fds)
		reply(&pb.Response{Pids: h.Ps()})
	case *pb.Request_Ready:
		closeFDs(fds)
		reply(errResp(h.Ready()))
	case *pb.Request_Update:
		closeFDs(fds)
		reply(errResp(h.Update(r.Update.MaxTasks)))
	case *pb.Request_Exec:
		if len(fds) != 3 || r.Exec.Process == nil {
			closeFDs(fds)
			reply(&pb.Response{Error: "exec: want a process and 3 stdio FDs"})
			return
		}
		pid, wait, err := h.Exec(r.Exec.Process, fds)
		if err != nil {
			reply(errResp(err))
			return
		}
		reply(&pb.Response{Pid: pid})
		serveExecWait(c, h, pid, wait)
	default:
		closeFDs(fds)
		reply(&pb.Response{Error: "unknown request"})
	}
}

// serveExecWait sends an exec'd process's exit status. The connection is
// the process's lifeline: when the client goes away first (the exec proxy
// was killed, as containerd's shim kills an exec'd process), the process
// is killed too, as it would die with a process that really ran it.
func serveExecWait(c *Conn, h Handler, pid int32, wait func() int) {
	var finished atomic.Bool
	hungUp := make(chan struct{})
	go func() {
		defer close(hungUp)
		// The client sends nothing more: this returns at its hang-up,
		// or at our shutdown below.
		buf := make([]byte, 1)
		for {
			_, _, err := unix.Recvfrom(c.fd, buf, 0)
			if err != unix.EINTR {
				break
			}
		}
		if !finished.Load() {
			h.Signal(int32(unix.SIGKILL), pid, false)
		}
	}()
	status := wait()
	finished.Store(true)
	c.send(&pb.Response{Pid: pid, Status: int32(status), Exited: true}, nil)
	unix.Shutdown(c.fd, unix.SHUT_RDWR)
	<-hungUp
}
