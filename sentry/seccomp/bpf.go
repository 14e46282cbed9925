// Package seccomp runs the seccomp-bpf filters a guest installs on its own
// tasks (seccomp(2), prctl(PR_SET_SECCOMP)). The guest's classic BPF programs
// are validated as Linux validates them and then interpreted here, on every
// system call of a task that has a filter, before the call is served.
package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Instruction is one classic BPF instruction (struct sock_filter).
type Instruction struct {
	Code   uint16
	JT, JF uint8
	K      uint32
}

// InstructionSize is the size of struct sock_filter.
const InstructionSize = 8

// DecodeInstructions parses a guest array of struct sock_filter.
func DecodeInstructions(b []byte) []Instruction {
	insns := make([]Instruction, len(b)/InstructionSize)
	for i := range insns {
		r := b[i*InstructionSize:]
		insns[i] = Instruction{
			Code: binary.LittleEndian.Uint16(r[0:]),
			JT:   r[2],
			JF:   r[3],
			K:    binary.LittleEndian.Uint32(r[4:]),
		}
	}
	return insns
}

// Classic BPF opcode fields.
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	sizeW = 0x00

	modeIMM = 0x00
	modeABS = 0x20
	modeMEM = 0x60
	modeLEN = 0x80

	opADD = 0x00
	opSUB = 0x10
	opMUL = 0x20
	opDIV = 0x30
	opOR  = 0x40
	opAND = 0x50
	opLSH = 0x60
	opRSH = 0x70
	opNEG = 0x80
	opXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80
)

// Limits on programs, as in Linux.
const (
	// MaxInstructions is BPF_MAXINSNS: the longest single program.
	MaxInstructions = 4096
	// memWords is BPF_MEMWORDS: the scratch memory cells M[0..15].
	memWords = 16
	// DataSize is sizeof(struct seccomp_data), what a filter may load.
	DataSize = 64
)

// allowed lists the opcodes a seccomp filter may use (Linux's
// seccomp_check_filter): no byte or half-word loads, no indirect loads, no
// packet length, no modulus.
var allowed = func() map[uint16]bool {
	m := map[uint16]bool{
		clsRET | retK: true, clsRET | retA: true,
		clsALU | opNEG:  true,
		clsLD | modeIMM: true, clsLDX | modeIMM: true,
		clsMISC | miscTAX: true, clsMISC | miscTXA: true,
		clsLD | modeMEM: true, clsLDX | modeMEM: true,
		clsST: true, clsSTX: true,
		clsJMP | jmpJA:          true,
		clsLD | sizeW | modeABS: true,
	}
	for _, op := range []uint16{opADD, opSUB, opMUL, opDIV, opAND, opOR, opXOR, opLSH, opRSH} {
		m[clsALU|op|srcK], m[clsALU|op|srcX] = true, true
	}
	for _, op := range []uint16{jmpJEQ, jmpJGT, jmpJGE, jmpJSET} {
		m[clsJMP|op|srcK], m[clsJMP|op|srcX] = true, true
	}
	return m
}()

// Program is a validated filter program.
type Program struct {
	insns []Instruction
	cost  int // see pathCost
}

// Len returns the number of instructions.
func (p *Program) Len() int { return len(p.insns) }

// pathCost returns the length of the program Linux actually runs, having
// converted it to eBPF: Linux's limit on the instructions per system call
// counts those, so the number of filters a task can stack depends on it.
// The conversion adds 3 instructions (clearing A and X, saving the context
// pointer), a constant return is 2 (load the value, exit), a division by X
// is 5 (with the check that makes x/0 return 0), a conditional jump whose
// false branch is not the next instruction needs a second jump unless the
// condition can be inverted (not JSET), and a negative constant in a
// comparison is first moved to a register.
func pathCost(insns []Instruction) int {
	n := 3
	for _, in := range insns {
		switch {
		case in.Code == clsRET|retK:
			n += 2
		case in.Code == clsALU|opDIV|srcX:
			n += 5
		case in.Code&0x07 == clsJMP && in.Code&0xf0 != jmpJA:
			if in.Code&srcX == 0 && int32(in.K) < 0 {
				n++
			}
			if in.JF != 0 && (in.JT != 0 || in.Code&0xf0 == jmpJSET) {
				n++
			}
			n++
		default:
			n++
		}
	}
	return n
}

// Compile validates a guest program as Linux does (bpf_check_classic and
// seccomp_check_filter) and returns it ready to run. Any defect is EINVAL:
// a length of 0 or over MaxInstructions, an opcode seccomp does not allow,
// a load outside struct seccomp_data or not 4-byte aligned, a jump out of
// the program, a constant division by zero or shift of 32 or more, a
// scratch cell out of range or read before every path stored it, and a last
// instruction that is not a return. Jumps only go forward, so a valid
// program runs at most Len instructions.
func Compile(insns []Instruction) (*Program, error) {
	n := len(insns)
	if n == 0 || n > MaxInstructions {
		return nil, fmt.Errorf("%d instructions: %w", n, unix.EINVAL)
	}
	p := &Program{insns: make([]Instruction, n)}
	copy(p.insns, insns)
	for pc := range p.insns {
		in := &p.insns[pc]
		// The packet length is the size of the data (Linux rewrites these).
		switch in.Code {
		case clsLD | sizeW | modeLEN:
			*in = Instruction{Code: clsLD | modeIMM, K: DataSize}
		case clsLDX | sizeW | modeLEN:
			*in = Instruction{Code: clsLDX | modeIMM, K: DataSize}
		}
		if err := checkInstruction(*in, pc, n); err != nil {
			return nil, fmt.Errorf("instruction %d (%#x): %w", pc, in.Code, err)
		}
	}
	if last := p.insns[n-1].Code; last != clsRET|retK && last != clsRET|retA {
		return nil, fmt.Errorf("last instruction %#x is not a return: %w", last, unix.EINVAL)
	}
	if err := checkScratch(p.insns); err != nil {
		return nil, err
	}
	p.cost = pathCost(p.insns)
	return p, nil
}

