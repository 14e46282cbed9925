package fuzz

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procState is what the host sees of one sandbox process.
type procState struct {
	pid      int
	fds      int   // open host FDs
	threads  int   // host threads
	rssAnon  int64 // bytes: the Go heap, stacks and runtime, mostly
	rssShmem int64 // bytes of shared memory (the memory file) the process has touched
	memFile  int64 // bytes allocated in the memory file (the sentry's memfd); -1: none
}

func (p procState) String() string {
	s := fmt.Sprintf("fds %d, threads %d, RssAnon %s, RssShmem %s", p.fds, p.threads, mib(p.rssAnon), mib(p.rssShmem))
	if p.memFile >= 0 {
		s += ", memory file " + mib(p.memFile)
	}
	return s
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// memFileName is the name the sentry gives its memory file's memfd
// (sentry/boot).
const memFileName = "/memfd:runsc-lite-memory"

func readProcState(pid int) (procState, error) {
	p := procState{pid: pid, memFile: -1}
	dir := fmt.Sprintf("/proc/%d", pid)
	b, err := os.ReadFile(dir + "/status")
	if err != nil {
		return p, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "Threads":
			p.threads = int(n)
		case "RssAnon":
			p.rssAnon = n << 10
		case "RssShmem":
			p.rssShmem = n << 10
		}
	}
	ents, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return p, err
	}
	p.fds = len(ents)
	for _, e := range ents {
		fd := filepath.Join(dir, "fd", e.Name())
		if l, err := os.Readlink(fd); err != nil || !strings.HasPrefix(l, memFileName) {
			continue
		}
		// stat follows the magic link to the memfd itself: its blocks
		// are the pages the host has allocated to it.
		var st syscall.Stat_t
		if err := syscall.Stat(fd, &st); err != nil {
			return p, fmt.Errorf("stat %s: %w", fd, err)
		}
		p.memFile = st.Blocks * 512
	}
	return p, nil
}

// fdKinds counts pid's open FDs by what they point at, with digits
// elided ("socket:[N]", "/root/tmp/fuzz.N/d"): what a leak is made of.
func fdKinds(pid int) map[string]int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	m := map[string]int{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		m[digits.ReplaceAllString(l, "N")]++
	}
	return m
}

var digits = regexp.MustCompile(`[0-9]+`)

// parentPIDs maps every live process to its parent.
func parentPIDs() map[int]int {
	m := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if len(f) < 2 {
			continue
		}
		m[pid], _ = strconv.Atoi(f[1])
	}
	return m
}

