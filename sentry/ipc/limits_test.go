package ipc

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

func TestSysctlRoundTrip(t *testing.T) {
	tests := []struct {
		name, in, read string
		err            error
	}{
		{"shmmax", "4096\n", "4096", nil},
		{"shmall", "18446744073692774399", "18446744073692774399", nil},
		{"shmmni", "32768", "32768", nil},
		{"shmmni", "32769", "", unix.EINVAL},
		{"msgmax", "65536", "65536", nil},
		{"msgmnb", "-1", "", unix.EINVAL},
		{"msgmni", "0", "0", nil},
		{"sem", "250  32000 32\t128\n", "250\t32000\t32\t128", nil},
		{"sem", "250 32000 32", "", unix.EINVAL},
		{"sem", "250 32000 32 40000", "", unix.EINVAL},
		{"shmmax", "lots", "", unix.EINVAL},
		{"shmmax", "", "", unix.EINVAL},
		{"pid_max", "10", "", unix.ENOENT},
	}
	for _, tt := range tests {
		ns := NewNamespace()
		before, _ := ns.Sysctl(tt.name)
		if err := ns.SetSysctl(tt.name, tt.in); err != tt.err {
			t.Errorf("SetSysctl(%s, %q): %v, want %v", tt.name, tt.in, err, tt.err)
			continue
		}
		want := tt.read
		if tt.err != nil {
			want = before // a refused value changes nothing
		}
		if got, _ := ns.Sysctl(tt.name); got != want {
			t.Errorf("after SetSysctl(%s, %q): %q, want %q", tt.name, tt.in, got, want)
		}
		if err := CheckSysctl(tt.name, tt.in); err != tt.err {
			t.Errorf("CheckSysctl(%s, %q): %v, want %v", tt.name, tt.in, err, tt.err)
		}
	}
}

// TestLimitsEnforced sets each tunable low and hits it.
func TestLimitsEnforced(t *testing.T) {
	ns := NewNamespace()
	for name, v := range map[string]string{"shmmax": "8192", "shmall": "3", "shmmni": "2",
		"msgmax": "16", "msgmni": "1", "sem": "4 100 2 1"} {
		if err := ns.SetSysctl(name, v); err != nil {
			t.Fatal(name, err)
		}
	}
	mem := func() mm.Mappable { return &fakeMem{} }
	if _, err := ns.ShmGet(root, 1, IPCPrivate, 8193, IPCCreat|0o600, mem); err != unix.EINVAL {
		t.Errorf("shmget above shmmax: %v, want EINVAL", err)
	}
	if _, err := ns.ShmGet(root, 1, IPCPrivate, 8192, IPCCreat|0o600, mem); err != nil {
		t.Errorf("shmget of shmmax: %v", err)
	}
	if _, err := ns.ShmGet(root, 1, IPCPrivate, 4097, IPCCreat|0o600, mem); err != unix.ENOSPC {
		t.Errorf("shmget beyond shmall (2+2 pages of 3): %v, want ENOSPC", err)
	}
	if _, err := ns.ShmGet(root, 1, IPCPrivate, 4096, IPCCreat|0o600, mem); err != nil {
		t.Errorf("shmget of the last page: %v", err)
	}
	ns.SetSysctl("shmall", "100")
	if _, err := ns.ShmGet(root, 1, IPCPrivate, 1, IPCCreat|0o600, mem); err != unix.ENOSPC {
		t.Errorf("shmget beyond shmmni (2): %v, want ENOSPC", err)
	}

	id, err := ns.MsgGet(root, IPCPrivate, IPCCreat|0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.MsgGet(root, IPCPrivate, IPCCreat|0o600); err != unix.ENOSPC {
		t.Errorf("msgget beyond msgmni (1): %v, want ENOSPC", err)
	}
	if err := ns.MsgSnd(root, 1, id, Message{Type: 1, Text: make([]byte, 17)}, IPCNoWait, noBlock); err != unix.EINVAL {
		t.Errorf("msgsnd above msgmax: %v, want EINVAL", err)
	}
	if err := ns.MsgSnd(root, 1, id, Message{Type: 1, Text: make([]byte, 16)}, IPCNoWait, noBlock); err != nil {
		t.Errorf("msgsnd of msgmax: %v", err)
	}

	if _, err := ns.SemGet(root, IPCPrivate, 5, IPCCreat|0o600); err != unix.EINVAL {
		t.Errorf("semget above SEMMSL: %v, want EINVAL", err)
	}
	sid, err := ns.SemGet(root, IPCPrivate, 4, IPCCreat|0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.SemGet(root, IPCPrivate, 1, IPCCreat|0o600); err != unix.ENOSPC {
		t.Errorf("semget beyond SEMMNI (1): %v, want ENOSPC", err)
	}
	if err := ns.SemOp(root, 1, sid, []SemBuf{{0, 1, 0}, {1, 1, 0}, {2, 1, 0}}, noBlock); err != unix.E2BIG {
		t.Errorf("semop above SEMOPM: %v, want E2BIG", err)
	}
	if err := ns.SemOp(root, 1, sid, []SemBuf{{0, 1, 0}, {1, 1, 0}}, noBlock); err != nil {
		t.Errorf("semop of SEMOPM operations: %v", err)
	}
}
