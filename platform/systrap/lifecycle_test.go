package systrap

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

func TestTwoContextsOneAddressSpace(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	e.mapCode(as, codeAddr, 0, sysLoop)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for g := 0; g < 2; g++ {
		c := e.newCtx()
		wg.Add(1)
		go func(g uint64) {
			defer wg.Done()
			st := startState(codeAddr)
			var sum uint64
			for i := uint64(0); i < 5000; i++ {
				ev, err := c.Switch(as, st)
				if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Rbx != sum {
					errs <- errors.New("bad event or accumulator")
					return
				}
				st.Regs.Rax = i*2 + g
				sum += i*2 + g
			}
		}(uint64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(as.threads); n != 2 {
		t.Fatalf("%d threads, want 2", n)
	}
}

func TestAddressSpacesIsolated(t *testing.T) {
	e := newEnv(t)
	as1, as2 := e.newAS(), e.newAS()
	defer as1.Release()
	defer as2.Release()
	if as1.PID() == as2.PID() {
		t.Fatal("same process")
	}
	// mov %rdi,(%rbx); mov $39,%eax; syscall; mov (%rbx),%rdi; syscall
	code := cat([]byte{0x48, 0x89, 0x3b}, movEAX(39), insSyscall, []byte{0x48, 0x8b, 0x3b}, insSyscall)
	e.mapCode(as1, codeAddr, 0, code)
	e.mapCode(as2, codeAddr, 0, code)
	e.mapData(as1, dataAddr, 1<<20, 4096)
	e.mapData(as2, dataAddr, 2<<20, 4096)
	// One context moving between the two address spaces (like execve or
	// a kernel reusing contexts), interleaved.
	c := e.newCtx()
	st1, st2 := startState(codeAddr), startState(codeAddr)
	st1.Regs.Rbx, st1.Regs.Rdi = dataAddr, 111
	st2.Regs.Rbx, st2.Regs.Rdi = dataAddr, 222
	e.sw(c, as1, st1)
	e.sw(c, as2, st2)
	e.sw(c, as1, st1)
	e.sw(c, as2, st2)
	if st1.Regs.Rdi != 111 || st2.Regs.Rdi != 222 {
		t.Fatalf("rdi %d %d", st1.Regs.Rdi, st2.Regs.Rdi)
	}
	if le.Uint64(e.mem[1<<20:]) != 111 || le.Uint64(e.mem[2<<20:]) != 222 {
		t.Fatal("writes landed in the wrong pages")
	}
	// A page mapped in as1 only faults in as2.
	e.mapData(as1, dataAddr+0x1000, 3<<20, 4096)
	st1.Regs.Rip, st1.Regs.Rbx = codeAddr, dataAddr+0x1000
	st2.Regs.Rip, st2.Regs.Rbx = codeAddr, dataAddr+0x1000
	if ev := e.sw(c, as1, st1); ev.Kind != platform.EventSyscall {
		t.Fatalf("as1: %+v", ev)
	}
	if ev := e.sw(c, as2, st2); ev.Kind != platform.EventFault || ev.Addr != dataAddr+0x1000 {
		t.Fatalf("as2: %+v", ev)
	}
}

func TestInterrupt(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	e.mapCode(as, codeAddr, 0, cat(insLoop, movEAX(39), insSyscall))
	st := startState(codeAddr)
	go func() {
		time.Sleep(50 * time.Millisecond)
		c.Interrupt()
	}()
	ev := e.sw(c, as, st)
	if ev.Kind != platform.EventInterrupted || st.Regs.Rip != codeAddr {
		t.Fatalf("%+v rip=%#x", ev, st.Regs.Rip)
	}
	// Sticky: an Interrupt with no Switch running makes the next one
	// return at once, and only that one.
	c.Interrupt()
	st.Regs.Rip = codeAddr + 2
	if ev := e.sw(c, as, st); ev.Kind != platform.EventInterrupted || st.Regs.Rip != codeAddr+2 {
		t.Fatalf("sticky: %+v", ev)
	}
	if ev := e.sw(c, as, st); ev.Kind != platform.EventSyscall {
		t.Fatalf("after sticky: %+v", ev)
	}
	// Many interrupts racing with a syscall loop: each Switch returns a
	// syscall or an interrupt, never hangs, and no request is lost.
	e.mapCode(as, codeAddr, 0, sysLoop)
	st = startState(codeAddr)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				c.Interrupt()
				time.Sleep(10 * time.Microsecond)
			}
		}
	}()
	var intr int
	for i := 0; i < 3000; i++ {
		ev := e.sw(c, as, st)
		switch ev.Kind {
		case platform.EventInterrupted:
			intr++
		case platform.EventSyscall:
		default:
			t.Fatalf("%+v", ev)
		}
	}
	close(stop)
	if intr == 0 {
		t.Fatal("no interrupts seen")
	}
	// A late interrupt signal left pending must not break the next Switch.
	c.Interrupt()
	e.sw(c, as, st)
	if ev := e.sw(c, as, st); ev.Kind != platform.EventSyscall {
		t.Fatalf("after storm: %+v", ev)
	}
}

