package e2e

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/runsc-lite/pty"
)

// OpenPTY opens a new host pseudo-terminal pair.
func OpenPTY() (master, slave *os.File, err error) { return pty.Open() }

// Terminal is the master side of a pseudo-terminal whose output is
// collected as it comes, like a terminal emulator's screen.
type Terminal struct {
	Master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	mark   int // Output and WaitOutput look from here on
}

// NewTerminal starts collecting master's output; it stops at the first
// read error (the slave's last close).
func NewTerminal(master *os.File) *Terminal {
	term := &Terminal{Master: master}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return term
}

// Output returns what was written since the last Skip.
func (term *Terminal) Output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()[term.mark:]
}

// Skip makes Output and WaitOutput ignore everything written so far.
func (term *Terminal) Skip() {
	term.mu.Lock()
	defer term.mu.Unlock()
	term.mark = term.out.Len()
}

// WaitOutput waits up to d for want in the output since the last Skip.
func (term *Terminal) WaitOutput(t testing.TB, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(term.Output(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the terminal after %v; it shows %q", want, d, term.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Type writes s as if typed on the terminal.
func (term *Terminal) Type(t testing.TB, s string) {
	t.Helper()
	if _, err := term.Master.WriteString(s); err != nil {
		t.Fatalf("typing %q: %v", s, err)
	}
}

// Resize sets the terminal's window size, as a terminal emulator does when
// its window changes (the kernel sends SIGWINCH to the foreground group).
func (term *Terminal) Resize(rows, cols uint16) error {
	return unix.IoctlSetWinsize(int(term.Master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
}
