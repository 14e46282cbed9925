package boot

import (
	"runtime"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/devfs"
	"github.com/runsc-lite/runsc-lite/vfs/procfs"
	"github.com/runsc-lite/runsc-lite/vfs/sysfs"
)

func newProcFS(s *sandbox) *vfs.Filesystem { return procfs.New(s.vfs, s.k) }

func newDevFS(s *sandbox) (*vfs.Filesystem, error) { return devfs.New(s.vfs, s.mf) }

// newSysFS makes a sysfs showing the sandbox's CPUs (those
// sched_getaffinity reports, syscalls/proc's runtime.NumCPU), its memory
// (as /proc/meminfo) and the network interfaces of its namespace. A
// read-only one is so as a whole, as a container's /sys.
func newSysFS(s *sandbox, readOnly bool) *vfs.Filesystem {
	return sysfs.New(s.vfs, sysfs.Options{
		CPUs:       runtime.NumCPU(),
		ReadOnly:   readOnly,
		MemTotal:   s.k.MemTotal(),
		MemUsed:    func() uint64 { return uint64(s.mf.InUse()) * memfile.PageSize },
		Interfaces: listInterfaces,
	})
}
