package main

import (
	"fmt"
	"os/exec"
	"sort"
	"time"

	"github.com/runsc-lite/runsc-lite/test/dockerengine"
)

// benchDockerRun compares `docker run --rm IMAGE /bin/true` with runsc-lite
// as the runtime against runc (the "native" column), on a private Docker
// engine with the same busybox image, runs of the two interleaved so that
// both see the same machine.
func benchDockerRun(bin string, runs int) {
	const name = "docker run --rm /bin/true"
	if _, err := exec.LookPath("dockerd"); err != nil {
		fmt.Printf("%s: dockerd is not installed (make deps), skipped\n", name)
		return
	}
	eng, err := dockerengine.Start(bin)
	if err != nil {
		fmt.Printf("%s: starting a private Docker engine: %v\n", name, err)
		return
	}
	defer eng.Stop()
	run := func(runtime string) (time.Duration, error) {
		start := time.Now()
		if _, stderr, err := eng.Run("run", "--rm", "--network", "none", "--runtime", runtime, dockerengine.Image, "/bin/true"); err != nil {
			return 0, fmt.Errorf("%s: %v: %s", runtime, err, stderr)
		}
		return time.Since(start), nil
	}
	var runc, ours []time.Duration
	for i := -1; i < runs; i++ {
		r, err := run("runc")
		if err != nil {
			fmt.Printf("%s: %v\n", name, err)
			return
		}
		o, err := run(dockerengine.RuntimeName)
		if err != nil {
			fmt.Printf("%s: %v\n", name, err)
			return
		}
		if i >= 0 { // the first pair warms the engine's caches
			runc, ours = append(runc, r), append(ours, o)
		}
	}
	report(name, median(runc), median(ours), "<= 1.2x runc's (native column: runc)")
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
