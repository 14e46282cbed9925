package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
)

// Layout of the x86-64 rt_sigframe: the return address (restorer), then a
// struct ucontext, then the siginfo; the FP state sits above, 64-byte
// aligned.
const (
	ucontextSize   = 8 + 8 + 24 + sigcontextSize + 8 // flags, link, stack, mcontext, sigmask
	sigcontextSize = 256
	ucOffMcontext  = 40
	ucOffSigmask   = ucOffMcontext + sigcontextSize
	frameOffUC     = 8
	frameOffInfo   = frameOffUC + ucontextSize
	frameSize      = frameOffInfo + 128
	redZone        = 128

	ucFPXState        = 0x1
	ucSigcontextSS    = 0x2
	ucStrictRestoreSS = 0x4
	fpXStateMagic1    = 0x46505853
	fpXStateMagic2    = 0x46505845
	fxsaveSize        = 512
	swReservedOffset  = 464
)

// setupFrameLocked builds a signal frame on the guest stack and points the
// registers at the handler.
func (t *Task) setupFrameLocked(si *SigInfo, act *SigAction, oldMask SigSet) error {
	r := &t.State.Regs
	sp := r.Rsp
	onAlt := t.onAltStackLocked(sp)
	alt := t.altStack
	if act.Flags&linux.SA_ONSTACK != 0 && alt.Size != 0 && !onAlt {
		sp = uint64(alt.Sp) + alt.Size
	} else {
		sp -= redZone
	}
	fp := t.State.FP
	fpSize := uint64(len(fp))
	var fpAddr uint64
	if fpSize > 0 {
		sp -= fpSize
		sp &^= 63
		fpAddr = sp
	}
	sp -= frameSize
	sp = (sp &^ 15) - 8

	var mc [sigcontextSize]byte
	le := binary.LittleEndian
	regs := []uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15, r.Rdi, r.Rsi, r.Rbp,
		r.Rbx, r.Rdx, r.Rax, r.Rcx, r.Rsp, r.Rip, r.Eflags}
	for i, v := range regs {
		le.PutUint64(mc[i*8:], v)
	}
	le.PutUint16(mc[144:], uint16(r.Cs))
	le.PutUint16(mc[150:], uint16(r.Ss))
	ev := t.faultEvent
	t.faultEvent = platform.Event{}
	le.PutUint64(mc[152:], ev.ErrorCode)
	le.PutUint64(mc[160:], ev.Trapno)
	le.PutUint64(mc[168:], uint64(oldMask))
	if isFaultSignal(si.Signo) {
		le.PutUint64(mc[176:], si.Addr) // cr2
	}
	le.PutUint64(mc[184:], fpAddr)

	frame := make([]byte, frameSize)
	le.PutUint64(frame[0:], act.Restorer)
	uc := frame[frameOffUC:]
	flags := uint64(ucSigcontextSS | ucStrictRestoreSS)
	if fpSize > 0 {
		flags |= ucFPXState
	}
	le.PutUint64(uc[0:], flags)
	le.PutUint64(uc[16:], alt.Sp)
	altFlags := uint32(0)
	if alt.Size == 0 {
		altFlags = linux.SS_DISABLE
	} else if onAlt {
		altFlags = linux.SS_ONSTACK
	}
	le.PutUint32(uc[24:], altFlags)
	le.PutUint64(uc[32:], alt.Size)
	copy(uc[ucOffMcontext:], mc[:])
	le.PutUint64(uc[ucOffSigmask:], uint64(oldMask))
	copy(frame[frameOffInfo:], si.Bytes())

	if fpSize > 0 {
		if _, err := t.mm.CopyOut(fpAddr, fp); err != nil {
			return err
		}
	}
	if _, err := t.mm.CopyOut(sp, frame); err != nil {
		return err
	}
	if act.Flags&linux.SA_RESTORER == 0 {
		// No restorer: x86-64 requires one; returning would crash like
		// Linux does.
		le.PutUint64(frame[0:], 0)
	}
	r.Rsp = sp
	r.Rip = act.Handler
	r.Rdi = uint64(si.Signo)
	r.Rsi = sp + frameOffInfo
	r.Rdx = sp + frameOffUC
	r.Rax = 0
	r.Eflags &^= 0x40500 // clear DF, TF, RF like Linux
	// The handler starts with a clean FP state.
	t.State.FP = nil
	if act.Flags&linux.SA_ONSTACK != 0 && alt.Size != 0 && !onAlt && uint32(t.altStack.Flags)&linux.SS_AUTODISARM != 0 {
		t.altStack = linux.SignalStack{}
	}
	return nil
}

