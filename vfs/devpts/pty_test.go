package devpts

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestPacketStatus(t *testing.T) {
	p := &pty{ld: newLdisc(), pkt: true}
	p.ld.stopped = true
	p.stopEventLocked()
	if p.pktStatus != unix.TIOCPKT_STOP {
		t.Errorf("after a stop: %#x, want TIOCPKT_STOP", p.pktStatus)
	}
	p.ld.stopped = false
	p.stopEventLocked()
	if p.pktStatus != unix.TIOCPKT_START {
		t.Errorf("after a restart: %#x, want TIOCPKT_START alone", p.pktStatus)
	}
	p.pktEventLocked(unix.TIOCPKT_FLUSHREAD)
	if p.pktStatus != unix.TIOCPKT_START|unix.TIOCPKT_FLUSHREAD {
		t.Errorf("after a flush: %#x, want START|FLUSHREAD", p.pktStatus)
	}
	q := &pty{ld: newLdisc()}
	q.pktEventLocked(unix.TIOCPKT_FLUSHWRITE)
	q.ld.stopped = true
	q.stopEventLocked()
	if q.pktStatus != 0 {
		t.Errorf("events recorded outside packet mode: %#x", q.pktStatus)
	}
}
