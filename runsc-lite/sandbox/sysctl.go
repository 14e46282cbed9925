package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/sentry/ipc"
)

// Sysctls are an OCI bundle's linux.sysctl sorted by where they apply.
type Sysctls struct {
	// Net are net.* sysctls (dotted names), to be set in the sandbox's
	// network namespace (SetSysctls).
	Net map[string]string
	// IPC are the IPC namespace's tunables the sentry keeps (names as
	// under /proc/sys/kernel: shmmax, sem...), values checked.
	IPC map[string]string
	// Hostname and Domainname are kernel.hostname and kernel.domainname
	// (the UTS namespace's), empty when not given.
	Hostname, Domainname string
	// Ignored are IPC sysctls runsc-lite does not apply, for the caller
	// to warn about.
	Ignored []string
}

// SplitSysctls sorts an OCI bundle's linux.sysctl as runc does, by the
// namespace each belongs to. net.* sysctls are refused when the sandbox
// shares the host's network namespace (hostNetwork); the IPC ones are the
// sentry's own namespace's. Anything else names no namespace of the
// container and is refused, as is a value the sentry would refuse.
func SplitSysctls(sysctls map[string]string, hostNetwork bool) (Sysctls, error) {
	var out Sysctls
	keys := make([]string, 0, len(sysctls))
	for k := range sysctls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.ReplaceAll(k, "/", ".")
		if !validSysctlName(name) {
			return Sysctls{}, fmt.Errorf("sysctl %q: not a sysctl name", k)
		}
		kernelName := strings.TrimPrefix(name, "kernel.")
		switch {
		case strings.HasPrefix(name, "net."):
			if hostNetwork {
				return Sysctls{}, fmt.Errorf("sysctl %q is not allowed in the host's network namespace", k)
			}
			if out.Net == nil {
				out.Net = map[string]string{}
			}
			out.Net[name] = sysctls[k]
		case strings.HasPrefix(name, "kernel.") && slices.Contains(ipc.Sysctls, kernelName):
			if err := ipc.CheckSysctl(kernelName, sysctls[k]); err != nil {
				return Sysctls{}, fmt.Errorf("sysctl %s=%q: %w", k, sysctls[k], err)
			}
			if out.IPC == nil {
				out.IPC = map[string]string{}
			}
			out.IPC[kernelName] = sysctls[k]
		case name == "kernel.hostname" || name == "kernel.domainname":
			// As Linux's uts sysctls: at most 64 bytes, a newline ends it.
			v, _, _ := strings.Cut(sysctls[k], "\n")
			if len(v) > 64 {
				return Sysctls{}, fmt.Errorf("sysctl %s=%q: longer than 64 bytes", k, sysctls[k])
			}
			if name == "kernel.hostname" {
				out.Hostname = v
			} else {
				out.Domainname = v
			}
		case ipcSysctl(name):
			out.Ignored = append(out.Ignored, k)
		default:
			return Sysctls{}, fmt.Errorf("sysctl %q is not in a separate kernel namespace", k)
		}
	}
	return out, nil
}

// ipcSysctl reports whether name belongs to the IPC namespace.
func ipcSysctl(name string) bool {
	switch name {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return true
	}
	return strings.HasPrefix(name, "fs.mqueue.")
}

// validSysctlName accepts dotted names of plain components, so that a name
// can never leave /proc/sys.
func validSysctlName(name string) bool {
	for _, c := range strings.Split(name, ".") {
		if c == "" || strings.Trim(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@:") != "" {
			return false
		}
	}
	return true
}

// sysctlPath is the /proc/sys file of a dotted sysctl name.
func sysctlPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

// SetSysctls writes dotted sysctls (as SplitSysctls returns them) in the
// caller's namespaces, in name order.
func SetSysctls(sysctls map[string]string) error {
	keys := make([]string, 0, len(sysctls))
	for k := range sysctls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !validSysctlName(k) {
			return fmt.Errorf("sysctl %q: not a sysctl name", k)
		}
		if err := os.WriteFile(sysctlPath(k), []byte(sysctls[k]), 0); err != nil {
			return fmt.Errorf("sysctl %s=%q: %w", k, sysctls[k], err)
		}
	}
	return nil
}

// UnprivilegedPortStart reads net.ipv4.ip_unprivileged_port_start of the
// caller's network namespace.
func UnprivilegedPortStart() (int, error) {
	b, err := os.ReadFile(sysctlPath("net.ipv4.ip_unprivileged_port_start"))
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("net.ipv4.ip_unprivileged_port_start: %w", err)
	}
	return n, nil
}
