package pipe

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Packet mode (O_DIRECT): a read returns one write's packet, dropping what
// does not fit; each packet takes a page-sized slot.
func TestPacketMode(t *testing.T) {
	p := New()
	p.readers, p.writers = 1, 1
	r := &Endpoint{p: p, read: true}
	w := &Endpoint{p: p, write: true}
	w.packet.Store(true)
	for _, s := range []string{"abc", "defgh"} {
		if n, err := w.Write(nil, []byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	buf := make([]byte, 16)
	if n, _ := r.Read(nil, buf); string(buf[:n]) != "abc" {
		t.Errorf("first read %q, want %q", buf[:n], "abc")
	}
	if n, _ := r.Read(nil, buf[:2]); string(buf[:n]) != "de" {
		t.Errorf("short read %q, want %q", buf[:n], "de")
	}
	if _, err := r.Read(nil, buf); err != unix.EAGAIN {
		t.Errorf("the rest of a packet was not dropped: %v", err)
	}
	// 16 slots: 16 one-byte packets fill the default pipe.
	for i := 0; i < DefaultSize/pageSize; i++ {
		if n, err := w.Write(nil, []byte{1}); n != 1 || err != nil {
			t.Fatalf("packet %d: %d, %v", i, n, err)
		}
	}
	if _, err := w.Write(nil, []byte{1}); err != unix.EAGAIN {
		t.Errorf("17th packet: %v, want EAGAIN", err)
	}
	// A large write is split into PIPE_BUF packets.
	q := New()
	q.readers, q.writers = 1, 1
	qw := &Endpoint{p: q, write: true}
	qw.packet.Store(true)
	if n, err := qw.Write(nil, make([]byte, 3*PipeBuf+1)); n != 3*PipeBuf+1 || err != nil {
		t.Fatalf("large write: %d, %v", n, err)
	}
	if q.packets != 4 {
		t.Errorf("large write made %d packets, want 4", q.packets)
	}
}
