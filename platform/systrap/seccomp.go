package systrap

import (
	"golang.org/x/sys/unix"

	"encoding/binary"
	"fmt"
)

// The stub's seccomp filter. Its default action is SECCOMP_RET_TRAP, so
// every guest system call becomes a SIGSYS in the stub. A system call is
// executed by the host only if it comes from the stub code page(s) and is
// one the stub itself needs, with arguments restricted where they are
// static. Guest code can jump into the stub code, so the argument checks
// are what limit such a guest (see the package doc's limitations).

const (
	auditArchX8664 = 0xc000003e

	secRetTrap  = 0x00030000
	secRetAllow = 0x7fff0000

	// seccomp_data offsets
	sdNr   = 0
	sdArch = 4
	sdIPLo = 8
	sdIPHi = 12
	sdArg0 = 16 // args[i] at 16+8*i (low half), +4 (high half)

	bpfLdAbsW = 0x20 // BPF_LD|BPF_W|BPF_ABS
	bpfJeqK   = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	bpfJgeK   = 0x35 // BPF_JMP|BPF_JGE|BPF_K
	bpfJsetK  = 0x45 // BPF_JMP|BPF_JSET|BPF_K
	bpfRetK   = 0x06 // BPF_RET|BPF_K
)

type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// bpfProg is a tiny assembler with forward jumps to named labels.
type bpfProg struct {
	insns  []bpfInsn
	labels map[string]int
	fixes  []bpfFix
}

type bpfFix struct {
	at     int
	jt, jf string
}

func (p *bpfProg) ld(off uint32) { p.insns = append(p.insns, bpfInsn{code: bpfLdAbsW, k: off}) }
func (p *bpfProg) ret(k uint32)  { p.insns = append(p.insns, bpfInsn{code: bpfRetK, k: k}) }
func (p *bpfProg) label(l string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[l] = len(p.insns)
}

// jmp emits a conditional jump; an empty label means "next instruction".
func (p *bpfProg) jmp(code uint16, k uint32, jt, jf string) {
	p.fixes = append(p.fixes, bpfFix{at: len(p.insns), jt: jt, jf: jf})
	p.insns = append(p.insns, bpfInsn{code: code, k: k})
}

func (p *bpfProg) assemble() ([]byte, error) {
	for _, f := range p.fixes {
		for i, l := range []string{f.jt, f.jf} {
			if l == "" {
				continue
			}
			t, ok := p.labels[l]
			d := t - f.at - 1
			if !ok || d < 0 || d > 255 {
				return nil, fmt.Errorf("bpf: bad jump to %q", l)
			}
			if i == 0 {
				p.insns[f.at].jt = uint8(d)
			} else {
				p.insns[f.at].jf = uint8(d)
			}
		}
	}
	b := make([]byte, 8*len(p.insns))
	for i, in := range p.insns {
		binary.LittleEndian.PutUint16(b[8*i:], in.code)
		b[8*i+2] = in.jt
		b[8*i+3] = in.jf
		binary.LittleEndian.PutUint32(b[8*i+4:], in.k)
	}
	return b, nil
}

// Host system call numbers the stub uses after the filter is installed.
const (
	sysClose        = 3
	sysMmap         = 9
	sysMprotect     = 10
	sysMunmap       = 11
	sysRtSigprocmsk = 14
	sysRtSigreturn  = 15
	sysSchedYield   = 24
	sysClone        = 56
	sysExit         = 60
	sysSigaltstack  = 131
	sysPrctl        = 157
	sysArchPrctl    = 158
	sysGettid       = 186
	sysFutex        = 202
	sysExitGroup    = 231

	cloneThreadFlags = 0x250f00 // must match THREAD_FLAGS in stub_amd64.S
	sigchld          = 17
	mapSharedFixed   = 0x11
)

