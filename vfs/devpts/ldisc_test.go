package devpts

import (
	"testing"

	"golang.org/x/sys/unix"
)

// feed sends input through l and returns the echo and the signals raised.
func feed(l *ldisc, in string) (echo string, sigs []int32) {
	var out []byte
	for i := 0; i < len(in); i++ {
		var e []byte
		r := l.receive(in[i], &e)
		if r.sig != 0 {
			sigs = append(sigs, r.sig)
		}
		if r.flush {
			out = out[:0]
		}
		out = append(out, e...)
	}
	return string(out), sigs
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*Termios)
		in    string
		lines []string
		echo  string
		sigs  []int32
	}{
		{name: "line", in: "hello\n", lines: []string{"hello\n"}, echo: "hello\r\n"},
		{name: "partial line is not readable", in: "abc", echo: "abc"},
		{name: "two lines", in: "a\nb\n", lines: []string{"a\n", "b\n"}, echo: "a\r\nb\r\n"},
		{name: "erase", in: "abc\x7fd\n", lines: []string{"abd\n"}, echo: "abc\b \bd\r\n"},
		{name: "erase at line start", in: "\x7f\x7fx\n", lines: []string{"x\n"}, echo: "x\r\n"},
		{name: "erase without ECHOE", setup: func(t *Termios) { t.Lflag &^= unix.ECHOE }, in: "ab\x7f\n",
			lines: []string{"a\n"}, echo: "ab^?\r\n"},
		{name: "erase control char", in: "a\x01\x7f\n", lines: []string{"a\n"}, echo: "a^A\b \b\b \b\r\n"},
		{name: "erase tab", in: "ab\t\x7f\n", lines: []string{"ab\n"}, echo: "ab\t\b\b\b\b\b\b\r\n"},
		{name: "erase utf8", setup: func(t *Termios) { t.Iflag |= unix.IUTF8 }, in: "aé\x7f\n",
			lines: []string{"a\n"}, echo: "aé\b \b\r\n"},
		{name: "kill", in: "xyz\x15ok\n", lines: []string{"ok\n"}, echo: "xyz\b \b\b \b\b \bok\r\n"},
		{name: "kill without ECHOKE", setup: func(t *Termios) { t.Lflag &^= unix.ECHOKE }, in: "xy\x15ok\n",
			lines: []string{"ok\n"}, echo: "xy^U\r\nok\r\n"},
		{name: "werase", in: "one two \x17three\n", lines: []string{"one three\n"},
			echo: "one two \b \b\b \b\b \b\b \bthree\r\n"},
		{name: "eof ends a line", in: "ab\x04", lines: []string{"ab"}, echo: "ab"},
		{name: "eof alone reads 0", in: "\x04", lines: []string{""}},
		{name: "veol", setup: func(t *Termios) { t.CC[unix.VEOL] = '!' }, in: "hi!", lines: []string{"hi!"}, echo: "hi!"},
		{name: "icrnl", in: "cr\r", lines: []string{"cr\n"}, echo: "cr\r\n"},
		{name: "igncr", setup: func(t *Termios) { t.Iflag |= unix.IGNCR }, in: "a\rb\n", lines: []string{"ab\n"}, echo: "ab\r\n"},
		{name: "inlcr", setup: func(t *Termios) { t.Iflag = unix.INLCR }, in: "a\nb\r", lines: nil, echo: "a^Mb^M"},
		{name: "lnext", in: "\x16\x03\n", lines: []string{"\x03\n"}, echo: "^\b^C\r\n"},
		{name: "no echo", setup: func(t *Termios) { t.Lflag &^= unix.ECHO }, in: "secret\n", lines: []string{"secret\n"}},
		{name: "echonl", setup: func(t *Termios) { t.Lflag = t.Lflag&^unix.ECHO | unix.ECHONL }, in: "secret\n",
			lines: []string{"secret\n"}, echo: "\r\n"},
		{name: "no echoctl", setup: func(t *Termios) { t.Lflag &^= unix.ECHOCTL }, in: "\x01\n", lines: []string{"\x01\n"}, echo: "\x01\r\n"},
		{name: "intr", in: "abc\x03", echo: "^C", sigs: []int32{int32(unix.SIGINT)}},
		{name: "quit", in: "\x1c", echo: "^\\", sigs: []int32{int32(unix.SIGQUIT)}},
		{name: "susp", in: "\x1a", echo: "^Z", sigs: []int32{int32(unix.SIGTSTP)}},
		{name: "noflsh keeps input", setup: func(t *Termios) { t.Lflag |= unix.NOFLSH }, in: "ab\x03\n",
			lines: []string{"ab\n"}, echo: "ab^C\r\n", sigs: []int32{int32(unix.SIGINT)}},
		{name: "isig off", setup: func(t *Termios) { t.Lflag &^= unix.ISIG }, in: "\x03\n", lines: []string{"\x03\n"}, echo: "^C\r\n"},
		{name: "ixon stop/start consumed", in: "a\x13b\x11\n", lines: []string{"ab\n"}, echo: "ab\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLdisc()
			if tc.setup != nil {
				tc.setup(&l.termios)
			}
			echo, sigs := feed(l, tc.in)
			if echo != tc.echo {
				t.Errorf("echo %q, want %q", echo, tc.echo)
			}
			if len(sigs) != len(tc.sigs) || (len(sigs) > 0 && sigs[0] != tc.sigs[0]) {
				t.Errorf("signals %v, want %v", sigs, tc.sigs)
			}
			var lines []string
			for l.hasLine() {
				buf := make([]byte, 100)
				n := l.read(buf)
				lines = append(lines, string(buf[:n]))
			}
			if len(lines) != len(tc.lines) {
				t.Fatalf("lines %q, want %q", lines, tc.lines)
			}
			for i := range lines {
				if lines[i] != tc.lines[i] {
					t.Errorf("lines %q, want %q", lines, tc.lines)
				}
			}
		})
	}
}

