package systrap

import (
	"encoding/binary"
	"fmt"

	"github.com/runsc-lite/runsc-lite/platform"
)

// Layout of the x86-64 signal frame pieces the handler reports (struct
// ucontext, struct sigcontext, siginfo_t, the XSAVE-format fpstate).
const (
	ucFlags   = 0
	ucStack   = 16 // stack_t: ss_sp, ss_flags (+8), ss_size (+16)
	ucMcontx  = 40
	ucSigmask = 296
	ucSize    = 304

	// sigcontext offsets (relative to ucMcontx)
	scR8     = 0
	scRdi    = 64
	scRsi    = 72
	scRbp    = 80
	scRbx    = 88
	scRdx    = 96
	scRax    = 104
	scRcx    = 112
	scRsp    = 120
	scRip    = 128
	scEflags = 136
	scCS     = 144 // u16 cs, gs, fs, ss
	scSS     = 150
	scErr    = 152
	scTrapno = 160
	scCR2    = 176
	scFP     = 184

	siginfoSize = 128

	ucFPXState      = 0x1
	ucSigcontextSS  = 0x2
	ucStrictRestore = 0x4

	fpXStateMagic1 = 0x46505853
	fpXStateMagic2 = 0x46505845

	userCS   = 0x33
	userCS32 = 0x23
	userSS   = 0x2b

	// Host signals and codes used to decode events.
	sigILL  = 4
	sigTRAP = 5
	sigBUS  = 7
	sigFPE  = 8
	sigSEGV = 11
	sigUSR2 = 12 // the interrupt signal
	sigSYS  = 31

	sysSeccomp = 1  // si_code of a seccomp SIGSYS
	siTkill    = -6 // si_code of tgkill
	trapPF     = 14 // page fault vector
)

var le = binary.LittleEndian

// frame is a validated signal frame of a stub thread: the stub addresses
// of its ucontext, siginfo and fpstate, all inside the thread's alternate
// stack. It is re-derived at every event.
type frame struct {
	uc, info, fp uintptr
}

// fpLayout describes the FP state format of this host's signal frames,
// learnt from a real frame at startup.
type fpLayout struct {
	size      int    // bytes, including the trailing FP_XSTATE_MAGIC2
	xsaveSize int    // offset of FP_XSTATE_MAGIC2 (0 if fxsave only)
	features  uint64 // xfeatures the kernel accepts
	mxcsrMask uint32
	initial   []byte // initial FP state
}

// readFrame validates the pointers the handler stored in the control
// page (the guest can overwrite them) and returns the frame.
func (c ctl) readFrame(fp *fpLayout) (frame, bool) {
	uc := uintptr(c.load(cUC))
	info := uintptr(c.load(cInfo))
	if uc%8 != 0 || c.stubBytes(uc, ucSize, altStackLo) == nil ||
		c.stubBytes(info, siginfoSize, altStackLo) == nil {
		return frame{}, false
	}
	f := frame{uc: uc, info: info}
	f.fp = uintptr(le.Uint64(c.stubBytes(uc+ucMcontx+scFP, 8, altStackLo)))
	if fp != nil && (f.fp%64 != 0 || c.stubBytes(f.fp, uintptr(fp.size), altStackLo) == nil) {
		return frame{}, false
	}
	return f, true
}