// checkInstruction validates one instruction at pc of an n-instruction
// program.
func checkInstruction(in Instruction, pc, n int) error {
	if !allowed[in.Code] {
		return unix.EINVAL
	}
	switch in.Code & 0x07 {
	case clsLD, clsLDX:
		switch in.Code & 0xe0 {
		case modeABS:
			if in.K >= DataSize || in.K&3 != 0 {
				return unix.EINVAL
			}
		case modeMEM:
			if in.K >= memWords {
				return unix.EINVAL
			}
		}
	case clsST, clsSTX:
		if in.K >= memWords {
			return unix.EINVAL
		}
	case clsALU:
		op := in.Code & 0xf0
		if in.Code&srcX == 0 && (op == opDIV && in.K == 0 || (op == opLSH || op == opRSH) && in.K >= 32) {
			return unix.EINVAL
		}
	case clsJMP:
		rest := uint64(n - pc - 1) // instructions after this one
		if in.Code&0xf0 == jmpJA {
			if uint64(in.K) >= rest {
				return unix.EINVAL
			}
		} else if uint64(in.JT) >= rest || uint64(in.JF) >= rest {
			return unix.EINVAL
		}
	}
	return nil
}

// checkScratch rejects a program that may load a scratch cell no store has
// written on some path to the load. Each instruction's set of surely-written
// cells is the intersection over the edges that reach it.
func checkScratch(insns []Instruction) error {
	valid := make([]uint16, len(insns)+1)
	for i := range valid {
		valid[i] = 0xffff
	}
	cur := uint16(0) // cells written on every path to pc
	for pc, in := range insns {
		cur &= valid[pc]
		switch {
		case in.Code == clsST || in.Code == clsSTX:
			cur |= 1 << in.K
		case in.Code == clsLD|modeMEM || in.Code == clsLDX|modeMEM:
			if cur&(1<<in.K) == 0 {
				return fmt.Errorf("instruction %d reads M[%d] before a store: %w", pc, in.K, unix.EINVAL)
			}
		case in.Code&0x07 == clsJMP:
			if in.Code&0xf0 == jmpJA {
				valid[pc+1+int(in.K)] &= cur
			} else {
				valid[pc+1+int(in.JT)] &= cur
				valid[pc+1+int(in.JF)] &= cur
			}
			cur = 0xffff // nothing falls through a jump
		}
	}
	return nil
}

// Data is the input of a filter (struct seccomp_data).
type Data struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// word returns the 32-bit word at byte offset off (4-aligned, < DataSize)
// of the struct seccomp_data layout on a little-endian machine.
func (d *Data) word(off uint32) uint32 {
	switch {
	case off == 0:
		return uint32(d.Nr)
	case off == 4:
		return d.Arch
	case off < 16:
		return uint32(d.InstructionPointer >> (8 * (off - 8)))
	default:
		a := d.Args[(off-16)/8]
		return uint32(a >> (8 * ((off - 16) % 8)))
	}
}

// Run runs the program on d and returns its return value.
func (p *Program) Run(d *Data) uint32 {
	var a, x uint32
	var mem [memWords]uint32
	for pc := 0; pc < len(p.insns); pc++ {
		in := p.insns[pc]
		switch in.Code & 0x07 {
		case clsLD:
			switch in.Code & 0xe0 {
			case modeIMM:
				a = in.K
			case modeABS:
				a = d.word(in.K)
			case modeMEM:
				a = mem[in.K]
			}
		case clsLDX:
			if in.Code&0xe0 == modeMEM {
				x = mem[in.K]
			} else {
				x = in.K
			}
		case clsST:
			mem[in.K] = a
		case clsSTX:
			mem[in.K] = x
		case clsALU:
			operand := in.K
			if in.Code&srcX != 0 {
				operand = x
			}
			var ok bool
			if a, ok = alu(in.Code&0xf0, a, operand); !ok {
				return 0 // division by zero: Linux's classic BPF returns 0
			}
		case clsJMP:
			pc += jump(in, a, x)
		case clsRET:
			if in.Code&0x18 == retA {
				return a
			}
			return in.K
		case clsMISC:
			if in.Code&0xf8 == miscTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	// Compile guarantees a return; a program that falls off the end is a
	// bug here, and killing is the safe answer.
	return RetKillProcess
}

// alu applies an arithmetic operation; it reports false for a division by
// zero.
func alu(op uint16, a, v uint32) (uint32, bool) {
	switch op {
	case opADD:
		return a + v, true
	case opSUB:
		return a - v, true
	case opMUL:
		return a * v, true
	case opDIV:
		if v == 0 {
			return 0, false
		}
		return a / v, true
	case opOR:
		return a | v, true
	case opAND:
		return a & v, true
	case opXOR:
		return a ^ v, true
	case opLSH:
		return a << (v & 31), true // as x86 shifts
	case opRSH:
		return a >> (v & 31), true
	case opNEG:
		return -a, true
	}
	return a, true
}

// jump returns how many instructions a jump skips.
func jump(in Instruction, a, x uint32) int {
	v := in.K
	if in.Code&srcX != 0 {
		v = x
	}
	var taken bool
	switch in.Code & 0xf0 {
	case jmpJA:
		return int(in.K)
	case jmpJEQ:
		taken = a == v
	case jmpJGT:
		taken = a > v
	case jmpJGE:
		taken = a >= v
	case jmpJSET:
		taken = a&v != 0
	}
	if taken {
		return int(in.JT)
	}
	return int(in.JF)
}
