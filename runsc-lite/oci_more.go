package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/control"
	pb "github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
)

// waitExit blocks until the sentry pid (started at start) has exited.
func waitExit(pid int, start uint64) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		waitGone(pid, start, 365*24*time.Hour)
		return
	}
	defer unix.Close(fd)
	if !processAlive(pid, start) {
		return
	}
	for processAlive(pid, start) {
		// A pidfd polls readable once its process has exited (zombie or
		// reaped), whoever its parent is.
		unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 1000)
	}
}

var waitCommand = ociCommand("wait", "wait for a container to stop and print its exit status", "ID", 1, nil,
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		c, err := loadContainer(g.root, args[0])
		if err != nil {
			return err
		}
		// Not locked while waiting: kill and delete must get in.
		c.unlock()
		waitExit(c.Pid, c.PidStart)
		status, ok := c.exitStatus()
		if !ok {
			// Killed before it could write its status: by SIGKILL.
			status = 128 + int(unix.SIGKILL)
		}
		fmt.Println(status)
		return nil
	})

// listContainers returns the state of every container under root, each
// read under its lock.
func listContainers(root string) ([]ociState, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ociState
	for _, e := range ents {
		c, err := loadContainer(root, e.Name())
		if err != nil {
			continue // being created or deleted
		}
		out = append(out, c.ociState())
		c.unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

var listCommand = ociCommand("list", "list the containers", "[--format table|json] [--quiet]", 0,
	func(b *flagSetBuilder) {
		b.String("format", "table", "output `FORMAT`: table or json")
		b.String("f", "", "short for --format")
		b.Bool("quiet", "print only the ids")
		b.Bool("q", "short for --quiet")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		format := b.str("format")
		if f := b.str("f"); f != "" {
			format = f
		}
		if format != "table" && format != "json" {
			return usageErrorf("--format must be table or json")
		}
		states, err := listContainers(g.root)
		if err != nil {
			return err
		}
		return printList(os.Stdout, states, format, b.on("quiet") || b.on("q"))
	})

func printList(w io.Writer, states []ociState, format string, quiet bool) error {
	switch {
	case quiet:
		for _, s := range states {
			fmt.Fprintln(w, s.ID)
		}
	case format == "json":
		if states == nil {
			states = []ociState{}
		}
		return json.NewEncoder(w).Encode(states)
	default:
		tw := tabwriter.NewWriter(w, 12, 1, 3, ' ', 0)
		fmt.Fprint(tw, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range states {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
		}
		return tw.Flush()
	}
	return nil
}

// hostPids are the container's host processes: those in its cgroup (the
// sentry, its stubs, the gofer), else the sentry.
func (c *container) hostPids() []int {
	if c.status() == statusStopped {
		return []int{}
	}
	if c.Cgroup != "" {
		if p := (&cgroup{path: c.Cgroup}).pids(); len(p) > 0 {
			sort.Ints(p)
			return p
		}
	}
	return []int{c.Pid}
}

var psCommand = ociCommand("ps", "list a container's host processes", "[--format table|json] ID", 1,
	func(b *flagSetBuilder) {
		b.String("format", "table", "output `FORMAT`: table or json")
		b.String("f", "", "short for --format")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		format := b.str("format")
		if f := b.str("f"); f != "" {
			format = f
		}
		c, err := loadContainer(g.root, args[0])
		if err != nil {
			return err
		}
		defer c.unlock()
		pids := c.hostPids()
		if format == "json" {
			return json.NewEncoder(os.Stdout).Encode(pids)
		}
		if format != "table" {
			return usageErrorf("--format must be table or json")
		}
		fmt.Println("PID\tCMD")
		for _, p := range pids {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			fmt.Printf("%d\t%s\n", p, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
		}
		return nil
	})

var pauseCommand = ociCommand("pause", "suspend every process of a container", "ID", 1, nil,
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		return setPaused(g, args[0], true)
	})

var resumeCommand = ociCommand("resume", "resume a paused container", "ID", 1, nil,
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		return setPaused(g, args[0], false)
	})

// setPaused freezes or thaws the container's cgroup: the sentry, its
// stubs and the gofer stop together.
func setPaused(g *globalFlags, id string, paused bool) error {
	c, err := loadContainer(g.root, id)
	if err != nil {
		return err
	}
	defer c.unlock()
	st := c.status()
	switch {
	case paused && st != statusRunning:
		return fmt.Errorf("container %s is not running", id)
	case !paused && st != statusPaused:
		return fmt.Errorf("container %s is not paused", id)
	}
	if c.Cgroup == "" {
		return errors.New("the container has no cgroup to freeze")
	}
	if err := freeze(c.Cgroup, paused); err != nil {
		return err
	}
	if paused {
		c.Status = statusPaused
		if err := c.save(); err != nil {
			// Or state would call a frozen container running.
			thaw(c.Cgroup)
			return err
		}
		return nil
	}
	c.Status = statusRunning
	pending := c.Pending
	c.Pending = nil
	if err := c.save(); err != nil {
		return err
	}
	// The signals sent while paused, now that the sentry runs. The
	// container has resumed whatever becomes of them: one that ended
	// meanwhile has no process left to signal.
	for _, p := range pending {
		if err := sendSignal(c, p); err != nil {
			logWarning(fmt.Sprintf("resume %s: %v", id, err))
		}
	}
	return nil
}

var updateCommand = ociCommand("update", "change a container's resource limits", "--resources FILE|- ID", 1,
	func(b *flagSetBuilder) {
		b.String("resources", "", "OCI linux.resources JSON in `FILE` (- for stdin)")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		src := b.str("resources")
		if src == "" {
			return usageErrorf("--resources is required")
		}
		var data []byte
		var err error
		if src == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(src)
		}
		if err != nil {
			return fmt.Errorf("reading resources: %w", err)
		}
		var r specs.LinuxResources
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("resources: %w", err)
		}
		c, err := loadContainer(g.root, args[0])
		if err != nil {
			return err
		}
		defer c.unlock()
		if c.status() == statusStopped {
			return fmt.Errorf("container %s is not running", c.ID)
		}
		if c.Cgroup == "" {
			return errors.New("the container has no cgroup")
		}
		if err := (&cgroup{path: c.Cgroup}).apply(&r); err != nil {
			return err
		}
		if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit != 0 && c.status() != statusPaused {
			// The guest side of a pids limit lives in the sentry.
			_, err := control.Call(c.dir, &pb.Request{Req: &pb.Request_Update{Update: &pb.UpdateRequest{MaxTasks: *r.Pids.Limit}}})
			return err
		}
		return nil
	})

