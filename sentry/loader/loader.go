// Package loader loads a guest program into a fresh address space: ELF
// executables (static, dynamic through PT_INTERP, PIE), `#!` scripts, and
// the initial stack with argv, envp and the auxiliary vector.
package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// File is an opened executable or interpreter.
type File interface {
	ReadAt(p []byte, off int64) (int, error)
	// Mappable returns the file's pages for mapping; the caller takes no
	// reference (the MM takes its own).
	Mappable() mm.Mappable
	// Identity for /proc/PID/maps.
	Name() string
	DevIno() (dev, ino uint64)
	Release()
}

// Opener opens a path for execution. It checks that the file is a regular
// file the caller may execute (EACCES otherwise) and follows symlinks.
type Opener func(path string) (File, error)

// Args describes what to load.
type Args struct {
	Path  string // path as given to execve
	Argv  []string
	Envv  []string
	Open  Opener
	Creds [4]uint32 // uid, euid, gid, egid for the auxv
	// Random supplies the 16 AT_RANDOM bytes.
	Random [16]byte
	// HWCap and HWCap2 for the auxv.
	HWCap, HWCap2 uint64
	// VDSO, if set, maps the vDSO and returns its address (AT_SYSINFO_EHDR).
	VDSO func(m *mm.MM) (uint64, error)
	// StackLimit is the process's RLIMIT_STACK: it bounds the initial stack
	// vma and sets how far below the stack mmap starts.
	StackLimit uint64
}

// Result is the loaded image.
type Result struct {
	Entry    uint64 // where the first instruction is (interpreter entry if any)
	Stack    uint64 // initial stack pointer
	Argv     []string
	Exe      File   // the executable that was loaded (the caller releases it)
	ExecPath string // path of the executable after #! resolution
}

const maxInterpreterDepth = 4

// Load loads args into m, which must be empty.
func Load(m *mm.MM, a Args) (*Result, error) {
	path, argv := a.Path, a.Argv
	var f File
	for depth := 0; ; depth++ {
		var err error
		f, err = a.Open(path)
		if err != nil {
			return nil, err
		}
		var hdr [256]byte
		n, _ := f.ReadAt(hdr[:], 0)
		if n >= 2 && hdr[0] == '#' && hdr[1] == '!' {
			f.Release()
			if depth >= maxInterpreterDepth {
				return nil, unix.ELOOP
			}
			interp, arg, err := parseShebang(hdr[:n])
			if err != nil {
				return nil, err
			}
			nargv := []string{interp}
			if arg != "" {
				nargv = append(nargv, arg)
			}
			nargv = append(nargv, path)
			if len(argv) > 1 {
				nargv = append(nargv, argv[1:]...)
			}
			path, argv = interp, nargv
			continue
		}
		if n < 4 || !bytes.Equal(hdr[:4], []byte(elf.ELFMAG)) {
			f.Release()
			return nil, unix.ENOEXEC
		}
		break
	}
	entry, img, err := loadELF(m, f, false)
	if err != nil {
		f.Release()
		return nil, err
	}
	var interpBase uint64
	if img.interp != "" {
		inf, err := a.Open(img.interp)
		if err != nil {
			f.Release()
			return nil, err
		}
		ientry, iimg, err := loadELF(m, inf, true)
		inf.Release()
		if err != nil {
			f.Release()
			return nil, err
		}
		interpBase = iimg.base
		entry = ientry
	}
	var vdso uint64
	if a.VDSO != nil {
		if vdso, err = a.VDSO(m); err != nil {
			f.Release()
			return nil, err
		}
	}
	sp, err := buildStack(m, a, argv, path, img, interpBase, vdso)
	if err != nil {
		f.Release()
		return nil, err
	}
	return &Result{Entry: entry, Stack: sp, Argv: argv, Exe: f, ExecPath: path}, nil
}