// stubFilter builds the filter for a stub whose code occupies
// [stubBase, stubBase+codeLen) and whose platform has nfiles backing files.
func stubFilter(codeLen uintptr, nfiles int) ([]byte, error) {
	if nfiles < 1 || nfiles > maxFiles {
		return nil, fmt.Errorf("systrap: %d backing files, want 1 to %d", nfiles, maxFiles)
	}
	codeEnd := (codeLen + 0xfff) &^ 0xfff
	var p bpfProg
	p.ld(sdArch)
	p.jmp(bpfJeqK, auditArchX8664, "", "trap")
	p.ld(sdIPHi)
	p.jmp(bpfJeqK, uint32(stubBase>>32), "", "trap")
	p.ld(sdIPLo)
	p.jmp(bpfJgeK, uint32(stubBase&0xffffffff)+uint32(codeEnd), "trap", "")
	p.ld(sdNr)
	// System calls allowed with any arguments.
	for _, nr := range []uint32{sysMunmap, sysRtSigprocmsk, sysRtSigreturn, sysSchedYield, sysExit,
		sysSigaltstack, sysGettid, sysFutex, sysExitGroup} {
		p.jmp(bpfJeqK, nr, "allow", "")
	}
	p.jmp(bpfJeqK, sysMmap, "mmap", "")
	p.jmp(bpfJeqK, sysClone, "clone", "")
	p.jmp(bpfJeqK, sysPrctl, "prctl", "")
	p.jmp(bpfJeqK, sysArchPrctl, "arch_prctl", "")
	p.jmp(bpfJeqK, sysClose, "close", "")
	p.jmp(bpfJeqK, sysMprotect, "mprotect", "")
	p.ret(secRetTrap)

	// mprotect: only to PROT_READ and/or PROT_EXEC, so it can take rights
	// away (copy-on-write after fork) but never make anything writable.
	p.label("mprotect")
	p.ld(sdArg0 + 8*2 + 4)
	p.jmp(bpfJeqK, 0, "", "trap")
	p.ld(sdArg0 + 8*2)
	p.jmp(bpfJsetK, ^uint32(unix.PROT_READ|unix.PROT_EXEC), "trap", "allow")

	// close: only of the master's memfd (after the fork).
	p.label("close")
	p.ld(sdArg0 + 4)
	p.jmp(bpfJeqK, 0, "", "trap")
	p.ld(sdArg0)
	p.jmp(bpfJeqK, masterFDNum, "allow", "trap")

	// mmap: only MAP_SHARED|MAP_FIXED mappings of the stub memfd and the
	// platform's backing files (never of the master's memfd, nor of a
	// descriptor number that has no backing file).
	p.label("mmap")
	p.ld(sdArg0 + 8*3)
	p.jmp(bpfJeqK, mapSharedFixed, "", "trap")
	p.ld(sdArg0 + 8*3 + 4)
	p.jmp(bpfJeqK, 0, "", "trap")
	p.ld(sdArg0 + 8*4 + 4)
	p.jmp(bpfJeqK, 0, "", "trap")
	p.ld(sdArg0 + 8*4)
	p.jmp(bpfJeqK, stubFDNum, "allow", "")
	for _, fd := range fileFDNum[:nfiles] {
		p.jmp(bpfJeqK, uint32(fd), "allow", "")
	}
	p.ret(secRetTrap)

	// clone: only the two flag sets the stub uses.
	p.label("clone")
	p.ld(sdArg0 + 4)
	p.jmp(bpfJeqK, 0, "", "trap")
	p.ld(sdArg0)
	p.jmp(bpfJeqK, cloneThreadFlags, "allow", "")
	p.jmp(bpfJeqK, sigchld, "allow", "trap")

	// prctl: only PR_SET_PDEATHSIG.
	p.label("prctl")
	p.ld(sdArg0 + 4)
	p.jmp(bpfJeqK, 0, "", "trap")
	p.ld(sdArg0)
	p.jmp(bpfJeqK, 1, "allow", "trap")

	// arch_prctl: only get/set of FS and GS base.
	p.label("arch_prctl")
	p.ld(sdArg0 + 4)
	p.jmp(bpfJeqK, 0, "", "trap")
	p.ld(sdArg0)
	p.jmp(bpfJgeK, 0x1001, "", "trap")
	p.jmp(bpfJgeK, 0x1005, "trap", "allow")

	p.label("allow")
	p.ret(secRetAllow)
	p.label("trap")
	p.ret(secRetTrap)
	return p.assemble()
}
