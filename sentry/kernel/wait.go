package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// WaitOpts selects children to wait for.
type WaitOpts struct {
	IDType  int          // linux.P_ALL, P_PID, P_PGID, P_PIDFD
	ID      int32        // pid or pgid
	Target  *ThreadGroup // for P_PIDFD
	Options uint32
}

// WaitResult describes a child state change.
type WaitResult struct {
	PID    int32
	UID    uint32
	Status int32 // wait status word
	Code   int32 // CLD_*
	CStat  int32 // exit code or signal for siginfo
	// The child's CPU time (ns) with its reaped children's, for wait4's
	// rusage.
	Utime, Stime int64
}

// Wait implements wait4/waitid. It returns (nil, nil) for WNOHANG with
// nothing to report.
func (t *Task) Wait(o WaitOpts) (*WaitResult, error) {
	k := t.k
	for {
		k.mu.Lock()
		res, any := t.tg.waitOnceLocked(o)
		ch := t.tg.childWait
		k.mu.Unlock()
		if res != nil {
			return res, nil
		}
		if !any {
			return nil, unix.ECHILD
		}
		if o.Options&linux.WNOHANG != 0 {
			return nil, nil
		}
		if err := t.Block(ch, Deadline{}); err != nil {
			// Like Linux, look once more before giving in to the
			// signal: a child that exited (and sent the SIGCHLD that
			// interrupted us) is reported, not EINTR.
			k.mu.Lock()
			res, _ := t.tg.waitOnceLocked(o)
			k.mu.Unlock()
			if res != nil {
				return res, nil
			}
			return nil, ErrRestartSys
		}
	}
}

func (tg *ThreadGroup) waitOnceLocked(o WaitOpts) (*WaitResult, bool) {
	any := false
	for c := range tg.children {
		switch o.IDType {
		case linux.P_PID:
			if c.leader.tid != o.ID {
				continue
			}
		case linux.P_PGID:
			if c.pgid != o.ID {
				continue
			}
		case linux.P_PIDFD:
			if c != o.Target {
				continue
			}
		}
		// __WCLONE selects children whose exit signal is not SIGCHLD.
		isClone := c.exitSignal != int32(unix.SIGCHLD)
		if o.Options&linux.WALL == 0 && isClone != (o.Options&linux.WCLONE != 0) {
			continue
		}
		any = true
		uid := c.leader.Creds().RealUID
		u, s := c.cpuTimesLocked()
		u, s = u+c.childUtime, s+c.childStime
		if c.zombie && o.Options&linux.WEXITED != 0 {
			r := &WaitResult{PID: c.leader.tid, UID: uid, Status: c.exitStatus, Utime: u, Stime: s}
			if s := c.exitStatus & 0x7f; s != 0 {
				r.Code, r.CStat = linux.CLD_KILLED, s
			} else {
				r.Code, r.CStat = linux.CLD_EXITED, (c.exitStatus>>8)&0xff
			}
			if o.Options&linux.WNOWAIT == 0 {
				delete(tg.children, c)
				tg.childUtime += u
				tg.childStime += s
				c.reapLocked()
			}
			return r, true
		}
		if c.groupStopped && c.stopEvent != 0 && o.Options&linux.WUNTRACED != 0 {
			r := &WaitResult{PID: c.leader.tid, UID: uid, Status: c.stopEvent<<8 | 0x7f,
				Code: linux.CLD_STOPPED, CStat: c.stopEvent, Utime: u, Stime: s}
			if o.Options&linux.WNOWAIT == 0 {
				c.stopEvent = 0
			}
			return r, true
		}
		if c.continueEvent && o.Options&linux.WCONTINUED != 0 {
			r := &WaitResult{PID: c.leader.tid, UID: uid, Status: 0xffff,
				Code: linux.CLD_CONTINUED, CStat: int32(unix.SIGCONT), Utime: u, Stime: s}
			if o.Options&linux.WNOWAIT == 0 {
				c.continueEvent = false
			}
			return r, true
		}
	}
	return nil, any
}
