package vdso

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestImage checks what glibc's and Go's vDSO parsers need: the versioned
// symbols, one loadable segment at offset 0 (the file maps as is) and no
// relocations.
func TestImage(t *testing.T) {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		t.Fatal(err)
	}
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, p)
		}
	}
	if len(loads) != 1 || loads[0].Off != 0 || loads[0].Vaddr != 0 || loads[0].Flags&elf.PF_W != 0 {
		t.Fatalf("want one read-only PT_LOAD at 0, got %+v", loads)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, s := range syms {
		have[s.Name] = s.Version
	}
	for _, name := range []string{"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_clock_getres", "__vdso_getcpu"} {
		if v, ok := have[name]; !ok || v != "LINUX_2.6" {
			t.Errorf("%s: present %v, version %q", name, ok, v)
		}
	}
	for _, s := range f.Sections {
		if s.Type == elf.SHT_RELA || s.Type == elf.SHT_REL {
			t.Errorf("relocation section %s: the image must be position independent without relocations", s.Name)
		}
	}
}

// TestImageUpToDate rebuilds the image from csrc/ when gcc is present.
func TestImageUpToDate(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	dir := t.TempDir()
	for _, f := range []string{"gen.sh", "csrc/vdso.c", "csrc/vdso.lds", "vdso_image.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("sh", filepath.Join(dir, "gen.sh")).CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v\n%s", err, out)
	}
	want, _ := os.ReadFile("vdso_image.go")
	got, _ := os.ReadFile(filepath.Join(dir, "vdso_image.go"))
	if !bytes.Equal(got, want) {
		t.Fatal("vdso_image.go is stale: run go generate ./sentry/vdso")
	}
}
