package docker

import (
	"strings"
	"testing"
	"time"
)

func TestNetworkNone(t *testing.T) {
	got := docker(t, rrun("--network", "none", image, "ip", "-o", "link")...)
	if !strings.Contains(got, ": lo:") || strings.Contains(got, "eth0") {
		t.Errorf("--network none: links %q, want only lo", got)
	}
}

func TestMemoryLimit(t *testing.T) {
	_, _, err := eng.run(rrun("--memory", "64m", "--memory-swap", "64m", image, "sh", "-c", "dd if=/dev/zero of=/tmp/big bs=1M count=256 2>/dev/null; echo survived")...)
	if code := exitCode(err); code != 137 {
		t.Errorf("a guest filling 256 MiB under --memory 64m: exit %d, want 137 (killed)", code)
	}
}

func TestPidsLimit(t *testing.T) {
	start := time.Now()
	_, stderr, err := eng.run(rrun("--pids-limit", "64", image, "sh", "-c", "i=0; while [ $i -lt 300 ]; do sleep 30 & i=$((i+1)); done; echo all forked")...)
	if exitCode(err) == 0 || !strings.Contains(stderr, "fork") {
		t.Errorf("300 children under --pids-limit 64: exit %d, stderr %q; want fork to fail", exitCode(err), stderr)
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("the fork bomb took %v to be stopped", d)
	}
	// The host is fine: the engine still answers.
	docker(t, "version")
}