// learnFP derives the FP layout from the frame at f (from the stub's own
// probe trap, so its FP state is the initial one).
func (c ctl) learnFP(f frame) (*fpLayout, error) {
	if f.fp%64 != 0 {
		return nil, fmt.Errorf("systrap: misaligned fpstate %#x", f.fp)
	}
	hdr := c.stubBytes(f.fp, 512, altStackLo)
	if hdr == nil {
		return nil, fmt.Errorf("systrap: fpstate %#x outside the alternate stack", f.fp)
	}
	l := &fpLayout{size: 512, mxcsrMask: le.Uint32(hdr[28:])}
	if l.mxcsrMask == 0 {
		l.mxcsrMask = 0xffbf
	}
	if le.Uint32(hdr[464:]) == fpXStateMagic1 {
		ext := int(le.Uint32(hdr[468:]))
		xs := int(le.Uint32(hdr[480:]))
		all := c.stubBytes(f.fp, uintptr(ext), altStackLo)
		if xs < 576 || ext != xs+4 || ext > altStackLen/2 || all == nil ||
			le.Uint32(all[xs:]) != fpXStateMagic2 {
			return nil, fmt.Errorf("systrap: unexpected fpstate layout (size %d, xstate %d)", ext, xs)
		}
		l.size, l.xsaveSize, l.features = ext, xs, le.Uint64(hdr[472:])
	}
	l.initial = append([]byte(nil), c.stubBytes(f.fp, uintptr(l.size), altStackLo)...)
	return l, nil
}

// sanitize makes an FP image (already copied into the frame) acceptable to
// rt_sigreturn whatever the kernel handed us: the software-reserved words
// and magics are the host's, the XSAVE header has no unknown bits, MXCSR
// has no reserved bits. A bad image would otherwise make sigreturn fail and
// kill the stub process.
func (l *fpLayout) sanitize(b []byte) {
	m := le.Uint32(b[24:]) & l.mxcsrMask
	le.PutUint32(b[24:], m)
	copy(b[464:512], l.initial[464:512])
	if l.xsaveSize == 0 {
		return
	}
	le.PutUint64(b[512:], le.Uint64(b[512:])&l.features) // XSTATE_BV
	clear(b[520:576])                                    // XCOMP_BV and reserved
	copy(b[l.xsaveSize:], l.initial[l.xsaveSize:])       // FP_XSTATE_MAGIC2
}

// loadState copies the guest state out of the frame.
func (c ctl) loadState(f frame, l *fpLayout, st *platform.State) {
	uc := c.stubBytes(f.uc, ucSize, altStackLo)
	var u [ucSize]byte
	copy(u[:], uc)
	mc := u[ucMcontx:]
	g := func(off int) uint64 { return le.Uint64(mc[off:]) }
	r := &st.Regs
	r.R8, r.R9, r.R10, r.R11 = g(scR8), g(scR8+8), g(scR8+16), g(scR8+24)
	r.R12, r.R13, r.R14, r.R15 = g(scR8+32), g(scR8+40), g(scR8+48), g(scR8+56)
	r.Rdi, r.Rsi, r.Rbp, r.Rbx = g(scRdi), g(scRsi), g(scRbp), g(scRbx)
	r.Rdx, r.Rax, r.Rcx, r.Rsp = g(scRdx), g(scRax), g(scRcx), g(scRsp)
	r.Rip, r.Eflags = g(scRip), g(scEflags)
	r.Cs = uint64(le.Uint16(mc[scCS:]))
	r.Ss = userSS
	if r.Cs != userCS32 {
		r.Cs = userCS
	}
	r.OrigRax = ^uint64(0)
	r.FsBase, r.GsBase = c.load(cFSBase), c.load(cGSBase)
	r.Ds, r.Es, r.Fs, r.Gs = 0, 0, 0, 0
	if len(st.FP) != l.size {
		st.FP = make([]byte, l.size)
	}
	copy(st.FP, c.stubBytes(f.fp, uintptr(l.size), altStackLo))
}

// canonical reports whether a is a canonical user address.
func canonical(a uint64) bool { return a < 1<<47 }

