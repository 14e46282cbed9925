package control

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	pb "github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
)

// fakeHandler records requests.
type fakeHandler struct {
	mu       sync.Mutex
	started  int
	signals  []*pb.SignalRequest
	execArgv []string
	stdio    []int
	replied  chan struct{}
	exitCode chan int
}

func (h *fakeHandler) Start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.started++
	if h.started > 1 {
		return errors.New("already started")
	}
	return nil
}

func (h *fakeHandler) StartReplied() { h.replied <- struct{}{} }

func (h *fakeHandler) Signal(signo, pid int32, all bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.signals = append(h.signals, &pb.SignalRequest{Signo: signo, Pid: pid, All: all})
	return nil
}

func (h *fakeHandler) Exec(p *pb.Process, stdio []int) (int32, func() int, error) {
	h.mu.Lock()
	h.execArgv, h.stdio = p.Argv, stdio
	h.mu.Unlock()
	return 42, func() int { return <-h.exitCode }, nil
}

func (h *fakeHandler) Ps() []int32  { return []int32{1, 42} }
func (h *fakeHandler) Ready() error { return errors.New("not ready") }

func (h *fakeHandler) Update(maxTasks int64) error {
	if maxTasks == 0 {
		return errors.New("nothing to update")
	}
	return nil
}

func serve(t *testing.T) (string, *fakeHandler) {
	t.Helper()
	dir := t.TempDir()
	l, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	h := &fakeHandler{replied: make(chan struct{}, 4), exitCode: make(chan int, 1)}
	go Serve(int(l.Fd()), h)
	return dir, h
}

func TestRequests(t *testing.T) {
	dir, h := serve(t)
	if _, err := Call(dir, &pb.Request{Req: &pb.Request_Start{Start: &pb.StartRequest{}}}); err != nil {
		t.Fatalf("start: %v", err)
	}
	<-h.replied
	if _, err := Call(dir, &pb.Request{Req: &pb.Request_Start{Start: &pb.StartRequest{}}}); err == nil || err.Error() != "already started" {
		t.Errorf("second start: %v", err)
	}
	if _, err := Call(dir, &pb.Request{Req: &pb.Request_Signal{Signal: &pb.SignalRequest{Signo: 15, Pid: 7, All: true}}}); err != nil {
		t.Errorf("signal: %v", err)
	}
	if len(h.signals) != 1 || h.signals[0].Signo != 15 || h.signals[0].Pid != 7 || !h.signals[0].All {
		t.Errorf("signals %v", h.signals)
	}
	resp, err := Call(dir, &pb.Request{Req: &pb.Request_Ps{Ps: &pb.PsRequest{}}})
	if err != nil || len(resp.Pids) != 2 || resp.Pids[1] != 42 {
		t.Errorf("ps: %v %v", resp, err)
	}
	if _, err := Call(dir, &pb.Request{Req: &pb.Request_Ready{Ready: &pb.ReadyRequest{}}}); err == nil || err.Error() != "not ready" {
		t.Errorf("ready: %v", err)
	}
	if _, err := Call(dir, &pb.Request{Req: &pb.Request_Update{Update: &pb.UpdateRequest{MaxTasks: 5}}}); err != nil {
		t.Errorf("update: %v", err)
	}
	if _, err := Call(dir, &pb.Request{}); err == nil {
		t.Errorf("empty request succeeded")
	}
}

func TestExec(t *testing.T) {
	dir, h := serve(t)
	c, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	fds := []int{int(r.Fd()), int(w.Fd()), int(w.Fd())}
	req := &pb.Request{Req: &pb.Request_Exec{Exec: &pb.ExecRequest{Process: &pb.Process{Argv: []string{"sh"}}}}}
	if err := c.Send(req, fds); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Recv()
	if err != nil || resp.Pid != 42 || resp.Exited {
		t.Fatalf("first response %v %v", resp, err)
	}
	h.mu.Lock()
	if len(h.stdio) != 3 || h.execArgv[0] != "sh" {
		t.Errorf("handler got argv %v, %d fds", h.execArgv, len(h.stdio))
	}
	// The received FDs are the pipe: write through the received write end.
	if _, err := unix.Write(h.stdio[1], []byte("x")); err != nil {
		t.Errorf("write to the passed FD: %v", err)
	}
	h.mu.Unlock()
	buf := make([]byte, 1)
	if n, _ := r.Read(buf); n != 1 || buf[0] != 'x' {
		t.Errorf("read %q", buf[:n])
	}
	h.exitCode <- 7
	resp, err = c.Recv()
	if err != nil || !resp.Exited || resp.Status != 7 {
		t.Errorf("second response %v %v", resp, err)
	}
}