// Sigreturn implements rt_sigreturn: registers, FP state, mask and
// alternate stack come back from the frame the handler returned through.
func (t *Task) Sigreturn() error {
	r := &t.State.Regs
	frameAddr := r.Rsp - 8
	frame := make([]byte, frameSize)
	if _, err := t.mm.CopyIn(frameAddr, frame); err != nil {
		t.forceSegv()
		return errSigreturn
	}
	le := binary.LittleEndian
	uc := frame[frameOffUC:]
	mc := uc[ucOffMcontext:]
	g := func(i int) uint64 { return le.Uint64(mc[i*8:]) }
	nr := *r
	nr.R8, nr.R9, nr.R10, nr.R11, nr.R12, nr.R13, nr.R14, nr.R15 = g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7)
	nr.Rdi, nr.Rsi, nr.Rbp, nr.Rbx, nr.Rdx, nr.Rax, nr.Rcx, nr.Rsp, nr.Rip = g(8), g(9), g(10), g(11), g(12), g(13), g(14), g(15), g(16)
	// Only the arithmetic and a few control flags are the guest's to set.
	const userFlags = 0x40dd5 // CF PF AF ZF SF TF DF OF AC
	nr.Eflags = (r.Eflags &^ userFlags) | (g(17) & userFlags)
	nr.OrigRax = ^uint64(0) // no syscall restart after sigreturn
	fpAddr := le.Uint64(mc[184:])
	if fpAddr != 0 && len(t.State.FP) > 0 {
		fp := make([]byte, len(t.State.FP))
		if _, err := t.mm.CopyIn(fpAddr, fp); err != nil || !validFPState(fp, t.State.FP) {
			t.forceSegv()
			return errSigreturn
		}
		t.State.FP = fp
	}
	t.State.Regs = nr
	mask := SigSet(le.Uint64(uc[ucOffSigmask:]))
	t.k.mu.Lock()
	t.sigMask = mask &^ unblockable
	t.k.mu.Unlock()
	// Restore the alternate stack like sigaltstack(2) would, ignoring
	// errors as Linux does.
	st := linux.SignalStack{Sp: le.Uint64(uc[16:]), Flags: int32(le.Uint32(uc[24:])), Size: le.Uint64(uc[32:])}
	if st.Flags&linux.SS_DISABLE == 0 {
		st.Flags = 0
		t.SetSigAltStack(st)
	}
	return errSigreturn
}

// validFPState checks a guest-supplied FP area against the layout of the
// current one: the software-reserved words (sizes, feature mask) must match
// and the trailing magic must be present, so the host kernel accepts it.
func validFPState(fp, cur []byte) bool {
	if len(fp) < fxsaveSize || len(fp) != len(cur) {
		return false
	}
	le := binary.LittleEndian
	if le.Uint32(fp[swReservedOffset:]) != fpXStateMagic1 {
		// A legacy fxsave-only frame: keep the extended state as it was.
		copy(fp[fxsaveSize:], cur[fxsaveSize:])
		copy(fp[swReservedOffset:fxsaveSize], cur[swReservedOffset:fxsaveSize])
		return true
	}
	if string(fp[swReservedOffset:fxsaveSize]) != string(cur[swReservedOffset:fxsaveSize]) {
		return false
	}
	// MXCSR reserved bits must be clear or XRSTOR faults.
	if le.Uint32(fp[24:])&^0xffff != 0 {
		return false
	}
	if len(fp) >= fxsaveSize+64 {
		// XSAVE header: xstate_bv must be a subset of the current features;
		// xcomp_bv and the reserved words must be zero.
		hdr := fp[fxsaveSize : fxsaveSize+64]
		allowed := le.Uint64(cur[swReservedOffset+8:])
		if le.Uint64(hdr)&^allowed != 0 {
			return false
		}
		for _, b := range hdr[8:] {
			if b != 0 {
				return false
			}
		}
	}
	return le.Uint32(fp[len(fp)-4:]) == fpXStateMagic2 || le.Uint32(cur[len(cur)-4:]) != fpXStateMagic2
}

// forceSegv kills the task's process with SIGSEGV after a bad sigreturn.
func (t *Task) forceSegv() {
	t.forceSignal(&SigInfo{Signo: int32(unix.SIGSEGV), Code: linux.SI_KERNEL}, platform.Event{})
}