var eventsCommand = ociCommand("events", "print a container's resource usage as JSON events", "[--stats] [--interval DURATION] ID", 1,
	func(b *flagSetBuilder) {
		b.Bool("stats", "print the statistics once and exit")
		b.String("interval", "5s", "time between statistics `DURATION`")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		interval, err := time.ParseDuration(b.str("interval"))
		if err != nil || interval <= 0 {
			return usageErrorf("bad --interval %q", b.str("interval"))
		}
		for {
			c, err := loadContainer(g.root, args[0])
			if err != nil {
				return err
			}
			st := c.status()
			ev := map[string]any{"type": "stats", "id": c.ID, "data": c.stats()}
			c.unlock()
			if st == statusStopped && !b.on("stats") {
				return nil
			}
			if err := json.NewEncoder(os.Stdout).Encode(ev); err != nil {
				return err
			}
			if b.on("stats") {
				return nil
			}
			time.Sleep(interval)
		}
	})

// stats reads the container's cgroup counters in runc's events shape
// (the subset the cgroups we use give).
func (c *container) stats() map[string]any {
	cg := &cgroup{path: c.Cgroup}
	read := func(controller, file string) uint64 {
		dir := filepath.Join(cgroupRoot, controller, cg.path)
		if cgroupV2() {
			dir = filepath.Join(cgroupRoot, cg.path)
		}
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return 0
		}
		var n uint64
		fmt.Sscan(string(bytes.TrimSpace(b)), &n)
		return n
	}
	if cgroupV2() {
		return map[string]any{
			"memory": map[string]any{"usage": map[string]any{"usage": read("", "memory.current"), "limit": read("", "memory.max")}},
			"pids":   map[string]any{"current": read("", "pids.current"), "limit": read("", "pids.max")},
		}
	}
	return map[string]any{
		"cpu":    map[string]any{"usage": map[string]any{"total": read("cpuacct", "cpuacct.usage")}},
		"memory": map[string]any{"usage": map[string]any{"usage": read("memory", "memory.usage_in_bytes"), "max": read("memory", "memory.max_usage_in_bytes"), "limit": read("memory", "memory.limit_in_bytes")}},
		"pids":   map[string]any{"current": read("pids", "pids.current"), "limit": read("pids", "pids.max")},
	}
}
