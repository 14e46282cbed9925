package devpts

import (
	"encoding/binary"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Sizes of the kernel's termios structures (x86-64).
const (
	sizeofTermios  = 36 // struct termios: 4 flags, c_line, c_cc[19]
	sizeofTermios2 = 44 // struct termios2: termios + c_ispeed, c_ospeed
	sizeofWinsize  = 8
	numCC          = 19
)

// Termios is the kernel's struct termios2.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	CC                         [numCC]uint8
	Ispeed, Ospeed             uint32
}

// DefaultTermios is the termios of a new pseudo-terminal (Linux's
// tty_std_termios with the pts driver's c_cflag).
func DefaultTermios() Termios {
	return Termios{
		Iflag: unix.ICRNL | unix.IXON,
		Oflag: unix.OPOST | unix.ONLCR,
		Cflag: unix.B38400 | unix.CS8 | unix.CREAD,
		Lflag: unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHOCTL | unix.ECHOKE | unix.IEXTEN,
		// INIT_C_CC: ^C ^\ DEL ^U ^D, VTIME 0, VMIN 1, VSWTC 0, ^Q ^S ^Z,
		// VEOL 0, ^R ^O ^W ^V, VEOL2 0.
		CC:     [numCC]uint8{3, 034, 0177, 025, 4, 0, 1, 0, 021, 023, 032, 0, 022, 017, 027, 026, 0},
		Ispeed: 38400,
		Ospeed: 38400,
	}
}

// marshal encodes the first size bytes of the structure (sizeofTermios or
// sizeofTermios2).
func (t *Termios) marshal(size int) []byte {
	b := make([]byte, sizeofTermios2)
	le := binary.LittleEndian
	le.PutUint32(b[0:], t.Iflag)
	le.PutUint32(b[4:], t.Oflag)
	le.PutUint32(b[8:], t.Cflag)
	le.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:36], t.CC[:])
	le.PutUint32(b[36:], t.Ispeed)
	le.PutUint32(b[40:], t.Ospeed)
	return b[:size]
}

// unmarshal decodes b (a struct termios or termios2). A plain termios keeps
// the speeds.
func (t *Termios) unmarshal(b []byte) {
	le := binary.LittleEndian
	t.Iflag = le.Uint32(b[0:])
	t.Oflag = le.Uint32(b[4:])
	t.Cflag = le.Uint32(b[8:])
	t.Lflag = le.Uint32(b[12:])
	t.Line = b[16]
	copy(t.CC[:], b[17:36])
	if len(b) >= sizeofTermios2 {
		t.Ispeed = le.Uint32(b[36:])
		t.Ospeed = le.Uint32(b[40:])
	}
}

func (t *Termios) i(f uint32) bool { return t.Iflag&f != 0 }
func (t *Termios) o(f uint32) bool { return t.Oflag&f != 0 }
func (t *Termios) l(f uint32) bool { return t.Lflag&f != 0 }

// is reports whether c is the (enabled) control character at index v.
func (t *Termios) is(c byte, v int) bool { return t.CC[v] != 0 && t.CC[v] == c }

// maxInput is the room of the input queue (N_TTY_BUF_SIZE - 1). A
// canonical line filling it takes one more character, which later ones
// overwrite, so that a newline can always end it (Linux's overflow slot).
const maxInput = 4095

// ldisc is the line discipline of one terminal (Linux's n_tty): input
// processing, canonical line editing, echo, and output processing. It is
// not safe for concurrent use (the pty's lock protects it).
type ldisc struct {
	termios Termios

	in    []byte // input queue
	eol   []bool // line ends in the input queue (parallel to in)
	canon int    // in[:canon] are complete lines (canonical mode)
	lnext bool   // the next character is literal (VLNEXT)
	// erasing: an ECHOPRT erase sequence ("\" and erased characters) is
	// open; the next echoed character closes it with "/".
	erasing bool

	col          int // output column
	lineStartCol int // output column where the current input line's echo began
	stopped      bool
}

func newLdisc() *ldisc { return &ldisc{termios: DefaultTermios()} }

func (l *ldisc) icanon() bool { return l.termios.l(unix.ICANON) }

