package systrap

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/runsc-lite/runsc-lite/platform"
)

// TestStubGenerated checks that stub_code_amd64.go is what gen_stub.go
// makes from stub_amd64.S (when the assembler is available).
func TestStubGenerated(t *testing.T) {
	for _, tool := range []string{"gcc", "objcopy", "objdump", "nm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not available", tool)
		}
	}
	out := filepath.Join(t.TempDir(), "stub.go")
	cmd := exec.Command("go", "run", "gen_stub.go", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen_stub: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("stub_code_amd64.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("stub_code_amd64.go is stale: run go generate ./platform/systrap")
	}
}

// TestStubLayoutMatches checks the .set constants of the assembly against
// layout.go.
func TestStubLayoutMatches(t *testing.T) {
	src, err := os.ReadFile("stub_amd64.S")
	if err != nil {
		t.Fatal(err)
	}
	goVals := map[string]uint64{
		"stubBase": stubBase, "taskSize": taskSize, "stubCodeMax": stubCodeMax,
		"regionSize": regionSize, "masterRegion": masterRegion, "stackTop": stackTop,
		"altStackLo": altStackLo, "altStackLen": altStackLen, "stubFDNum": stubFDNum,
		"masterFDNum": masterFDNum, "extraFDNum": extraFDNum,
		"cState": cState, "cStubSleep": cStubSleep, "cSentrySleep": cSentrySleep, "cFlags": cFlags,
		"cOp": cOp, "cResult": cResult, "cArg0": cArg0, "cArg1": cArg1, "cNSys": cNSys,
		"cSigno": cSigno, "cInfo": cInfo, "cUC": cUC, "cFSBase": cFSBase, "cGSBase": cGSBase,
		"cTID": cTID, "cKind": cKind, "cSpin": cSpin, "MAXSPIN": maxSpin, "cSyscalls": cSyscalls, "maxBatch": maxBatch, "cBPF": cBPF,
		"stateCmd": stateCmd, "statePosted": statePosted,
		"opSyscalls": opSyscalls, "opResume": opResume, "opFork": opFork,
		"opNewThread": opNewThread, "opExit": opExit, "opProbe": opProbe,
		"THREAD_FLAGS": cloneThreadFlags,
	}
	re := regexp.MustCompile(`(?m)^\.set (\w+),\s*(0x[0-9a-fA-F]+|\d+)`)
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		want, ok := goVals[m[1]]
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(m[2], 0, 64)
		if err != nil || v != want {
			t.Errorf("%s: assembly %s, Go %#x", m[1], m[2], want)
		}
		seen[m[1]] = true
	}
	for k := range goVals {
		if !seen[k] {
			t.Errorf("%s not set in stub_amd64.S", k)
		}
	}
	if len(stubCode) > stubCodeMax {
		t.Errorf("stub code is %d bytes, max %d", len(stubCode), stubCodeMax)
	}
}

func TestMapFileValidation(t *testing.T) {
	e := newEnv(t)
	as := e.newAS()
	defer as.Release()
	for _, c := range []struct {
		addr, n uintptr
		off     int64
	}{
		{1, 4096, 0}, {0x1000, 1, 0}, {0x1000, 0, 0}, {0x1000, 4096, 1}, {0x1000, 4096, -4096},
		{maxUserAddress, 4096, 0}, {maxUserAddress - 4096, 8192, 0}, {^uintptr(0) &^ 0xfff, 4096, 0},
	} {
		if err := as.MapFile(c.addr, c.n, c.off, platform.Read); err == nil {
			t.Errorf("MapFile(%#x, %#x, %#x) succeeded", c.addr, c.n, c.off)
		}
	}
	if err := as.Unmap(maxUserAddress, 4096); err == nil {
		t.Error("Unmap of the stub range succeeded")
	}
	if err := as.MapFile(maxUserAddress-4096, 4096, 0, platform.ReadWrite); err != nil {
		t.Errorf("top page: %v", err)
	}
}