// storeState writes the guest state into the frame, so that the stub's
// rt_sigreturn enters the guest with it. Everything the kernel checks or
// that the stub relies on (segments, alternate stack, signal mask, fpstate
// pointer and magics) is forced to known-good values.
func (c ctl) storeState(f frame, l *fpLayout, st *platform.State) error {
	r := &st.Regs
	if !canonical(r.FsBase) || !canonical(r.GsBase) {
		return fmt.Errorf("systrap: non-canonical FS/GS base %#x/%#x", r.FsBase, r.GsBase)
	}
	if st.FP != nil && len(st.FP) != l.size {
		return fmt.Errorf("systrap: FP state is %d bytes, want %d", len(st.FP), l.size)
	}
	var u [ucSize]byte
	le.PutUint64(u[ucFlags:], ucFPXState|ucSigcontextSS|ucStrictRestore)
	le.PutUint64(u[ucStack:], uint64(c.addr+altStackLo))
	le.PutUint64(u[ucStack+16:], altStackLen)
	mc := u[ucMcontx:]
	p := func(off int, v uint64) { le.PutUint64(mc[off:], v) }
	p(scR8, r.R8)
	p(scR8+8, r.R9)
	p(scR8+16, r.R10)
	p(scR8+24, r.R11)
	p(scR8+32, r.R12)
	p(scR8+40, r.R13)
	p(scR8+48, r.R14)
	p(scR8+56, r.R15)
	p(scRdi, r.Rdi)
	p(scRsi, r.Rsi)
	p(scRbp, r.Rbp)
	p(scRbx, r.Rbx)
	p(scRdx, r.Rdx)
	p(scRax, r.Rax)
	p(scRcx, r.Rcx)
	p(scRsp, r.Rsp)
	p(scRip, r.Rip)
	p(scEflags, r.Eflags)
	cs := uint16(userCS)
	if r.Cs == userCS32 {
		cs = userCS32
	}
	le.PutUint16(mc[scCS:], cs)
	le.PutUint16(mc[scSS:], userSS)
	p(scFP, uint64(f.fp))
	// uc_sigmask stays zero: nothing is blocked while the guest runs.
	copy(c.stubBytes(f.uc, ucSize, altStackLo), u[:])

	dst := c.stubBytes(f.fp, uintptr(l.size), altStackLo)
	if st.FP == nil {
		copy(dst, l.initial)
	} else {
		copy(dst, st.FP)
		l.sanitize(dst)
	}
	c.store(cFSBase, r.FsBase)
	c.store(cGSBase, r.GsBase)
	return nil
}

// decodeEvent turns the frame's siginfo and sigcontext into an Event and
// fixes up OrigRax for system calls.
func (c ctl) decodeEvent(f frame, st *platform.State) platform.Event {
	var info [32]byte
	copy(info[:], c.stubBytes(f.info, siginfoSize, altStackLo))
	mc := c.stubBytes(f.uc+ucMcontx, 256, altStackLo)
	signo := int32(le.Uint32(info[0:]))
	code := int32(le.Uint32(info[8:]))
	addr := uintptr(le.Uint64(info[16:]))
	errc := le.Uint64(mc[scErr:])
	trapno := le.Uint64(mc[scTrapno:])
	ev := platform.Event{Kind: platform.EventSignal, Signo: signo, Code: code, Addr: addr,
		Trapno: trapno, ErrorCode: errc}
	switch signo {
	case sigSYS:
		if code == sysSeccomp && le.Uint32(info[28:]) == auditArchX8664 {
			st.Regs.OrigRax = st.Regs.Rax
			return platform.Event{Kind: platform.EventSyscall}
		}
	case sigSEGV, sigBUS:
		if trapno == trapPF {
			ev.Kind = platform.EventFault
			switch {
			case errc&0x10 != 0:
				ev.Access = platform.Access{Execute: true}
			case errc&0x2 != 0:
				ev.Access = platform.Access{Write: true}
			default:
				ev.Access = platform.Access{Read: true}
			}
		}
	}
	return ev
}

// isInterrupt reports whether the event is our interrupt signal.
func (c ctl) isInterrupt(f frame) bool {
	info := c.stubBytes(f.info, 16, altStackLo)
	return int32(le.Uint32(info[0:])) == sigUSR2 && int32(le.Uint32(info[8:])) == siTkill
}

// rip returns the frame's instruction pointer.
func (c ctl) rip(f frame) uint64 {
	return le.Uint64(c.stubBytes(f.uc+ucMcontx+scRip, 8, altStackLo))
}

func (c ctl) setRIP(f frame, v uint64) {
	le.PutUint64(c.stubBytes(f.uc+ucMcontx+scRip, 8, altStackLo), v)
}
