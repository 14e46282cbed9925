// Package sandbox starts and confines the processes of one runsc-lite
// sandbox: the gofer (file broker) and the sentry (`runsc-lite boot`),
// connected by a unix socketpair. See DESIGN.md, "Processes of one
// sandbox".
package sandbox

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

// File descriptor numbers in the gofer and sentry processes. 0-2 are
// stdio (the guest's for the sentry, /dev/null and the log for the gofer).
const (
	// SpecFD is the read end of a pipe carrying the process's spec as
	// JSON (BootSpec or GoferSpec), closed by the launcher after writing.
	SpecFD = 3
	// SocketFD is the gofer's end (in the gofer) or the sentry's end (in
	// the sentry) of the SOCK_SEQPACKET socketpair between them.
	SocketFD = 4
)

// BootSpec is what `runsc-lite boot` (the sentry) receives on SpecFD.
type BootSpec struct {
	Config boot.Config `json:"config"`
	// HostMountNS is the launcher's mount namespace; the sentry must be in
	// another one before it mounts its empty root (ConfineOptions).
	HostMountNS uint64 `json:"hostMountNS"`
}

// GoferMount is one file system served by the gofer. Mount 0 is the root
// file system; mounts 1..n are boot.Config.Volumes in order.
type GoferMount struct {
	HostPath string `json:"hostPath"`
	ReadOnly bool   `json:"readOnly"`
}

// GoferSpec is what `runsc-lite gofer` receives on SpecFD.
type GoferSpec struct {
	Mounts      []GoferMount `json:"mounts"`
	HostMountNS uint64       `json:"hostMountNS"`
	// Debug enables the gofer's debug logging (to its stderr).
	Debug bool `json:"debug,omitempty"`
}

// ReadSpec decodes the JSON spec on fd into v and closes fd.
func ReadSpec(fd int, v any) error {
	f := os.NewFile(uintptr(fd), "spec")
	if f == nil {
		return fmt.Errorf("spec fd %d is not open", fd)
	}
	defer f.Close()
	if err := json.NewDecoder(f).Decode(v); err != nil {
		return fmt.Errorf("reading spec from fd %d: %w", fd, err)
	}
	return nil
}
