package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The programs issue 2 says must run, in the real sentry, each checked
// against the output the same script gives natively (recorded in want).

// programCase runs script with sh in a sandbox whose /w is dir (read-write).
func runScript(t *testing.T, bin, dir, script string) *run {
	t.Helper()
	return newRun(t, bin, "do", "--volume", dir+":/w", "--cwd", "/w",
		"sh", "-c", "export PATH=$PATH:/usr/local/go/bin HOME=/tmp; "+script).run()
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat(tool); err != nil {
				t.Skipf("%s not installed (make deps installs it)", tool)
			}
		}
	}
}

func TestPrograms(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tools  []string
		files  map[string]string
		script string
		want   string
	}{
		{
			name: "coreutils",
			script: `set -e; mkdir d; for i in 3 1 2 1; do echo line$i; done > d/f
ls -l d | wc -l; sort d/f | uniq | tr '\n' ' '; echo
find d -type f | xargs cat | wc -l
tar czf t.tgz d; tar tzf t.tgz | sort | tr '\n' ' '; echo
gzip -c d/f | gzip -dc | sha256sum`,
			want: "2\nline1 line2 line3 \n4\nd/ d/f \nff19fa7522a3fc6a3b9fa8ebcc9ecb8d2db4968dfea1833d2b0f647c362a8c67  -\n",
		},
		{
			name:   "dd-256MiB",
			script: `dd if=/dev/zero bs=1M count=256 2>/dev/null | sha256sum`,
			want:   "a6d72ac7690f53be6ae46ba88506bd97302a093f7108472bd9efc3cefda06484  -\n",
		},
		{
			name:   "bash",
			tools:  []string{"bash"},
			script: `bash -c 'for i in 1 2 3; do echo $i; done | sort -r | tr "\n" " "; (sleep 0.1; echo bg) & wait; trap "echo trapped" EXIT'`,
			want:   "3 2 1 bg\ntrapped\n",
		},
		{
			name:  "python3",
			tools: []string{"python3"},
			script: `python3 -c '
import json, os, subprocess, threading, hashlib, re
out = subprocess.run(["echo", "sub"], capture_output=True, text=True).stdout
done = []
lock = threading.Lock()
def work(i):
    h = hashlib.sha256(str(i).encode()).hexdigest()
    with lock:
        done.append(h)
ts = [threading.Thread(target=work, args=(i,)) for i in range(16)]
[t.start() for t in ts]
[t.join() for t in ts]
print(out.strip(), len(done), json.dumps({"ok": True}))'`,
			want: "sub 16 {\"ok\": true}\n",
		},
		{
			name:   "gcc",
			tools:  []string{"gcc"},
			files:  map[string]string{"h.c": "#include <stdio.h>\nint main(void){printf(\"hello from c %d\\n\", 6*7);return 0;}\n"},
			script: `gcc -o h h.c && ./h`,
			want:   "hello from c 42\n",
		},
		{
			name:   "make",
			tools:  []string{"make"},
			files:  map[string]string{"Makefile": "out.txt: in.txt\n\ttr a-z A-Z < in.txt > out.txt\n", "in.txt": "made\n"},
			script: `make -s && cat out.txt && make -s && echo up-to-date`,
			want:   "MADE\nup-to-date\n",
		},
		{
			name:  "git",
			tools: []string{"git"},
			script: `set -e; git init -q r; cd r; git config user.email t@example.com; git config user.name t
echo one > f; git add f; git commit -qm first; echo two >> f; git commit -qam second
git log --format=%s | tr '\n' ' '; git cat-file -p HEAD:f | tr '\n' ' '`,
			want: "second first one two ",
		},
		{
			name:   "go",
			tools:  []string{"/usr/local/go/bin/go"},
			files:  map[string]string{"go.mod": "module hello\n\ngo 1.26\n", "main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from go\") }\n"},
			script: `go build -o hello . && ./hello`,
			want:   "hello from go\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireTools(t, tc.tools...)
			requireRealSentry(t)
			t.Parallel()
			func(t *testing.T, bin string) {
				dir := t.TempDir()
				for name, body := range tc.files {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				r := runScript(t, bin, dir, tc.script)
				if r.code != 0 || r.stdout.String() != tc.want {
					t.Errorf("exit %d, stdout %q, want %q; stderr %q", r.code, r.stdout.String(), tc.want, r.stderr.String())
				}
			}(t, realBin)
		})
	}
}

// TestCPUCount checks that programs counting CPUs (Python, coreutils'
// nproc, glibc's sysconf, which reads /sys/devices/system/cpu/online, and
// lscpu) find in the sandbox what they find natively, as does a listing of
// the CPUs in /sys.
func TestCPUCount(t *testing.T) {
	requireRealSentry(t)
	requireTools(t, "python3", "nproc", "getconf", "lscpu")
	// The sandbox has the CPUs it may run on, all possible, present and
	// online; the comparison holds where the host's are the same.
	var aff unix.CPUSet
	if err := unix.SchedGetaffinity(0, &aff); err != nil {
		t.Fatal(err)
	}
	want := "0\n"
	if aff.Count() > 1 {
		want = fmt.Sprintf("0-%d\n", aff.Count()-1)
	}
	for _, f := range []string{"online", "possible", "present"} {
		b, err := os.ReadFile("/sys/devices/system/cpu/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Skipf("the host's %s CPUs are %q, but this process may run on %d: the sandbox shows those", f, b, aff.Count())
		}
	}
	// lscpu's column width follows its longest label (the sandbox has no
	// vulnerabilities to list): blanks are squeezed.
	script := `python3 -c 'import os; print(os.cpu_count())'; nproc; getconf _NPROCESSORS_ONLN; getconf _NPROCESSORS_CONF
lscpu | grep -E '^(CPU\(s\)|On-line CPU\(s\) list|NUMA node\(s\)):' | tr -s ' '
ls /sys/devices/system/cpu | grep -E '^(cpu[0-9]+|online|possible|present|offline|isolated|kernel_max)$'`
	native, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("natively: %v", err)
	}
	r := newRun(t, realBin, "do", "sh", "-c", script).run()
	if r.code != 0 || r.stdout.String() != string(native) {
		t.Errorf("exit %d, stdout %q, want the native %q; stderr %q", r.code, r.stdout.String(), native, r.stderr.String())
	}
}

