package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A container's state lives in <root>/<id>/: state.json (container), the
// control socket of its sentry, and "exit", where the sentry writes its
// exit status when it ends. Every command that reads or changes a
// container holds an exclusive flock on the directory, so concurrent
// calls on one container are serialised and calls on different
// containers are independent.
const (
	stateFile = "state.json"
	exitFile  = "exit"
)

// Container statuses (the OCI runtime spec's, as runc reports them).
const (
	statusCreated = "created"
	statusRunning = "running"
	statusPaused  = "paused"
	statusStopped = "stopped"
)

// container is the persistent state of one container.
type container struct {
	ID      string    `json:"id"`
	Bundle  string    `json:"bundle"`
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
	// Pid is the sentry's host pid (the process that exits with the
	// container's status); PidStart its start time in clock ticks since
	// boot, so that a reused pid is not taken for it.
	Pid        int    `json:"pid"`
	PidStart   uint64 `json:"pidStart"`
	GoferPid   int    `json:"goferPid"`
	GoferStart uint64 `json:"goferStart"`
	// Status is the last status a command recorded (created, running or
	// paused); status() checks it against the processes.
	Status      string            `json:"status"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Cgroup      string            `json:"cgroup,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	// Pending are the signals sent while the container was paused, in
	// order; resume delivers them (as a frozen process gets its signals
	// when it is thawed).
	Pending []pendingSignal `json:"pendingSignals,omitempty"`

	dir  string
	lock *os.File
}

// pendingSignal is a kill of a paused container, kept for resume.
type pendingSignal struct {
	Signo int32 `json:"signo"`
	All   bool  `json:"all,omitempty"`
}

var idPattern = regexp.MustCompile(`^[\w+.-]+$`)

// validateID checks a container id the way runc does.
func validateID(id string) error {
	if id == "" {
		return errors.New("container id cannot be empty")
	}
	if !idPattern.MatchString(id) || id == "." || id == ".." || len(id) > 1024 {
		return fmt.Errorf("invalid container id %q", id)
	}
	return nil
}

// lockDir takes an exclusive flock on dir and returns the open directory
// (closing it releases the lock).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return f, nil
}

// newContainer makes the state directory of a new container, locked.
func newContainer(root, id string) (*container, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("state root: %w", err)
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container with id %s already exists", id)
		}
		return nil, fmt.Errorf("state directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	return &container{ID: id, dir: dir, lock: lock, Created: time.Now().UTC(), Owner: ownerName()}, nil
}

// errNotExist reports a container id that has no state.
type errNotExist struct{ id string }

func (e *errNotExist) Error() string { return "container does not exist" }

// loadContainer locks and reads the state of container id.
func loadContainer(root, id string) (*container, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	lock, err := lockDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &errNotExist{id}
	}
	if err != nil {
		return nil, err
	}
	c, err := readState(dir, id)
	if err != nil {
		lock.Close()
		return nil, err
	}
	c.lock = lock
	return c, nil
}

func readState(dir, id string) (*container, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		// Removed by a delete we waited for, or a create that failed.
		return nil, &errNotExist{id}
	}
	if err != nil {
		return nil, err
	}
	c := &container{dir: dir}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("state of %s: %w", id, err)
	}
	return c, nil
}

// unlock releases the container's lock.
func (c *container) unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// save writes the state atomically.
func (c *container) save() error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, stateFile)); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// status is the container's status now: stopped once its sentry is gone,
// whatever was recorded.
func (c *container) status() string {
	if c.Pid == 0 || !processAlive(c.Pid, c.PidStart) {
		return statusStopped
	}
	if c.Status == "" {
		return statusCreated
	}
	return c.Status
}

// exitStatus returns the status the sentry recorded when it ended.
func (c *container) exitStatus() (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.dir, exitFile))
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(first))
	return n, err == nil
}

// failure returns the error the sentry recorded when it failed.
func (c *container) failure() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, exitFile))
	_, msg, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(msg)
}

// procStat returns a process's state letter and start time
// (/proc/PID/stat fields 3 and 22).
func procStat(pid int) (state byte, start uint64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return 0, 0, false
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil || len(f[0]) == 0 {
		return 0, 0, false
	}
	return f[0][0], start, true
}

// processAlive reports whether pid is the process that started at start
// and has not exited (a zombie has).
func processAlive(pid int, start uint64) bool {
	st, s, ok := procStat(pid)
	return ok && s == start && st != 'Z' && st != 'X'
}

// signalProcess signals pid if it is still the process that started at
// start.
func signalProcess(pid int, start uint64, sig unix.Signal) error {
	if pid <= 0 || !processAlive(pid, start) {
		return nil
	}
	// A pidfd pins the process between the check and the signal.
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if err == unix.ESRCH {
			return nil
		}
		return unix.Kill(pid, sig)
	}
	defer unix.Close(fd)
	if !processAlive(pid, start) {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && err != unix.ESRCH {
		return err
	}
	return nil
}

// waitGone waits until pid has exited (or timeout).
func waitGone(pid int, start uint64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for processAlive(pid, start) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// ociState is the container's state in the shape runc prints and hooks
// receive.
type ociState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func (c *container) ociState() ociState {
	st := c.status()
	pid := c.Pid
	if st == statusStopped {
		pid = 0
	}
	return ociState{OCIVersion: specs.Version, ID: c.ID, Pid: pid, Status: st, Bundle: c.Bundle,
		Rootfs: c.Rootfs, Created: c.Created, Owner: c.Owner, Annotations: c.Annotations}
}

func ownerName() string {
	uid := os.Getuid()
	if uid == 0 {
		return "root"
	}
	return strconv.Itoa(uid)
}
