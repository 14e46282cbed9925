package docker

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/test/dockerengine"
)

// image is the busybox image every test runs.
const image = dockerengine.Image

// runtimeName is the name runsc-lite is registered under.
const runtimeName = dockerengine.RuntimeName

// exitCode returns the exit status in err (0 for nil, -1 if it is not an
// exit status).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

// hostPIDs returns the pids of the processes whose command line mentions s
// (the runtime's sandbox processes carry the container id in their
// arguments or cgroup).
func hostPIDs(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cg := readFile(filepath.Join("/proc", ent.Name(), "cgroup"))
		cmd := readFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if strings.Contains(cg, s) || strings.Contains(cmd, s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
