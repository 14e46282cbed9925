package seccomp

import (
	"errors"
	"math/rand"
	"testing"

	"golang.org/x/sys/unix"
)

func stmt(code uint16, k uint32) Instruction { return Instruction{Code: code, K: k} }

func jmp(code uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Code: code, JT: jt, JF: jf, K: k}
}

const (
	ldAbs   = clsLD | sizeW | modeABS
	retKOp  = clsRET | retK
	jeqK    = clsJMP | jmpJEQ | srcK
	nrOff   = 0
	archOff = 4
)

// errnoFor returns ERRNO(e) for syscall nr and allows everything else.
func errnoFor(nr, e uint32) []Instruction {
	return []Instruction{
		stmt(ldAbs, nrOff),
		jmp(jeqK, nr, 0, 1),
		stmt(retKOp, RetErrno|e),
		stmt(retKOp, RetAllow),
	}
}

func mustCompile(t *testing.T, insns []Instruction) *Program {
	t.Helper()
	p, err := Compile(insns)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func TestCompileRejects(t *testing.T) {
	ret := stmt(retKOp, RetAllow)
	long := make([]Instruction, MaxInstructions+1)
	for i := range long {
		long[i] = ret
	}
	for _, tc := range []struct {
		name  string
		insns []Instruction
	}{
		{"empty", nil},
		{"too long", long},
		{"no return at end", []Instruction{stmt(ldAbs, 0)}},
		{"byte load", []Instruction{stmt(clsLD|0x10|modeABS, 0), ret}},
		{"half-word load", []Instruction{stmt(clsLD|0x08|modeABS, 0), ret}},
		{"indirect load", []Instruction{stmt(clsLD|sizeW|0x40, 0), ret}},
		{"load past the data", []Instruction{stmt(ldAbs, DataSize), ret}},
		{"unaligned load", []Instruction{stmt(ldAbs, 2), ret}},
		{"modulus", []Instruction{stmt(clsALU|0x90|srcK, 3), ret}},
		{"divide by constant zero", []Instruction{stmt(clsALU|opDIV|srcK, 0), ret}},
		{"shift by 32", []Instruction{stmt(clsALU|opLSH|srcK, 32), ret}},
		{"store past scratch", []Instruction{stmt(clsST, memWords), ret}},
		{"load past scratch", []Instruction{stmt(clsLD|modeMEM, memWords), ret}},
		{"scratch read before store", []Instruction{stmt(clsLD|modeMEM, 3), ret}},
		{"store on one path only", []Instruction{
			jmp(jeqK, 0, 0, 1), stmt(clsST, 1), stmt(clsLDX|modeMEM, 1), ret}},
		{"ja past the end", []Instruction{stmt(clsJMP|jmpJA, 1), ret}},
		{"ja huge", []Instruction{stmt(clsJMP|jmpJA, 0xffffffff), ret}},
		{"jt past the end", []Instruction{jmp(jeqK, 0, 1, 0), ret}},
		{"jf past the end", []Instruction{jmp(jeqK, 0, 0, 1), ret}},
		{"unknown opcode", []Instruction{stmt(0xffff, 0), ret}},
		{"return X", []Instruction{stmt(clsRET|0x08, 0), ret}},
	} {
		if _, err := Compile(tc.insns); !errors.Is(err, unix.EINVAL) {
			t.Errorf("%s: Compile = %v, want EINVAL", tc.name, err)
		}
	}
}

func TestRun(t *testing.T) {
	d := &Data{Nr: 39, Arch: 0xc000003e, InstructionPointer: 0x1122334455667788,
		Args: [6]uint64{0, 0xaabbccdd00000001, 0, 0, 0, 0xdead}}
	for _, tc := range []struct {
		name  string
		insns []Instruction
		want  uint32
	}{
		{"errno match", errnoFor(39, 7), RetErrno | 7},
		{"errno other", errnoFor(40, 7), RetAllow},
		{"arch", []Instruction{stmt(ldAbs, archOff), stmt(clsRET|retA, 0)}, 0xc000003e},
		{"ip low", []Instruction{stmt(ldAbs, 8), stmt(clsRET|retA, 0)}, 0x55667788},
		{"ip high", []Instruction{stmt(ldAbs, 12), stmt(clsRET|retA, 0)}, 0x11223344},
		{"arg1 high", []Instruction{stmt(ldAbs, 16+8+4), stmt(clsRET|retA, 0)}, 0xaabbccdd},
		{"arg5 low", []Instruction{stmt(ldAbs, 16+5*8), stmt(clsRET|retA, 0)}, 0xdead},
		{"length", []Instruction{stmt(clsLD|sizeW|modeLEN, 0), stmt(clsRET|retA, 0)}, DataSize},
		{"alu", []Instruction{
			stmt(clsLD|modeIMM, 6), stmt(clsALU|opMUL|srcK, 7), stmt(clsALU|opSUB|srcK, 2),
			stmt(clsALU|opLSH|srcK, 4), stmt(clsALU|opRSH|srcK, 2), stmt(clsALU|opOR|srcK, 1),
			stmt(clsALU|opAND|srcK, 0xff), stmt(clsALU|opXOR|srcK, 0x10), stmt(clsALU|opDIV|srcK, 3),
			stmt(clsRET|retA, 0)}, ((((6*7-2)<<4>>2)|1)&0xff ^ 0x10) / 3},
		{"neg", []Instruction{stmt(clsLD|modeIMM, 1), stmt(clsALU|opNEG, 0), stmt(clsRET|retA, 0)}, 0xffffffff},
		{"divide by X zero returns 0", []Instruction{
			stmt(clsLD|modeIMM, 9), stmt(clsLDX|modeIMM, 0), stmt(clsALU|opDIV|srcX, 0), stmt(retKOp, RetAllow)}, 0},
		{"scratch and misc", []Instruction{
			stmt(clsLD|modeIMM, 5), stmt(clsST, 2), stmt(clsMISC|miscTAX, 0), stmt(clsLD|modeIMM, 0),
			stmt(clsALU|opADD|srcX, 0), stmt(clsLDX|modeMEM, 2), stmt(clsALU|opADD|srcX, 0),
			stmt(clsRET|retA, 0)}, 10},
		{"jset and ja", []Instruction{
			stmt(ldAbs, 0), jmp(clsJMP|jmpJSET|srcK, 0x20, 0, 2), stmt(clsJMP|jmpJA, 1),
			stmt(retKOp, 1), stmt(retKOp, 2), stmt(retKOp, 3)}, 2},
		{"jgt jge", []Instruction{
			stmt(ldAbs, 0), jmp(clsJMP|jmpJGT|srcK, 39, 2, 0), jmp(clsJMP|jmpJGE|srcK, 39, 0, 1),
			stmt(retKOp, 1), stmt(retKOp, 2)}, 1},
		{"txa jeq x", []Instruction{
			stmt(clsLDX|modeIMM, 39), stmt(ldAbs, 0), jmp(clsJMP|jmpJEQ|srcX, 0, 0, 1),
			stmt(clsMISC|miscTXA, 0), stmt(clsRET|retA, 0)}, 39},
	} {
		if got := mustCompile(t, tc.insns).Run(d); got != tc.want {
			t.Errorf("%s: Run = %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

func TestEvaluatePrecedence(t *testing.T) {
	ret := func(v uint32) *Program { return mustCompile(t, []Instruction{stmt(retKOp, v)}) }
	chain := func(vals ...uint32) *Filter {
		var f *Filter
		for _, v := range vals {
			var err error
			if f, err = Attach(f, ret(v)); err != nil {
				t.Fatal(err)
			}
		}
		return f
	}
	for _, tc := range []struct {
		vals []uint32 // oldest first
		want uint32
	}{
		{[]uint32{RetAllow}, RetAllow},
		{[]uint32{RetAllow, RetErrno | 1}, RetErrno | 1},
		{[]uint32{RetErrno | 1, RetAllow}, RetErrno | 1},
		{[]uint32{RetErrno | 1, RetErrno | 2}, RetErrno | 2}, // newest among equals
		{[]uint32{RetTrap | 3, RetErrno | 1, RetLog}, RetTrap | 3},
		{[]uint32{RetKillThread, RetTrap}, RetKillThread},
		{[]uint32{RetKillThread, RetKillProcess, RetAllow}, RetKillProcess},
		{[]uint32{RetLog, RetAllow}, RetLog},
	} {
		if got := chain(tc.vals...).Evaluate(&Data{}); got != tc.want {
			t.Errorf("%#x: Evaluate = %#x, want %#x", tc.vals, got, tc.want)
		}
	}
	var none *Filter
	if got := none.Evaluate(&Data{}); got != RetAllow {
		t.Errorf("no filter: %#x, want allow", got)
	}
}

func TestAttachLimit(t *testing.T) {
	insns := make([]Instruction, MaxInstructions)
	for i := range insns {
		insns[i] = stmt(retKOp, RetAllow)
	}
	p := mustCompile(t, insns)
	var f *Filter
	n := 0
	for ; ; n++ {
		next, err := Attach(f, p)
		if err != nil {
			if !errors.Is(err, unix.ENOMEM) {
				t.Fatalf("Attach: %v, want ENOMEM", err)
			}
			break
		}
		f = next
	}
	// Each costs 3+2*4096 (+4 once below another): 3 fit in 32768, as on
	// Linux.
	if n != 3 {
		t.Errorf("attached %d full-size programs, want 3", n)
	}
	if f.Count() != 3 || (*Filter)(nil).Count() != 0 {
		t.Errorf("Count = %d, want 3", f.Count())
	}
	if !f.Descends(f.prev.prev) || !f.Descends(nil) || f.prev.Descends(f) {
		t.Error("Descends is wrong")
	}
}

// The costs Linux 6.18 was measured to count per program.
func TestPathCost(t *testing.T) {
	ret := stmt(retKOp, RetAllow)
	retA := stmt(clsRET|retA, 0)
	for _, tc := range []struct {
		name  string
		insns []Instruction
		want  int
	}{
		{"return", []Instruction{ret}, 5},
		{"load, return A", []Instruction{stmt(clsLD|modeIMM, RetAllow), retA}, 5},
		{"jeq falls through", []Instruction{jmp(jeqK, 5, 0, 0), ret}, 6},
		{"jeq inverted", []Instruction{jmp(jeqK, 5, 0, 1), ret, ret}, 8},
		{"jeq both", []Instruction{jmp(jeqK, 5, 1, 1), ret, ret}, 9},
		{"jset both", []Instruction{jmp(clsJMP|jmpJSET|srcK, 5, 0, 1), ret, ret}, 9},
		{"jeq negative", []Instruction{jmp(jeqK, 0x80000000, 0, 0), ret}, 7},
		{"div x", []Instruction{stmt(clsLDX|modeIMM, 1), stmt(clsALU|opDIV|srcX, 0), ret}, 11},
		{"store, load", []Instruction{stmt(clsST, 0), stmt(clsLD|modeMEM, 0), ret}, 7},
	} {
		if got := mustCompile(t, tc.insns).cost; got != tc.want {
			t.Errorf("%s: cost %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestDecodeInstructions(t *testing.T) {
	b := []byte{0x15, 0x00, 0x01, 0x02, 0x27, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0xaa}
	got := DecodeInstructions(b)
	want := []Instruction{jmp(jeqK, 39, 1, 2), stmt(retKOp, RetAllow)}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("DecodeInstructions = %+v, want %+v", got, want)
	}
}

// Random programs must never panic, in Compile or in Run.
func TestRandomProgramsNeverPanic(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	codes := make([]uint16, 0, len(allowed)+8)
	for c := range allowed {
		codes = append(codes, c)
	}
	codes = append(codes, 0x30, 0x28, 0x94, 0xffff)
	valid := 0
	for i := 0; i < 20000; i++ {
		n := 1 + r.Intn(12)
		insns := make([]Instruction, n)
		for j := range insns {
			insns[j] = Instruction{Code: codes[r.Intn(len(codes))], JT: uint8(r.Intn(4)),
				JF: uint8(r.Intn(4)), K: uint32(r.Intn(70))}
		}
		insns[n-1] = stmt(clsRET|retA, 0)
		p, err := Compile(insns)
		if err != nil {
			continue
		}
		valid++
		d := &Data{Nr: int32(r.Uint32()), Args: [6]uint64{r.Uint64(), r.Uint64()}}
		p.Run(d)
	}
	if valid == 0 {
		t.Error("no random program was valid: the generator is broken")
	}
}