func TestShortCanonicalRead(t *testing.T) {
	l := newLdisc()
	feed(l, "hello\nnext\n")
	buf := make([]byte, 3)
	var got []string
	for l.hasLine() {
		n := l.read(buf)
		got = append(got, string(buf[:n]))
	}
	want := []string{"hel", "lo\n", "nex", "t\n"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestOutput(t *testing.T) {
	tests := []struct {
		name  string
		oflag uint32
		in    string
		want  string
	}{
		{"onlcr", unix.OPOST | unix.ONLCR, "a\nb\n", "a\r\nb\r\n"},
		{"no opost", unix.ONLCR, "a\nb\n", "a\nb\n"},
		{"opost only", unix.OPOST, "a\n", "a\n"},
		{"ocrnl", unix.OPOST | unix.OCRNL, "a\r", "a\n"},
		{"onocr", unix.OPOST | unix.ONOCR, "\ra\r", "a\r"},
		{"xtabs", unix.OPOST | unix.XTABS, "ab\tc", "ab      c"},
		{"olcuc", unix.OPOST | unix.OLCUC, "abC", "ABC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLdisc()
			l.termios.Oflag = tc.oflag
			if got := string(l.output(nil, []byte(tc.in))); got != tc.want {
				t.Errorf("output %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRaw(t *testing.T) {
	tests := []struct {
		name      string
		vmin      uint8
		in        string
		readable  int
		read      string
		inputRoom bool
	}{
		{"vmin 1", 1, "a\r\x03", 3, "a\r\x03", true},
		{"vmin 3 partial", 3, "ab", 2, "ab", true},
		{"empty", 1, "", 0, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLdisc()
			nt := l.termios
			nt.Iflag = 0
			nt.Oflag = 0
			nt.Lflag = 0
			nt.CC[unix.VMIN] = tc.vmin
			l.setTermios(nt)
			echo, sigs := feed(l, tc.in)
			if echo != "" || sigs != nil {
				t.Errorf("raw mode echo %q signals %v", echo, sigs)
			}
			if l.readable() != tc.readable {
				t.Errorf("readable %d, want %d", l.readable(), tc.readable)
			}
			buf := make([]byte, 100)
			if n := l.read(buf); string(buf[:n]) != tc.read {
				t.Errorf("read %q, want %q", buf[:n], tc.read)
			}
		})
	}
}

func TestCanonicalSwitch(t *testing.T) {
	l := newLdisc()
	feed(l, "pend")
	if l.readable() != 0 {
		t.Fatal("partial line readable")
	}
	raw := l.termios
	raw.Lflag &^= unix.ICANON
	l.setTermios(raw)
	if l.readable() != 4 {
		t.Fatalf("after -icanon: readable %d", l.readable())
	}
	feed(l, "x")
	canon := l.termios
	canon.Lflag |= unix.ICANON
	l.setTermios(canon)
	buf := make([]byte, 100)
	if n := l.read(buf); string(buf[:n]) != "pendx" {
		t.Fatalf("after icanon: %q", buf[:n])
	}
}

func TestInputLimit(t *testing.T) {
	l := newLdisc()
	l.termios.Lflag &^= unix.ECHO
	for i := 0; i < maxInput+10; i++ {
		if !l.inputRoom() {
			t.Fatal("canonical line without end refused input")
		}
		feed(l, "a")
	}
	feed(l, "\n")
	// maxInput characters and the newline in the overflow slot, as Linux.
	if !l.hasLine() || l.readable() != maxInput+1 {
		t.Fatalf("readable %d, want %d", l.readable(), maxInput+1)
	}
	if l.inputRoom() {
		t.Fatal("full queue with a complete line accepts input")
	}
}

func TestTermiosLayout(t *testing.T) {
	d := DefaultTermios()
	b := d.marshal(sizeofTermios2)
	if len(b) != 44 || b[17+unix.VINTR] != 3 || b[17+unix.VMIN] != 1 {
		t.Fatalf("layout %x", b)
	}
	var back Termios
	back.unmarshal(b)
	if back != d {
		t.Fatalf("round trip %+v", back)
	}
	short := DefaultTermios()
	short.Ispeed = 9600
	short.unmarshal(d.marshal(sizeofTermios))
	if short.Ispeed != 9600 {
		t.Fatal("TCSETS changed the speeds")
	}
}

func TestIuclcAndEchoprt(t *testing.T) {
	l := newLdisc()
	l.termios.Iflag |= unix.IUCLC
	l.termios.Lflag = l.termios.Lflag&^unix.ECHOE | unix.ECHOPRT
	echo, _ := feed(l, "AbC\x7f\x7fd\x7f\x7f")
	// Erased characters are echoed between "\\" and "/" (closed by the
	// next character, or when the line is empty).
	if want := "abc\\cb/d\\da/"; echo != want {
		t.Errorf("echo %q, want %q", echo, want)
	}
	feed(l, "X\n")
	buf := make([]byte, 10)
	if n := l.read(buf); string(buf[:n]) != "x\n" {
		t.Errorf("read %q, want IUCLC's lower case", buf[:n])
	}
}