// setTermios installs new termios, adjusting the input queue on a
// canonical-mode change as Linux does.
func (l *ldisc) setTermios(nt Termios) {
	old := l.termios
	l.termios = nt
	if (old.Lflag^nt.Lflag)&unix.ICANON != 0 {
		clear(l.eol)
		if !l.icanon() || len(l.in) == 0 {
			l.canon = 0
		} else {
			// Pending input becomes one line, readable at once.
			l.eol[len(l.eol)-1] = true
			l.canon = len(l.in)
		}
		l.lnext = false
	}
	if !nt.i(unix.IXON) {
		l.stopped = false
	}
}

// flushInput discards the input queue (TCIFLUSH, signals).
func (l *ldisc) flushInput() {
	l.in, l.eol, l.canon, l.lnext, l.erasing = l.in[:0], l.eol[:0], 0, false, false
}

// inputRoom reports whether a character may be received.
func (l *ldisc) inputRoom() bool {
	if len(l.in) < maxInput {
		return true
	}
	// A full queue without a complete line in canonical mode: later
	// characters overwrite the last one, so that a newline can still end
	// it. With complete lines queued, input waits for a reader.
	return l.icanon() && l.canon == 0
}

// readable returns the number of input bytes a reader may take now (for
// canonical mode, the bytes of complete lines).
func (l *ldisc) readable() int {
	if l.icanon() {
		return l.canon
	}
	return len(l.in)
}

// inq returns the FIONREAD count: complete lines without their EOF marks
// in canonical mode, every byte otherwise.
func (l *ldisc) inq() int {
	if !l.icanon() {
		return len(l.in)
	}
	n := l.canon
	for i := 0; i < l.canon; i++ {
		if l.eol[i] && l.in[i] == 0 {
			n--
		}
	}
	return n
}

// hasLine reports whether a canonical read would return (a complete line,
// possibly an empty one ended by VEOF).
func (l *ldisc) hasLine() bool { return l.canon > 0 }

// read takes input into dst: at most one line in canonical mode (the EOF
// mark is consumed but not copied), everything available otherwise.
func (l *ldisc) read(dst []byte) int {
	if !l.icanon() {
		n := copy(dst, l.in)
		l.consume(n)
		return n
	}
	end := -1
	for i := 0; i < l.canon; i++ {
		if l.eol[i] {
			end = i
			break
		}
	}
	if end < 0 {
		return 0
	}
	lineLen := end + 1
	isEOF := l.in[end] == 0
	if isEOF {
		lineLen--
	}
	n := copy(dst, l.in[:lineLen])
	if n == lineLen {
		l.consume(end + 1)
	} else {
		l.consume(n)
	}
	return n
}

func (l *ldisc) consume(n int) {
	l.in = append(l.in[:0], l.in[n:]...)
	l.eol = append(l.eol[:0], l.eol[n:]...)
	l.canon = max(0, l.canon-n)
}

func (l *ldisc) put(c byte, eol bool) {
	l.in = append(l.in, c)
	l.eol = append(l.eol, eol)
	if eol {
		l.canon = len(l.in)
	}
}

// recvResult is what receiving input asks the pty to do.
type recvResult struct {
	sig   int32 // signal for the foreground process group (0: none)
	flush bool  // discard pending output too (a signal without NOFLSH)
}