// sandboxOf returns the sentry and gofer started by the CLI cli, and how
// many host processes run under the sentry (its stubs).
func sandboxOf(cli int) (sentry, gofer, under int) {
	parents := parentPIDs()
	for pid, pp := range parents {
		if pp != cli {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		switch strings.TrimSpace(string(comm)) {
		case "runsc-boot":
			sentry = pid
		case "runsc-gofer":
			gofer = pid
		}
	}
	for pid := range parents {
		for p := parents[pid]; p > 1 && sentry != 0; p = parents[p] {
			if p == sentry {
				under++
				break
			}
		}
	}
	return sentry, gofer, under
}

// checkpoint is one rendezvous with the fuzzer (its -k option): what it
// said of the guest, and the host state of the sandbox at that moment.
type checkpoint struct {
	n      int
	guest  map[string]int64 // syscalls, mem_used_kb, fds, procs, mounts, cleanup_errors
	sentry procState
	gofer  procState
	stubs  int // host processes under the sentry
	// sentryFDs and goferFDs count the FDs by kind (fdKinds).
	sentryFDs, goferFDs map[string]int
	sampleAt            time.Duration
}

func (c checkpoint) String() string {
	return fmt.Sprintf("checkpoint %d at %d syscalls (%v): guest: memory in use %s, %d procs, %d fds, %d mounts, %d cleanup errors\n"+
		"\tsentry: %v, %d host processes under it\n\tgofer: %v",
		c.n, c.guest["syscalls"], c.sampleAt.Round(time.Millisecond), mib(c.guest["mem_used_kb"]<<10), c.guest["procs"],
		c.guest["fds"], c.guest["mounts"], c.guest["cleanup_errors"], c.sentry, c.stubs, c.gofer)
}

func parseCheckpoint(b []byte) map[string]int64 {
	m := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok {
			m[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return m
}

// checkpointWatcher answers the fuzzer's checkpoints in dir: at each, it
// samples the sandbox's host state into *cps and lets the fuzzer go on.
// Errors go to *errs (it runs outside the test's goroutine).
func checkpointWatcher(dir string, start time.Time, cps *[]checkpoint, errs *[]error) func(cli int, stop <-chan struct{}) {
	return func(cli int, stop <-chan struct{}) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for n := 1; ; {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			name := filepath.Join(dir, fmt.Sprintf("ckpt.%d", n))
			b, err := os.ReadFile(name)
			if err != nil {
				continue // not there yet
			}
			cp := checkpoint{n: n, guest: parseCheckpoint(b), sampleAt: time.Since(start)}
			sentry, gofer, stubs := sandboxOf(cli)
			cp.stubs = stubs
			if sentry == 0 || gofer == 0 {
				*errs = append(*errs, fmt.Errorf("checkpoint %d: no sentry or gofer under the CLI (pid %d)", n, cli))
			} else {
				cp.sentryFDs, cp.goferFDs = fdKinds(sentry), fdKinds(gofer)
				if cp.sentry, err = readProcState(sentry); err != nil {
					*errs = append(*errs, fmt.Errorf("checkpoint %d: sentry: %w", n, err))
				}
				if cp.gofer, err = readProcState(gofer); err != nil {
					*errs = append(*errs, fmt.Errorf("checkpoint %d: gofer: %w", n, err))
				}
			}
			*cps = append(*cps, cp)
			if err := os.WriteFile(name+".ack", nil, 0o644); err != nil {
				*errs = append(*errs, fmt.Errorf("checkpoint %d: %w", n, err))
				return
			}
			n++
		}
	}
}

// A growth bound: how much of one measure the sandbox may gain on the
// host from the warm-up checkpoint to the last one.
type growthBound struct {
	what  string
	value func(checkpoint) int64
	max   int64
	mib   bool // a byte count, shown in MiB
}

// At every checkpoint the guest is in the same state: one process (the
// fuzzer's parent) with the same 5 FDs and memory, no other process, no
// file the workers made, no IPC object. Whatever the sandbox holds on the
// host beyond that is a cache or a leak; the bounds let the caches settle
// (they have after the warm-up: the fuzzer's paths are a fixed set) and
// are far below what a leak of one FD, thread or process per worker life
// (~80 in a default run), or of a few hundred bytes per syscall, amounts
// to.
var growthBounds = []growthBound{
	// The sentry's own FDs (memory file, platform, gofer channel, stdio)
	// and those of cached host directories: the same set each time, but
	// for a directory or two a rare syscall reaches late.
	{"sentry host FDs", func(c checkpoint) int64 { return int64(c.sentry.fds) }, 16, false},
	{"gofer host FDs", func(c checkpoint) int64 { return int64(c.gofer.fds) }, 8, false},
	// Go keeps a thread for each syscall that blocked in the host at the
	// same time as others: at most about the 8 fuzzing guest threads.
	{"sentry threads", func(c checkpoint) int64 { return int64(c.sentry.threads) }, 16, false},
	{"gofer threads", func(c checkpoint) int64 { return int64(c.gofer.threads) }, 8, false},
	// Stubs: one per guest address space, and the platform's spare.
	{"host processes under the sentry", func(c checkpoint) int64 { return int64(c.stubs) }, 2, false},
	// The memory file's pages in use, counted exactly by the sentry
	// (/proc/meminfo in the guest): the fuzzer's own pages, tmpfs and
	// the page cache of the few host files the workers map.
	{"guest memory in use", func(c checkpoint) int64 { return c.guest["mem_used_kb"] << 10 }, 8 << 20, true},
	// Pages the host allocated to the memory file: those in use plus
	// freed ones, which the memory file gives back to the host only in
	// batches of 64 MiB (sentry/memfile's reclaimPages).
	{"memory file allocated", func(c checkpoint) int64 { return c.sentry.memFile }, 80 << 20, true},
	// The Go heap: the collector lets it grow to twice the live heap
	// before it runs, and RSS it freed goes back to the host lazily, so
	// at a quiet moment it shows tens of MiB of what the last busy one
	// allocated (10 to 22 MiB measured over a million syscalls).
	{"sentry RssAnon", func(c checkpoint) int64 { return c.sentry.rssAnon }, 64 << 20, true},
	{"gofer RssAnon", func(c checkpoint) int64 { return c.gofer.rssAnon }, 16 << 20, true},
}

// checkGrowth logs every measure from the warm-up checkpoint first to the
// last one and fails those that grew past their bound.
func checkGrowth(t *testing.T, first, last checkpoint) {
	t.Helper()
	show := func(b growthBound, v int64) string {
		if b.mib {
			return mib(v)
		}
		return strconv.FormatInt(v, 10)
	}
	for _, b := range growthBounds {
		a, z := b.value(first), b.value(last)
		msg := fmt.Sprintf("%s: %s at checkpoint %d, %s at checkpoint %d (bound: +%s)",
			b.what, show(b, a), first.n, show(b, z), last.n, show(b, b.max))
		if z-a > b.max {
			t.Errorf("leak? %s", msg)
		} else {
			t.Log(msg)
		}
	}
	if t.Failed() {
		// What the new FDs are, and whether the fuzzer could not remove
		// what its workers left (which would be the guest's, not a leak).
		for k, v := range last.sentryFDs {
			if d := v - first.sentryFDs[k]; d > 0 {
				t.Logf("sentry FDs %q: +%d", k, d)
			}
		}
		for k, v := range last.goferFDs {
			if d := v - first.goferFDs[k]; d > 0 {
				t.Logf("gofer FDs %q: +%d", k, d)
			}
		}
		t.Logf("cleanup errors the guest reported: %d", last.guest["cleanup_errors"])
	}
}
