//go:build linux

package gofer

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestConcurrent runs many goroutines over one client, mixing ops that
// create, use and release fids, and checks nothing leaks or crosses over.
func TestConcurrent(t *testing.T) {
	e := newEnv(t)
	e.write("shared", "shared-content")
	const workers, iters = 32, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- concurrentWorker(e, w, iters)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// Only the root fid from newEnv is left.
	if n := e.srv.fids.len(); n != 1 {
		t.Errorf("%d fids left, want 1", n)
	}
}

func concurrentWorker(e *testEnv, w, iters int) error {
	c := e.c
	for i := 0; i < iters; i++ {
		name := fmt.Sprintf("w%d-%d", w, i)
		fid, _, fd, err := c.Create(e.rootID, name, unix.O_RDWR, 0o644, 0, 0)
		if err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		unix.Write(fd, []byte(name))
		unix.Close(fd)
		res, err := c.Walk(e.rootID, []string{"shared"})
		if err != nil {
			return fmt.Errorf("walk: %w", err)
		}
		fd, err = c.Open(res[0].FID, unix.O_RDONLY)
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		buf := make([]byte, 64)
		n, _ := unix.Pread(fd, buf, 0)
		unix.Close(fd)
		if string(buf[:n]) != "shared-content" {
			return fmt.Errorf("read %q", buf[:n])
		}
		st, err := c.Stat(fid)
		if err != nil || st.Size != uint64(len(name)) {
			return fmt.Errorf("stat %s: %+v %v", name, st, err)
		}
		if err := c.Unlink(e.rootID, name, 0); err != nil {
			return fmt.Errorf("unlink: %w", err)
		}
		// Clunk concurrently with a Stat of the same fid: either may win,
		// but neither may crash or see another file.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := c.Stat(res[0].FID); err == nil && st.Size != 14 {
				panic("stat of a clunked fid saw another file")
			}
		}()
		if err := c.Clunk(res[0].FID); err != nil {
			return fmt.Errorf("clunk: %w", err)
		}
		wg.Wait()
		if err := c.Clunk(fid); err != nil {
			return fmt.Errorf("clunk: %w", err)
		}
	}
	return nil
}

// TestRoundTrip measures a Stat round trip (reported with -v).
func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 200; i++ { // warm up threads and caches
		e.c.Stat(e.rootID)
	}
	const n = 5000
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := e.c.Stat(e.rootID); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("Stat round trip: %v", time.Since(start)/n)
}

func BenchmarkStat(b *testing.B) {
	e := newEnv(b)
	for b.Loop() {
		if _, err := e.c.Stat(e.rootID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWalkOpenClunk(b *testing.B) {
	e := newEnv(b)
	e.write("f", "x")
	for b.Loop() {
		res, err := e.c.Walk(e.rootID, []string{"f"})
		if err != nil {
			b.Fatal(err)
		}
		fd, err := e.c.Open(res[0].FID, unix.O_RDONLY)
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(fd)
		e.c.Clunk(res[0].FID)
	}
}

func BenchmarkStatParallel(b *testing.B) {
	e := newEnv(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.c.Stat(e.rootID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