// receive processes one input character, appending its echo (already
// output-processed) to *echo. The caller checked inputRoom.
func (l *ldisc) receive(c byte, echo *[]byte) recvResult {
	t := &l.termios
	if len(l.in) > maxInput && l.icanon() && l.canon == 0 {
		l.in, l.eol = l.in[:len(l.in)-1], l.eol[:len(l.eol)-1]
	}
	if t.i(unix.ISTRIP) {
		c &= 0x7f
	}
	if t.i(unix.IUCLC) && t.l(unix.IEXTEN) && c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	if l.lnext {
		l.lnext = false
		l.receiveNormal(c, echo)
		return recvResult{}
	}
	if t.i(unix.IXON) {
		if t.is(c, unix.VSTART) {
			l.stopped = false
			return recvResult{}
		}
		if t.is(c, unix.VSTOP) {
			l.stopped = true
			return recvResult{}
		}
	}
	if t.l(unix.ISIG) {
		var sig unix.Signal
		switch {
		case t.is(c, unix.VINTR):
			sig = unix.SIGINT
		case t.is(c, unix.VQUIT):
			sig = unix.SIGQUIT
		case t.is(c, unix.VSUSP):
			sig = unix.SIGTSTP
		}
		if sig != 0 {
			r := recvResult{sig: int32(sig)}
			if !t.l(unix.NOFLSH) {
				l.flushInput()
				r.flush = true
			}
			if t.i(unix.IXON) {
				l.stopped = false
			}
			if t.l(unix.ECHO) {
				l.echoChar(c, echo)
			}
			return r
		}
	}
	if c == '\r' {
		if t.i(unix.IGNCR) {
			return recvResult{}
		}
		if t.i(unix.ICRNL) {
			c = '\n'
		}
	} else if c == '\n' && t.i(unix.INLCR) {
		c = '\r'
	}
	if l.icanon() {
		iext := t.l(unix.IEXTEN)
		switch {
		case t.is(c, unix.VERASE), t.is(c, unix.VKILL), iext && t.is(c, unix.VWERASE):
			l.erase(c, echo)
			return recvResult{}
		case iext && t.is(c, unix.VLNEXT):
			l.lnext = true
			if t.l(unix.ECHO) && t.l(unix.ECHOCTL) {
				l.echoRaw([]byte("^\b"), echo)
			}
			return recvResult{}
		case iext && t.is(c, unix.VREPRINT) && t.l(unix.ECHO):
			l.echoChar(c, echo)
			l.echoRaw([]byte{'\n'}, echo)
			for _, b := range l.in[l.canon:] {
				l.echoChar(b, echo)
			}
			return recvResult{}
		case c == '\n':
			if t.l(unix.ECHO) || t.l(unix.ECHONL) {
				l.echoRaw([]byte{'\n'}, echo)
			}
			l.put(c, true)
			return recvResult{}
		case t.is(c, unix.VEOF):
			l.put(0, true)
			return recvResult{}
		case t.is(c, unix.VEOL), iext && t.is(c, unix.VEOL2):
			if t.l(unix.ECHO) {
				l.markLineStart()
				l.echoChar(c, echo)
			}
			l.put(c, true)
			return recvResult{}
		}
	}
	l.receiveNormal(c, echo)
	return recvResult{}
}

func (l *ldisc) receiveNormal(c byte, echo *[]byte) {
	if l.termios.l(unix.ECHO) {
		l.finishErasing(echo)
		if c == '\n' {
			l.echoRaw([]byte{'\n'}, echo)
		} else {
			l.markLineStart()
			l.echoChar(c, echo)
		}
	}
	l.put(c, false)
}

func (l *ldisc) markLineStart() {
	if len(l.in) == l.canon {
		l.lineStartCol = l.col
	}
}

func isCntrl(c byte) bool { return c < 0x20 || c == 0x7f }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// echoChar echoes c, as ^X for control characters with ECHOCTL.
func (l *ldisc) echoChar(c byte, echo *[]byte) {
	if l.termios.l(unix.ECHOCTL) && isCntrl(c) && c != '\t' {
		l.echoRaw([]byte{'^', c ^ 0100}, echo)
		return
	}
	l.echoRaw([]byte{c}, echo)
}

func (l *ldisc) echoRaw(b []byte, echo *[]byte) {
	*echo = l.output(*echo, b)
}

// width returns the column after echoing b from column col.
func (l *ldisc) width(col int, b []byte) int {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\t':
			col = (col | 7) + 1
		case isCntrl(c):
			if l.termios.l(unix.ECHOCTL) {
				col += 2
			}
		case l.termios.i(unix.IUTF8) && c&0xc0 == 0x80:
		default:
			col++
		}
	}
	return col
}

