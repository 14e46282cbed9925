// Package sysfs is the /sys file system: a synthetic, read-only view of
// the sandbox's "devices" with what programs in containers read from it:
// the CPUs (glibc's get_nprocs and sysconf(_SC_NPROCESSORS_*), lscpu,
// Java), one NUMA node, transparent huge page settings (Go, Java), the
// network interfaces of the sentry's network namespace, and the usual
// top-level directories (empty where the sandbox has nothing to show, as
// /sys/fs/cgroup, a mount point).
//
// The CPUs are those the rest of the sandbox reports: CPUs 0 to N-1, as in
// sched_getaffinity, /proc/cpuinfo (one package, one thread per core) and
// /proc/stat.
package sysfs

import (
	"path"
	"runtime"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// Magic is SYSFS_MAGIC (statfs f_type).
const Magic = 0x62656572

// kernelMax is /sys/devices/system/cpu/kernel_max: NR_CPUS-1 of a
// distribution kernel (Debian's and Ubuntu's CONFIG_NR_CPUS=8192).
const kernelMax = 8191

// Options describe what a sysfs instance shows.
type Options struct {
	// CPUs is the number of CPUs (at least 1): CPUs 0 to CPUs-1 are
	// possible, present and online.
	CPUs int
	// MemTotal is the memory size in bytes (node0/meminfo, as
	// /proc/meminfo's MemTotal).
	MemTotal uint64
	// MemUsed, if set, returns the memory in use in bytes.
	MemUsed func() uint64
	// ReadOnly makes the instance itself read-only, as Linux's sysfs
	// superblock is when first mounted "ro" in a new network namespace (a
	// container's /sys): every change fails with EROFS, for users without
	// permission too. Mount it read-only as well.
	ReadOnly bool
	// Interfaces, if set, lists the network interfaces of the sandbox's
	// network namespace (/sys/class/net); it is called on each look, so
	// interfaces added later (by a container's network set-up) show.
	Interfaces func() ([]Interface, error)
}

// Interface is a network interface as rtnetlink describes it.
type Interface struct {
	Name       string
	Index      int32
	Link       int32  // IFLA_LINK (iflink): Index for most interfaces
	Type       uint16 // ARPHRD_*
	Flags      uint32 // IFF_*, with the operational ones (IFF_RUNNING)
	MTU        uint32
	TxQueueLen uint32
	OperState  uint8 // IF_OPER_*
	Address    []byte
	Broadcast  []byte
}

// FS is a sysfs instance.
type FS struct {
	opts   Options
	madeTS vfs.Timestamp // every file's times: when the instance was made
	cpus   []int         // 0 .. CPUs-1
}

// New makes a sysfs instance, to be mounted at /sys.
func New(v *vfs.VFS, opts Options) *vfs.Filesystem {
	opts.CPUs = max(opts.CPUs, 1)
	now := time.Now()
	fs := &FS{opts: opts, madeTS: vfs.Timestamp{Sec: now.Unix(), Nsec: uint32(now.Nanosecond())}}
	for i := range opts.CPUs {
		fs.cpus = append(fs.cpus, i)
	}
	return v.NewFilesystem(fs, fs.newRoot())
}

// Name implements vfs.FilesystemImpl.
func (fs *FS) Name() string { return "sysfs" }

// Release implements vfs.FilesystemImpl.
func (fs *FS) Release() {}

// StatFS implements vfs.FilesystemImpl.
func (fs *FS) StatFS(vfs.Context) (vfs.Statfs, error) {
	return vfs.Statfs{Type: Magic, Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax}, nil
}

// dirBuilder makes the entries of the directory at path (whose inode
// number is ino).
type dirBuilder struct {
	fs   *FS
	path string
	ino  uint64
}

func (b dirBuilder) sub(name string) string { return path.Join(b.path, name) }

// newDir makes the directory at p with fixed entries, built once.
func (fs *FS) newDir(p string, parentIno uint64, mode uint32, build func(dirBuilder) []child) *dirNode {
	ino := inoOf(p)
	var cs []child
	if build != nil {
		cs = build(dirBuilder{fs: fs, path: p, ino: ino})
	}
	return &dirNode{node: node{fs: fs, ino: ino, mode: unix.S_IFDIR | mode}, parentIno: parentIno,
		list: func(vfs.Context) ([]child, error) { return slices.Clone(cs), nil }}
}

// dir is a subdirectory with fixed entries (none if build is nil).
func (b dirBuilder) dir(name string, build func(dirBuilder) []child) child {
	return childOf(name, b.fs.newDir(b.sub(name), b.ino, 0o755, build))
}

// mountPoint is an empty subdirectory for a file system to be mounted on.
func (b dirBuilder) mountPoint(name string) child {
	d := b.fs.newDir(b.sub(name), b.ino, 0o555, nil)
	return childOf(name, &mountPointNode{dirNode: *d})
}

// volatileDir is a subdirectory whose entries list computes on each look.
func (b dirBuilder) volatileDir(name string, list func(dirBuilder) ([]child, error)) child {
	p := b.sub(name)
	ino := inoOf(p)
	sub := dirBuilder{fs: b.fs, path: p, ino: ino}
	d := &dirNode{node: node{fs: b.fs, ino: ino, mode: unix.S_IFDIR | 0o755}, parentIno: b.ino, volatile: true,
		list: func(vfs.Context) ([]child, error) { return list(sub) }}
	return childOf(name, d)
}

// attr is a read-only attribute generated when read.
func (b dirBuilder) attr(name string, gen func() ([]byte, error)) child {
	return childOf(name, &attrNode{node: node{fs: b.fs, ino: inoOf(b.sub(name)), mode: unix.S_IFREG | 0o444}, gen: gen})
}

// text is a read-only attribute with fixed text.
func (b dirBuilder) text(name, s string) child {
	return b.attr(name, func() ([]byte, error) { return []byte(s), nil })
}

// writable is an attribute Linux lets root write (mode 0644); writes fail
// with writeErr in the sandbox.
func (b dirBuilder) writable(name string, writeErr error, gen func() ([]byte, error)) child {
	return childOf(name, &attrNode{node: node{fs: b.fs, ino: inoOf(b.sub(name)), mode: unix.S_IFREG | 0o644},
		gen: gen, writeErr: writeErr})
}

// link is a symbolic link.
func (b dirBuilder) link(name, target string) child {
	return childOf(name, &linkNode{node: node{fs: b.fs, ino: inoOf(b.sub(name)), mode: unix.S_IFLNK | 0o777}, target: target})
}

// childOf makes a directory entry for a node.
func childOf(name string, in vfs.Inode) child {
	var n *node
	switch x := in.(type) {
	case *dirNode:
		n = &x.node
	case *mountPointNode:
		n = &x.node
	case *attrNode:
		n = &x.node
	case *linkNode:
		n = &x.node
	}
	return child{name: name, inode: in, mode: n.mode, ino: n.ino}
}

// newRoot builds /sys: the top-level directories of Linux's sysfs.
func (fs *FS) newRoot() *dirNode {
	root := inoOf("/")
	return fs.newDir("/", root, 0o555, func(b dirBuilder) []child {
		return []child{
			b.dir("block", nil),
			b.dir("bus", nil),
			b.dir("class", func(b dirBuilder) []child {
				return []child{b.volatileDir("net", fs.classNet)}
			}),
			b.dir("dev", func(b dirBuilder) []child {
				return []child{b.dir("block", nil), b.dir("char", nil)}
			}),
			b.dir("devices", func(b dirBuilder) []child {
				return []child{
					b.dir("system", func(b dirBuilder) []child {
						return []child{b.dir("cpu", fs.cpuDir), b.dir("node", fs.nodeDir)}
					}),
					b.dir("virtual", func(b dirBuilder) []child {
						return []child{b.volatileDir("net", fs.virtualNet)}
					}),
				}
			}),
			b.dir("firmware", nil),
			b.dir("fs", func(b dirBuilder) []child {
				return []child{b.mountPoint("cgroup")}
			}),
			b.dir("kernel", fs.kernelDir),
			b.dir("module", nil),
			b.dir("power", nil),
		}
	})
}

// cpuDir builds /sys/devices/system/cpu.
func (fs *FS) cpuDir(b dirBuilder) []child {
	all := formatList(fs.cpus) + "\n"
	var cs []child
	for _, i := range fs.cpus {
		cs = append(cs, b.dir("cpu"+strconv.Itoa(i), func(b dirBuilder) []child { return fs.cpuN(b, i) }))
	}
	return append(cs,
		b.text("isolated", "\n"),
		b.text("kernel_max", strconv.Itoa(max(kernelMax, fs.opts.CPUs-1))+"\n"),
		b.text("offline", "\n"),
		b.text("online", all),
		b.text("possible", all),
		b.text("present", all),
	)
}

// cpuN builds /sys/devices/system/cpu/cpuI: the topology /proc/cpuinfo
// describes (one package and die, one thread per core, core id I).
func (fs *FS) cpuN(b dirBuilder, i int) []child {
	n := fs.opts.CPUs
	self := []int{i}
	selfMask, selfList := formatMask(self, n)+"\n", formatList(self)+"\n"
	allMask, allList := formatMask(fs.cpus, n)+"\n", formatList(fs.cpus)+"\n"
	topology := b.dir("topology", func(b dirBuilder) []child {
		return []child{
			b.text("core_cpus", selfMask),
			b.text("core_cpus_list", selfList),
			b.text("core_id", strconv.Itoa(i)+"\n"),
			b.text("core_siblings", allMask),
			b.text("core_siblings_list", allList),
			b.text("die_cpus", allMask),
			b.text("die_cpus_list", allList),
			b.text("die_id", "0\n"),
			b.text("package_cpus", allMask),
			b.text("package_cpus_list", allList),
			b.text("physical_package_id", "0\n"),
			b.text("thread_siblings", selfMask),
			b.text("thread_siblings_list", selfList),
		}
	})
	cs := []child{topology}
	// x86's boot CPU cannot be taken offline: Linux gives it no online
	// file. Other architectures have one for every CPU.
	if i > 0 || runtime.GOARCH != "amd64" {
		cs = append(cs, b.writable("online", unix.EPERM, func() ([]byte, error) { return []byte("1\n"), nil }))
	}
	return cs
}

// nodeDir builds /sys/devices/system/node: one node with every CPU and
// all the memory.
func (fs *FS) nodeDir(b dirBuilder) []child {
	node0 := b.dir("node0", func(b dirBuilder) []child {
		return []child{
			b.text("cpulist", formatList(fs.cpus)+"\n"),
			b.text("cpumap", formatMask(fs.cpus, fs.opts.CPUs)+"\n"),
			b.text("distance", "10\n"),
			b.attr("meminfo", func() ([]byte, error) {
				var used uint64
				if fs.opts.MemUsed != nil {
					used = fs.opts.MemUsed()
				}
				return []byte(formatNodeMeminfo(0, fs.opts.MemTotal, used)), nil
			}),
		}
	})
	return []child{
		b.text("has_cpu", "0\n"),
		b.text("has_memory", "0\n"),
		b.text("has_normal_memory", "0\n"),
		node0,
		b.text("online", "0\n"),
		b.text("possible", "0\n"),
	}
}

// kernelDir builds /sys/kernel: memory management settings programs read
// to size their heaps (transparent and explicit huge pages). The sandbox
// has no explicit huge pages; transparent ones are as a distribution
// kernel's defaults (madvise), which the sentry accepts as hints.
func (fs *FS) kernelDir(b dirBuilder) []child {
	return []child{
		b.dir("mm", func(b dirBuilder) []child {
			return []child{
				b.dir("hugepages", func(b dirBuilder) []child {
					return []child{b.dir("hugepages-2048kB", func(b dirBuilder) []child {
						return []child{
							b.text("free_hugepages", "0\n"),
							b.writable("nr_hugepages", unix.EPERM, static("0\n")),
							b.writable("nr_overcommit_hugepages", unix.EPERM, static("0\n")),
							b.text("resv_hugepages", "0\n"),
							b.text("surplus_hugepages", "0\n"),
						}
					})}
				}),
				b.dir("transparent_hugepage", func(b dirBuilder) []child {
					return []child{
						b.writable("defrag", unix.EPERM, static("always defer defer+madvise [madvise] never\n")),
						b.writable("enabled", unix.EPERM, static("always [madvise] never\n")),
						b.text("hpage_pmd_size", "2097152\n"),
						b.writable("shmem_enabled", unix.EPERM, static("always within_size advise [never] deny force\n")),
						b.writable("use_zero_page", unix.EPERM, static("1\n")),
					}
				}),
			}
		}),
	}
}

// static returns a generator of fixed text.
func static(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}