func procExists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

func TestKilledStub(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	c := e.newCtx()
	e.mapCode(as, codeAddr, 0, insLoop)
	go func() {
		time.Sleep(50 * time.Millisecond)
		syscall.Kill(as.PID(), syscall.SIGKILL)
	}()
	start := time.Now()
	_, err := c.Switch(as, startState(codeAddr))
	if err != platform.ErrAddressSpaceGone {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	if err := as.MapFile(dataAddr, 4096, 0, platform.Read); err != platform.ErrAddressSpaceGone {
		t.Fatalf("MapFile: %v", err)
	}
	// Another context on the same dead address space.
	if _, err := e.newCtx().Switch(as, startState(codeAddr)); err != platform.ErrAddressSpaceGone {
		t.Fatalf("new context: %v", err)
	}
}

func TestReleaseWhileRunning(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	c := e.newCtx()
	e.mapCode(as, codeAddr, 0, insLoop)
	go func() {
		time.Sleep(50 * time.Millisecond)
		as.Release()
	}()
	if _, err := c.Switch(as, startState(codeAddr)); err != platform.ErrAddressSpaceGone {
		t.Fatalf("err = %v", err)
	}
}

func taskCount(pid int) int {
	d, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	return len(d)
}

func TestReleaseLeavesNothing(t *testing.T) {
	e := newEnv(t)
	var pids []int
	for i := 0; i < 3; i++ {
		as := e.newAS()
		pids = append(pids, as.PID())
		e.mapCode(as, codeAddr, 0, sysLoop)
		var ctxs []platform.Context
		for j := 0; j < 3; j++ {
			c := e.newCtx()
			ctxs = append(ctxs, c)
			e.sw(c, as, startState(codeAddr))
		}
		if n := taskCount(as.PID()); n != 4 {
			t.Fatalf("%d tasks, want 4", n)
		}
		ctxs[0].Release()
		if n := taskCount(as.PID()); n != 4 {
			t.Fatalf("after context release: %d tasks, want 4 (the thread is parked)", n)
		}
		// The parked thread is taken over, not a new one made.
		c := e.newCtx()
		e.sw(c, as, startState(codeAddr))
		if n := taskCount(as.PID()); n != 4 {
			t.Fatalf("%d tasks, want 4", n)
		}
		c2 := e.newCtx()
		e.sw(c2, as, startState(codeAddr))
		if n := taskCount(as.PID()); n != 5 {
			t.Fatalf("%d tasks, want 5", n)
		}
		if i < 2 {
			as.Release()
			if procExists(as.PID()) {
				t.Fatalf("stub %d still exists after Release", as.PID())
			}
		}
	}
	master := e.p.MasterPID()
	e.p.Close()
	for _, pid := range append(pids, master) {
		if procExists(pid) {
			t.Fatalf("process %d still exists after Close", pid)
		}
	}
}

// An address space released by another goroutine while the platform
// closes is finished when Close returns, and nothing touches the stub
// memfd's descriptor number afterwards: in a process that goes on (tests,
// several sandboxes), the number is soon another file's, e.g. the next
// sandbox's memory file, whose pages a late hole punch would zero.
func TestCloseWaitsForReleases(t *testing.T) {
	e := newEnv(t)
	var spaces []*addressSpace
	for i := 0; i < 4; i++ {
		spaces = append(spaces, e.newAS())
	}
	for _, as := range spaces {
		go as.Release()
	}
	stubFD := e.p.stubFD
	e.p.Close()
	for i, as := range spaces {
		select {
		case <-as.releaseDone:
		default:
			t.Errorf("address space %d still being released after Close", i)
		}
	}
	// The next file likely gets the stub memfd's number.
	fd, err := unix.MemfdCreate("next", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	data := bytes.Repeat([]byte{0xa5}, 2*regionSize)
	if _, err := unix.Pwrite(fd, data, 0); err != nil {
		t.Fatal(err)
	}
	e.p.freeRegion(0) // a late release
	got := make([]byte, len(data))
	if _, err := unix.Pread(fd, got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("a region freed after Close punched a hole in another file (fd %d, the stub memfd was %d)", fd, stubFD)
	}
}