// TestIsolation checks that the guest sees only its own processes, with
// itself as PID 1, and that the sentry process is under seccomp.
func TestIsolation(t *testing.T) {
	requireRealSentry(t)
	// ps and ls run alone (a pipeline's later commands may or may not have
	// been forked or exec'd when ps reads /proc): the shell (PID 1) and
	// they are the only processes.
	r := newRun(t, realBin, "do", "sh", "-c", `echo $$; ps -e -o comm= > /tmp/ps; sort /tmp/ps | tr '\n' ' '; echo
ls /proc > /tmp/ls; grep -c '^[0-9]' /tmp/ls`).run()
	if r.code != 0 || r.stdout.String() != "1\nps sh \n2\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	// A long-running guest, to inspect the sentry from the host.
	p, _ := startReady(t, realBin, "echo ready; sleep 30")
	defer func() {
		p.cmd.Process.Kill()
		p.wait()
	}()
	for _, name := range []string{"runsc-boot", "runsc-gofer"} {
		status := childStatus(t, p.cmd.Process.Pid, name)
		if !strings.Contains(status, "Seccomp:\t2\n") || !strings.Contains(status, "NoNewPrivs:\t1\n") {
			t.Errorf("%s is not under a seccomp filter:\n%s", name, status)
		}
	}
}

// childStatus returns /proc/PID/status of the CLI's child process called
// name (the sentry is runsc-boot, the gofer runsc-gofer).
func childStatus(t *testing.T, cliPID int, name string) string {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		s := string(b)
		if strings.Contains(s, "Name:\t"+name+"\n") && strings.Contains(s, "PPid:\t"+strconv.Itoa(cliPID)+"\n") {
			return s
		}
	}
	t.Fatalf("no %s process under CLI pid %d", name, cliPID)
	return ""
}

// TestVDSO checks that clock reads run in the guest's vDSO: a million of
// them make no clock system call, never go backwards, and agree with the
// host's clock.
func TestVDSO(t *testing.T) {
	requireRealSentry(t)
	requireTools(t, "gcc")
	dir := t.TempDir()
	src := `#include <stdio.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>
int main(void) {
	struct timespec a, b, r;
	usleep(100000); /* the sentry calibrates the TSC within ~10 ms */
	clock_gettime(CLOCK_MONOTONIC, &a);
	long back = 0;
	for (int i = 0; i < 1000000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec)) back++;
		a = b;
	}
	struct timeval tv;
	gettimeofday(&tv, 0);
	clock_gettime(CLOCK_REALTIME, &r);
	printf("%ld %ld %ld %ld\n", back, (long)r.tv_sec, (long)tv.tv_sec, (long)time(0));
	return 0;
}`
	if err := os.WriteFile(filepath.Join(dir, "clk.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-O2", "-o", filepath.Join(dir, "clk"), filepath.Join(dir, "clk.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	logs := t.TempDir()
	r := newRun(t, realBin, "do", "--strace", "--debug-log", logs, "--volume", dir+":"+dir, filepath.Join(dir, "clk")).run()
	var back, real, tod, tm int64
	if _, err := fmt.Sscan(r.stdout.String(), &back, &real, &tod, &tm); err != nil || r.code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	now := time.Now().Unix()
	if back != 0 {
		t.Errorf("CLOCK_MONOTONIC went backwards %d times", back)
	}
	for _, v := range []int64{real, tod, tm} {
		if v < now-5 || v > now+1 {
			t.Errorf("guest wall clock %d, host %d", v, now)
		}
	}
	traps := 0
	files, _ := filepath.Glob(filepath.Join(logs, "*sentry*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		traps += strings.Count(string(b), "] clock_gettime(")
	}
	if len(files) == 0 || traps > 10 {
		t.Errorf("%d clock_gettime system calls in the strace of %d log files (want the vDSO to serve them)", traps, len(files))
	}
}

// TestOverlaySizeLimit checks that the in-memory upper layer is bounded like
// a Linux tmpfs (half of RAM): a file of all the host's RAM cannot be made.
func TestOverlaySizeLimit(t *testing.T) {
	requireRealSentry(t)
	requireTools(t, "fallocate")
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	ram := uint64(si.Totalram) * uint64(si.Unit)
	script := fmt.Sprintf(`fallocate -l 1M /tmp/small && echo small-ok; fallocate -l %d /tmp/big 2>/dev/null || echo big-refused`, ram)
	r := newRun(t, realBin, "do", "sh", "-c", script).run()
	if r.stdout.String() != "small-ok\nbig-refused\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
}