func parseShebang(hdr []byte) (interp, arg string, err error) {
	line := hdr[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s := strings.TrimLeft(string(line), " \t")
	s = strings.TrimRight(s, " \t\r")
	if s == "" {
		return "", "", unix.ENOEXEC
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		interp = s[:i]
		arg = strings.TrimLeft(s[i:], " \t")
	} else {
		interp = s
	}
	return interp, arg, nil
}

type image struct {
	base   uint64 // load bias
	phdr   uint64 // address of the program headers in memory
	phent  uint64
	phnum  uint64
	entry  uint64 // of the executable itself
	brk    uint64
	interp string
}

func perm(flags elf.ProgFlag) platform.Access {
	return platform.Access{Read: flags&elf.PF_R != 0, Write: flags&elf.PF_W != 0, Execute: flags&elf.PF_X != 0}
}

// loadELF maps an ELF image; interp says it is the dynamic linker.
func loadELF(m *mm.MM, f File, interp bool) (uint64, *image, error) {
	var eh elf.Header64
	buf := make([]byte, binary.Size(eh))
	if n, _ := f.ReadAt(buf, 0); n != len(buf) {
		return 0, nil, unix.ENOEXEC
	}
	binary.Read(bytes.NewReader(buf), binary.LittleEndian, &eh)
	if eh.Ident[elf.EI_CLASS] != byte(elf.ELFCLASS64) || eh.Ident[elf.EI_DATA] != byte(elf.ELFDATA2LSB) ||
		elf.Machine(eh.Machine) != elf.EM_X86_64 {
		return 0, nil, unix.ENOEXEC
	}
	typ := elf.Type(eh.Type)
	if typ != elf.ET_EXEC && typ != elf.ET_DYN {
		return 0, nil, unix.ENOEXEC
	}
	if eh.Phentsize != uint16(binary.Size(elf.Prog64{})) || eh.Phnum == 0 || eh.Phnum > 128 {
		return 0, nil, unix.ENOEXEC
	}
	phbuf := make([]byte, int(eh.Phnum)*int(eh.Phentsize))
	if n, _ := f.ReadAt(phbuf, int64(eh.Phoff)); n != len(phbuf) {
		return 0, nil, unix.ENOEXEC
	}
	phs := make([]elf.Prog64, eh.Phnum)
	binary.Read(bytes.NewReader(phbuf), binary.LittleEndian, phs)

	img := &image{phent: uint64(eh.Phentsize), phnum: uint64(eh.Phnum)}
	var lo, hi uint64 = ^uint64(0), 0
	for _, ph := range phs {
		switch elf.ProgType(ph.Type) {
		case elf.PT_LOAD:
			if ph.Memsz < ph.Filesz || ph.Vaddr+ph.Memsz < ph.Vaddr {
				return 0, nil, unix.ENOEXEC
			}
			lo = min(lo, linux.PageRoundDown(ph.Vaddr))
			hi = max(hi, ph.Vaddr+ph.Memsz)
		case elf.PT_INTERP:
			if interp || ph.Filesz == 0 || ph.Filesz > 4096 {
				return 0, nil, unix.ENOEXEC
			}
			p := make([]byte, ph.Filesz)
			if n, _ := f.ReadAt(p, int64(ph.Off)); n != len(p) {
				return 0, nil, unix.ENOEXEC
			}
			img.interp = string(bytes.TrimRight(p, "\x00"))
		}
	}
	if hi == 0 {
		return 0, nil, unix.ENOEXEC
	}
	total, _ := linux.PageRoundUp(hi - lo)
	if typ == elf.ET_DYN {
		// Reserve the whole span, then place segments inside it.
		hint := uint64(0x555555554000)
		if interp {
			hint = 0
		}
		base, err := m.Map(mm.MapOpts{Addr: hint, Length: total, Perm: platform.NoAccess})
		if err != nil {
			return 0, nil, err
		}
		img.base = base - lo
	}
	dev, ino := f.DevIno()
	mp := f.Mappable()
	for _, ph := range phs {
		if elf.ProgType(ph.Type) != elf.PT_LOAD {
			continue
		}
		vaddr := ph.Vaddr + img.base
		start := linux.PageRoundDown(vaddr)
		fileOff := int64(ph.Off) - int64(vaddr-start)
		if fileOff < 0 || fileOff%linux.PageSize != 0 {
			return 0, nil, unix.ENOEXEC
		}
		fileEnd, _ := linux.PageRoundUp(vaddr + ph.Filesz)
		memEnd, _ := linux.PageRoundUp(vaddr + ph.Memsz)
		p := perm(elf.ProgFlag(ph.Flags))
		if ph.Filesz > 0 {
			if _, err := m.Map(mm.MapOpts{Addr: start, Length: fileEnd - start, Perm: p, Fixed: true,
				File: mp, Offset: fileOff, Name: f.Name(), Dev: dev, Ino: ino}); err != nil {
				return 0, nil, err
			}
			// Zero the tail of the last file page that belongs to bss.
			if ph.Memsz > ph.Filesz {
				tail := vaddr + ph.Filesz
				if n := fileEnd - tail; n > 0 && n < linux.PageSize {
					if !p.Write {
						m.Protect(start, fileEnd-start, platform.ReadWrite)
					}
					if _, err := m.CopyOut(tail, make([]byte, n)); err != nil {
						return 0, nil, err
					}
					if !p.Write {
						m.Protect(start, fileEnd-start, p)
					}
				}
			}
		} else {
			fileEnd = start
		}
		if memEnd > fileEnd {
			if _, err := m.Map(mm.MapOpts{Addr: fileEnd, Length: memEnd - fileEnd, Perm: p, Fixed: true}); err != nil {
				return 0, nil, err
			}
		}
		img.brk = max(img.brk, memEnd)
		if ph.Off <= eh.Phoff && eh.Phoff < ph.Off+ph.Filesz {
			img.phdr = vaddr + (eh.Phoff - ph.Off)
		}
	}
	for _, ph := range phs {
		if elf.ProgType(ph.Type) == elf.PT_PHDR {
			img.phdr = ph.Vaddr + img.base
		}
	}
	img.entry = eh.Entry + img.base
	if !interp {
		m.SetBrkStart(img.brk)
	}
	return img.entry, img, nil
}

// buildStack creates the stack vma and writes argc, argv, envp and auxv.
func buildStack(m *mm.MM, a Args, argv []string, execfn string, img *image, interpBase, vdso uint64) (uint64, error) {
	top := m.MaxAddress() - 0x10000
	// The strings go into a reservation that holds the most execve takes;
	// it is trimmed to what Linux leaves once they are written.
	if _, err := m.Map(mm.MapOpts{Addr: top - stackReserve, Length: stackReserve, Perm: platform.ReadWrite,
		Fixed: true, GrowsDown: true, Name: "[stack]"}); err != nil {
		return 0, err
	}
	m.SetMmapTop(top - mmapGap(a.StackLimit, m.MaxAddress()))

	// Strings, from the top down.
	sp := top
	push := func(b []byte) (uint64, error) {
		sp -= uint64(len(b))
		_, err := m.CopyOut(sp, b)
		return sp, err
	}
	cstr := func(s string) []byte { return append([]byte(s), 0) }
	execfnAddr, err := push(cstr(execfn))
	if err != nil {
		return 0, err
	}
	platAddr, _ := push(cstr("x86_64"))
	randAddr, _ := push(a.Random[:])
	envEnd := sp
	envAddrs := make([]uint64, len(a.Envv))
	for i := len(a.Envv) - 1; i >= 0; i-- {
		if envAddrs[i], err = push(cstr(a.Envv[i])); err != nil {
			return 0, err
		}
	}
	m.EnvStart, m.EnvEnd = sp, envEnd
	argEnd := sp
	argAddrs := make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		if argAddrs[i], err = push(cstr(argv[i])); err != nil {
			return 0, err
		}
	}
	m.ArgStart, m.ArgEnd = sp, argEnd

	auxv := []uint64{
		linux.AT_PHDR, img.phdr,
		linux.AT_PHENT, img.phent,
		linux.AT_PHNUM, img.phnum,
		linux.AT_PAGESZ, linux.PageSize,
		linux.AT_BASE, interpBase,
		linux.AT_FLAGS, 0,
		linux.AT_ENTRY, img.entry,
		linux.AT_UID, uint64(a.Creds[0]),
		linux.AT_EUID, uint64(a.Creds[1]),
		linux.AT_GID, uint64(a.Creds[2]),
		linux.AT_EGID, uint64(a.Creds[3]),
		linux.AT_SECURE, 0,
		linux.AT_CLKTCK, 100,
		linux.AT_HWCAP, a.HWCap,
		linux.AT_HWCAP2, a.HWCap2,
		linux.AT_RANDOM, randAddr,
		linux.AT_PLATFORM, platAddr,
		linux.AT_EXECFN, execfnAddr,
	}
	if vdso != 0 {
		auxv = append(auxv, linux.AT_SYSINFO_EHDR, vdso)
	}
	auxv = append(auxv, linux.AT_NULL, 0)
	m.Auxv = auxv
	words := 1 + len(argv) + 1 + len(a.Envv) + 1 + len(auxv)
	sp = (sp - uint64(words)*8) &^ 15
	out := make([]byte, 0, words*8)
	put := func(v uint64) { out = binary.LittleEndian.AppendUint64(out, v) }
	put(uint64(len(argv)))
	for _, p := range argAddrs {
		put(p)
	}
	put(0)
	for _, p := range envAddrs {
		put(p)
	}
	put(0)
	for _, v := range auxv {
		put(v)
	}
	if _, err := m.CopyOut(sp, out); err != nil {
		return 0, fmt.Errorf("write initial stack: %w", err)
	}
	if start := stackStart(sp, top, a.StackLimit); start > top-stackReserve {
		if err := m.Unmap(top-stackReserve, start-(top-stackReserve)); err != nil {
			return 0, fmt.Errorf("trim initial stack: %w", err)
		}
	}
	return sp, nil
}

