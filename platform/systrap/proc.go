package systrap

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// proc is a stub host process, watched through a pidfd so that a recycled
// pid can never be mistaken for it.
type proc struct {
	pid   int
	pidfd int
	dead  atomic.Bool
}

func newProc(pid int) (*proc, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	return &proc{pid: pid, pidfd: fd}, nil
}

// alive reports whether the process still runs (a zombie counts as dead).
func (p *proc) alive() bool {
	if p.dead.Load() {
		return false
	}
	if p.exited(0) {
		p.dead.Store(true)
		return false
	}
	return true
}

// exited polls the pidfd, which becomes readable when the process exits.
func (p *proc) exited(timeout time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		ms := max(int(time.Until(deadline).Milliseconds()), 0)
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		return err != nil || (n > 0 && fds[0].Revents != 0)
	}
}

// waitGone waits until the process has exited and been reaped (the master
// ignores SIGCHLD, so the kernel reaps stubs itself, just after the pidfd
// reports the exit), so that Release leaves no trace, not even a zombie.
func (p *proc) waitGone(timeout time.Duration) {
	end := time.Now().Add(timeout)
	if !p.exited(timeout) {
		return
	}
	for time.Now().Before(end) {
		if unix.PidfdSendSignal(p.pidfd, 0, nil, 0) == unix.ESRCH {
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func (p *proc) kill() {
	p.dead.Store(true)
	unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0)
}

func (p *proc) close() {
	unix.Close(p.pidfd)
}
