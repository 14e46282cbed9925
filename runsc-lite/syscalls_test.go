package main

import (
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/syscalls"
)

// TestSyscallsDoc keeps docs/syscalls.md what the command prints: the
// doc is generated (make syscalls-doc), never edited by hand.
func TestSyscallsDoc(t *testing.T) {
	r := newRun(t, realBin, "syscalls", "--format", "markdown").run()
	if r.code != 0 || r.stderr.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr.String())
	}
	doc, err := os.ReadFile("../docs/syscalls.md")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.stdout.String(); got != string(doc) {
		t.Errorf("docs/syscalls.md differs from `runsc-lite syscalls --format markdown`; run `make syscalls-doc`\n%s",
			firstDiff(string(doc), got))
	}
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  doc:     " + wl + "\n  command: " + gl
		}
	}
	return ""
}

func TestSyscallsFormats(t *testing.T) {
	want := syscalls.Describe()

	r := newRun(t, realBin, "syscalls", "--format", "json").run()
	if r.code != 0 {
		t.Fatalf("json: exit %d, stderr %q", r.code, r.stderr.String())
	}
	var got []syscalls.Info
	if err := json.Unmarshal(r.stdout.Bytes(), &got); err != nil {
		t.Fatalf("json: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("json output differs from syscalls.Describe()")
	}

	r = newRun(t, realBin, "syscalls").run()
	if r.code != 0 {
		t.Fatalf("text: exit %d, stderr %q", r.code, r.stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout.String(), "\n"), "\n")
	// A header, one row per system call, a summary.
	if len(lines) != len(want)+2 {
		t.Fatalf("text: %d lines for %d system calls", len(lines), len(want))
	}
	for i, in := range want {
		f := strings.Fields(lines[i+1])
		if len(f) < 3 || f[0] != strconv.Itoa(in.Number) || f[1] != in.Name || f[2] != string(in.Status) {
			t.Errorf("text row %q, want %d %s %s", lines[i+1], in.Number, in.Name, in.Status)
		}
	}

	r = newRun(t, realBin, "syscalls", "--format", "yaml").run()
	if r.code != 2 {
		t.Errorf("--format yaml: exit %d, want 2", r.code)
	}
	r.oneErrorLine(`unknown format "yaml"`)
}
