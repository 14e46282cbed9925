//go:build linux

package gofer

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

// ErrClosed is returned by calls on a Client whose connection is closed.
var ErrClosed = errors.New("gofer: connection closed")

// Client talks to a gofer over one SOCK_SEQPACKET socket. It is safe for
// concurrent use: every call gets its own request id and a reader goroutine
// hands each response to the caller waiting for it.
//
// Errors reported by the gofer are returned as unix.Errno values; transport
// failures are wrapped errors (errors.Is(err, ErrClosed) once closed).
type Client struct {
	pc *packetConn

	// DirectFS makes Attach ask for an O_RDONLY|O_DIRECTORY FD of the
	// mount root. It is true by default; set it before the first Attach.
	DirectFS bool

	nextID atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]chan result
	err     error // set once the reader has stopped

	closeOnce  sync.Once
	readerDone chan struct{}
}

type result struct {
	resp *pb.Response
	fd   int
	err  error
}

var chanPool = sync.Pool{New: func() any { return make(chan result, 1) }}

// NewClient starts a client on the connected SOCK_SEQPACKET socket fd,
// which it owns from now on (Close closes it; it is switched to
// non-blocking mode for the netpoller).
func NewClient(fd int) (*Client, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("gofer: client socket: %w", err)
	}
	if typ != unix.SOCK_SEQPACKET {
		return nil, fmt.Errorf("gofer: client socket type %d, want SOCK_SEQPACKET", typ)
	}
	pc, err := newPacketConn(fd)
	if err != nil {
		return nil, fmt.Errorf("gofer: client socket: %w", err)
	}
	c := &Client{
		pc:         pc,
		DirectFS:   true,
		pending:    make(map[uint64]chan result),
		readerDone: make(chan struct{}),
	}
	go c.reader()
	return c, nil
}

// Close shuts the connection down, fails calls in flight with ErrClosed and
// closes the socket.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		// Closing through the os.File wakes the reader parked in the
		// netpoller, which then fails the calls in flight.
		c.pc.close()
		<-c.readerDone
	})
	return nil
}

func (c *Client) reader() {
	defer close(c.readerDone)
	buf := make([]byte, MaxMessageSize)
	oob := make([]byte, oobSpace)
	var err error
	for {
		var n, flags int
		var fds []int
		n, fds, flags, err = c.pc.recv(buf, oob)
		if errors.Is(err, os.ErrClosed) {
			err = ErrClosed
			break
		}
		if err != nil {
			err = fmt.Errorf("gofer: receive: %w", err)
			break
		}
		if n == 0 {
			err = ErrClosed
			break
		}
		resp := &pb.Response{}
		if flags&unix.MSG_TRUNC != 0 {
			err = errors.New("gofer: response truncated")
		} else {
			err = proto.Unmarshal(buf[:n], resp)
		}
		if err != nil {
			// A response we cannot read means the stream is broken: we
			// cannot tell which caller it was for.
			closeAll(fds)
			err = fmt.Errorf("gofer: bad response: %w", err)
			break
		}
		c.deliver(resp, fds)
	}
	c.mu.Lock()
	c.err = err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ch := range pending {
		ch <- result{err: err, fd: -1}
	}
}

func (c *Client) deliver(resp *pb.Response, fds []int) {
	r := result{resp: resp, fd: -1}
	switch {
	case resp.HasFd && len(fds) == 1:
		r.fd = fds[0]
	case resp.HasFd || len(fds) != 0:
		closeAll(fds)
		r.err = fmt.Errorf("gofer: response carries %d FDs, has_fd=%v", len(fds), resp.HasFd)
	}
	c.mu.Lock()
	ch, ok := c.pending[resp.Id]
	delete(c.pending, resp.Id)
	c.mu.Unlock()
	if !ok {
		// Not ours (e.g. the answer to a packet the server could not
		// decode): drop it.
		if r.fd >= 0 {
			unix.Close(r.fd)
		}
		return
	}
	ch <- r
}

// call sends req and waits for its response. On success the response's
// errno is returned as err (a unix.Errno); fd is -1 unless the response
// carries one, which the caller then owns.
func (c *Client) call(req *pb.Request) (*pb.Response, int, error) {
	id := c.nextID.Add(1)
	req.Id = id
	data, err := proto.Marshal(req)
	if err != nil {
		return nil, -1, fmt.Errorf("gofer: marshal request: %w", err)
	}
	if len(data) > MaxMessageSize {
		return nil, -1, unix.ENAMETOOLONG
	}
	ch := chanPool.Get().(chan result)
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		chanPool.Put(ch)
		return nil, -1, err
	}
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.pc.send(data, -1); err != nil {
		c.mu.Lock()
		_, mine := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if mine {
			chanPool.Put(ch)
		} // else the reader owns ch's pending send; let it be collected
		return nil, -1, fmt.Errorf("gofer: send: %w", err)
	}
	r := <-ch
	chanPool.Put(ch)
	if r.err != nil {
		return nil, -1, r.err
	}
	if r.resp.Errno != 0 {
		if r.fd >= 0 {
			unix.Close(r.fd)
		}
		return r.resp, -1, errnoFromWire(r.resp.Errno)
	}
	return r.resp, r.fd, nil
}

// errnoFromWire keeps out-of-range values from a confused server from
// turning into odd Errno values callers would not recognise.
func errnoFromWire(e int32) error {
	if e <= 0 || e >= 4096 {
		return unix.EIO
	}
	return unix.Errno(e)
}