const (
	// stackReserve bounds the initial stack: execve's strings and pointers
	// (at most 6 MiB, three quarters of Linux's _STK_LIM) and the auxv.
	stackReserve = 8 << 20
	// stackExpand is the room Linux leaves below the initial stack pointer.
	stackExpand = 128 << 10
	// minMmapGap and stackGuardGap are Linux's bounds on the gap between
	// the stack top and the mmap base (mm/util.c's mmap_base).
	minMmapGap    = 128 << 20
	stackGuardGap = 256 << 12
)

// stackStart is where the initial stack vma starts once the strings below
// top end at sp: stackExpand below sp's page, as Linux's setup_arg_pages,
// but never making the stack larger than limit unless the strings already
// do.
func stackStart(sp, top, limit uint64) uint64 {
	used := sp &^ (linux.PageSize - 1)
	start := used - stackExpand
	if limit &^= linux.PageSize - 1; top-start > limit {
		start = top - max(limit, top-used)
	}
	return start
}

// mmapGap is how far below the top of the stack mmap allocations start:
// room for the stack to grow to limit, bounded as Linux's mmap_base.
func mmapGap(limit, maxAddr uint64) uint64 {
	gap := limit
	if gap < minMmapGap || gap+stackGuardGap < gap {
		return minMmapGap
	}
	return min(gap+stackGuardGap, maxAddr/6*5)
}