func TestExecWithoutFDs(t *testing.T) {
	dir, _ := serve(t)
	req := &pb.Request{Req: &pb.Request_Exec{Exec: &pb.ExecRequest{Process: &pb.Process{Argv: []string{"sh"}}}}}
	if _, err := Call(dir, req); err == nil {
		t.Errorf("exec without stdio FDs succeeded")
	}
}

func TestGarbage(t *testing.T) {
	dir, _ := serve(t)
	c, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A wrong version byte: the server drops the connection.
	if err := unix.Sendmsg(c.fd, []byte{99, 1, 2, 3}, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Recv(); err == nil {
		t.Errorf("garbage was answered")
	}
}

// TestExecClientGone: a client that hangs up before its process exits
// gets the process killed.
func TestExecClientGone(t *testing.T) {
	dir, h := serve(t)
	c, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	req := &pb.Request{Req: &pb.Request_Exec{Exec: &pb.ExecRequest{Process: &pb.Process{Argv: []string{"sh"}}}}}
	if err := c.Send(req, []int{int(r.Fd()), int(w.Fd()), int(w.Fd())}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Recv(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.signals)
		var sig *pb.SignalRequest
		if n > 0 {
			sig = h.signals[0]
		}
		h.mu.Unlock()
		if sig != nil {
			if sig.Signo != int32(unix.SIGKILL) || sig.Pid != 42 || sig.All {
				t.Errorf("signal %v, want SIGKILL to 42", sig)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the process was not killed after its client hung up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.exitCode <- 137
}

// TestMessageSizes sends exec requests of a few sizes up to and past
// maxMessage: the buffer is sized by the packet, so a large one arrives
// whole and one past the bound is refused, not cut.
func TestMessageSizes(t *testing.T) {
	dir, h := serve(t)
	for _, tc := range []struct {
		name   string
		argLen int
		ok     bool
	}{
		{"small", 1, true},
		{"large", maxMessage - 1024, true},
		{"too large", maxMessage + 1024, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Dial(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The send buffer bounds a packet (about 200 KB by default).
			if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 4*maxMessage); err != nil {
				t.Skipf("cannot raise the send buffer (needs CAP_NET_ADMIN): %v", err)
			}
			r, w, _ := os.Pipe()
			defer r.Close()
			defer w.Close()
			arg := strings.Repeat("a", tc.argLen)
			req := &pb.Request{Req: &pb.Request_Exec{Exec: &pb.ExecRequest{Process: &pb.Process{Argv: []string{"sh", arg}}}}}
			if err := c.Send(req, []int{int(r.Fd()), int(w.Fd()), int(w.Fd())}); err != nil {
				t.Fatal(err)
			}
			resp, err := c.Recv()
			if !tc.ok {
				if err == nil {
					t.Errorf("a %d-byte argument was served: %v", tc.argLen, resp)
				}
				return
			}
			if err != nil || resp.Pid != 42 {
				t.Fatalf("response %v %v", resp, err)
			}
			h.mu.Lock()
			got := h.execArgv
			h.mu.Unlock()
			if len(got) != 2 || got[1] != arg {
				t.Errorf("handler got %d args, the second %d bytes; want %d", len(got), len(got[len(got)-1]), tc.argLen)
			}
			h.exitCode <- 0
			if resp, err := c.Recv(); err != nil || !resp.Exited {
				t.Errorf("exit response %v %v", resp, err)
			}
		})
	}
}