// erase implements VERASE, VWERASE and VKILL.
func (l *ldisc) erase(c byte, echo *[]byte) {
	t := &l.termios
	kill := t.is(c, unix.VKILL)
	werase := !kill && t.is(c, unix.VWERASE) && t.l(unix.IEXTEN) && !t.is(c, unix.VERASE)
	if len(l.in) == l.canon {
		return
	}
	if kill {
		if !t.l(unix.ECHO) {
			l.in, l.eol = l.in[:l.canon], l.eol[:l.canon]
			return
		}
		if !t.l(unix.ECHOK) || !t.l(unix.ECHOKE) || !t.l(unix.ECHOE) {
			l.in, l.eol = l.in[:l.canon], l.eol[:l.canon]
			l.echoChar(c, echo)
			if t.l(unix.ECHOK) {
				l.echoRaw([]byte{'\n'}, echo)
			}
			return
		}
	}
	seenAlnum := false
	for len(l.in) > l.canon {
		head := len(l.in) - 1
		if t.i(unix.IUTF8) {
			for head > l.canon && l.in[head]&0xc0 == 0x80 {
				head--
			}
			if !utf8.FullRune(l.in[head:]) {
				head = len(l.in) - 1
			}
		}
		ch := l.in[head]
		erased := append([]byte(nil), l.in[head:]...)
		if werase {
			if isAlnum(ch) || ch == '_' {
				seenAlnum = true
			} else if seenAlnum {
				break
			}
		}
		before := l.width(l.lineStartCol, l.in[l.canon:])
		l.in, l.eol = l.in[:head], l.eol[:head]
		if t.l(unix.ECHO) {
			switch {
			case t.l(unix.ECHOPRT):
				if !l.erasing {
					l.echoRaw([]byte{'\\'}, echo)
					l.erasing = true
				}
				l.echoChar(erased[0], echo)
				l.echoRaw(erased[1:], echo)
			case !kill && !werase && !t.l(unix.ECHOE):
				l.echoChar(t.CC[unix.VERASE], echo)
			case ch == '\t':
				after := l.width(l.lineStartCol, l.in[l.canon:])
				for i := after; i < before; i++ {
					l.echoRaw([]byte{'\b'}, echo)
				}
			default:
				if isCntrl(ch) && t.l(unix.ECHOCTL) {
					l.echoRaw([]byte("\b \b"), echo)
				}
				if !isCntrl(ch) || t.l(unix.ECHOCTL) {
					l.echoRaw([]byte("\b \b"), echo)
				}
			}
		}
		if !kill && !werase {
			break
		}
	}
	if len(l.in) == l.canon && t.l(unix.ECHO) {
		l.finishErasing(echo)
	}
}

// finishErasing closes an ECHOPRT erase sequence.
func (l *ldisc) finishErasing(echo *[]byte) {
	if l.erasing {
		l.echoRaw([]byte{'/'}, echo)
		l.erasing = false
	}
}

// output appends src to dst with output processing (OPOST: ONLCR, OCRNL,
// ONOCR, ONLRET, OLCUC, XTABS), tracking the column.
func (l *ldisc) output(dst, src []byte) []byte {
	t := &l.termios
	if !t.o(unix.OPOST) {
		for _, c := range src {
			l.advance(c)
		}
		return append(dst, src...)
	}
	for _, c := range src {
		switch c {
		case '\n':
			if t.o(unix.ONLRET) {
				l.col = 0
			}
			if t.o(unix.ONLCR) {
				l.col = 0
				dst = append(dst, '\r', '\n')
				continue
			}
			dst = append(dst, c)
		case '\r':
			if t.o(unix.ONOCR) && l.col == 0 {
				continue
			}
			if t.o(unix.OCRNL) {
				if t.o(unix.ONLRET) {
					l.col = 0
				}
				dst = append(dst, '\n')
				continue
			}
			l.col = 0
			dst = append(dst, c)
		case '\t':
			spaces := 8 - l.col&7
			if t.Oflag&unix.TABDLY == unix.XTABS {
				l.col += spaces
				for i := 0; i < spaces; i++ {
					dst = append(dst, ' ')
				}
				continue
			}
			l.col += spaces
			dst = append(dst, c)
		case '\b':
			if l.col > 0 {
				l.col--
			}
			dst = append(dst, c)
		default:
			if t.o(unix.OLCUC) && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if !isCntrl(c) && !(t.i(unix.IUTF8) && c&0xc0 == 0x80) {
				l.col++
			}
			dst = append(dst, c)
		}
	}
	return dst
}

func (l *ldisc) advance(c byte) {
	switch {
	case c == '\n', c == '\r':
		l.col = 0
	case c == '\t':
		l.col = (l.col | 7) + 1
	case c == '\b':
		if l.col > 0 {
			l.col--
		}
	case !isCntrl(c):
		l.col++
	}
}
