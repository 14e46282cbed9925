package procfs

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// cpuFeature is one flag of /proc/cpuinfo: a CPUID bit.
type cpuFeature struct {
	leaf, sub uint32
	reg       int // 0 eax, 1 ebx, 2 ecx, 3 edx
	bit       uint
	name      string
}

// cpuFeatures lists flags in Linux's order (cpufeatures.h words).
var cpuFeatures = func() []cpuFeature {
	var fs []cpuFeature
	add := func(leaf, sub uint32, reg int, names string) {
		for i, n := range strings.Split(names, ",") {
			if n != "" {
				fs = append(fs, cpuFeature{leaf, sub, reg, uint(i), n})
			}
		}
	}
	// Word 0: CPUID 1 EDX.
	add(1, 0, 3, "fpu,vme,de,pse,tsc,msr,pae,mce,cx8,apic,,sep,mtrr,pge,mca,cmov,pat,pse36,pn,clflush,,dts,acpi,mmx,fxsr,sse,sse2,ss,ht,tm,ia64,pbe")
	// Word 1: CPUID 0x80000001 EDX.
	add(0x80000001, 0, 3, ",,,,,,,,,,,syscall,,,,,,,,mp,nx,,mmxext,,,fxsr_opt,pdpe1gb,rdtscp,,lm,3dnowext,3dnow")
	// Word 4: CPUID 1 ECX.
	add(1, 0, 2, "pni,pclmulqdq,dtes64,monitor,ds_cpl,vmx,smx,est,tm2,ssse3,cid,sdbg,fma,cx16,xtpr,pdcm,,pcid,dca,sse4_1,sse4_2,x2apic,movbe,popcnt,tsc_deadline_timer,aes,xsave,,avx,f16c,rdrand,hypervisor")
	// Word 6: CPUID 0x80000001 ECX.
	add(0x80000001, 0, 2, "lahf_lm,cmp_legacy,svm,extapic,cr8_legacy,abm,sse4a,misalignsse,3dnowprefetch,osvw,ibs,xop,skinit,wdt,,lwp,fma4,tce,,nodeid_msr,,tbm,topoext,perfctr_core,perfctr_nb,,bpext,ptsc,perfctr_llc,mwaitx")
	// Word 9: CPUID 7.0 EBX.
	add(7, 0, 1, "fsgsbase,tsc_adjust,sgx,bmi1,hle,avx2,,smep,bmi2,erms,invpcid,rtm,cqm,,mpx,rdt_a,avx512f,avx512dq,rdseed,adx,smap,avx512ifma,,clflushopt,clwb,intel_pt,avx512pf,avx512er,avx512cd,sha_ni,avx512bw,avx512vl")
	// Word 10: CPUID 0xd.1 EAX.
	add(0xd, 1, 0, "xsaveopt,xsavec,xgetbv1,xsaves")
	// Word 12: CPUID 7.1 EAX.
	add(7, 1, 0, ",,,,avx_vnni,avx512_bf16")
	// Word 13: CPUID 0x80000008 EBX.
	add(0x80000008, 0, 1, "clzero,irperf,xsaveerptr")
	// Word 16: CPUID 7.0 ECX.
	add(7, 0, 2, ",avx512vbmi,umip,pku,ospke,waitpkg,avx512_vbmi2,,gfni,vaes,vpclmulqdq,avx512_vnni,avx512_bitalg,tme,avx512_vpopcntdq,,la57,,,,,,rdpid,,bus_lock_detect,cldemote,,movdiri,movdir64b,enqcmd,sgx_lc")
	// Word 18: CPUID 7.0 EDX.
	add(7, 0, 3, ",,avx512_4vnniw,avx512_4fmaps,fsrm,,,,avx512_vp2intersect,,md_clear,,,,serialize,,tsxldtrk,,pconfig,arch_lbr,ibt,,amx_bf16,avx512_fp16,amx_tile,amx_int8,,,flush_l1d,arch_capabilities")
	return fs
}()

// cpuDesc is what /proc/cpuinfo says about the processor.
type cpuDesc struct {
	vendor                  string
	family, model, stepping uint32
	modelName               string
	cpuidLevel              uint32
	mhz                     float64
	cacheKB                 uint32
	physBits, virtBits      uint32
	clflush                 uint32
	flags                   []string
}

var (
	cpuOnce sync.Once
	cpuInfo cpuDesc
)

var ghzRE = regexp.MustCompile(`([0-9.]+)\s*GHz`)

// probeCPU reads the processor description with CPUID.
func probeCPU() cpuDesc {
	d := cpuDesc{vendor: "GenuineIntel", family: 6, modelName: "Unknown CPU", physBits: 46, virtBits: 48, clflush: 64}
	if !haveCPUID {
		return d
	}
	max, b, c, dx := cpuid(0, 0)
	var v [12]byte
	binary.LittleEndian.PutUint32(v[0:], b)
	binary.LittleEndian.PutUint32(v[4:], dx)
	binary.LittleEndian.PutUint32(v[8:], c)
	d.vendor = string(v[:])
	d.cpuidLevel = max
	a, b1, _, _ := cpuid(1, 0)
	d.stepping = a & 0xf
	d.model = (a >> 4) & 0xf
	d.family = (a >> 8) & 0xf
	if d.family == 0xf {
		d.family += (a >> 20) & 0xff
	}
	if d.family >= 6 {
		d.model |= ((a >> 16) & 0xf) << 4
	}
	if cl := (b1 >> 8) & 0xff; cl != 0 {
		d.clflush = cl * 8
	}
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	if maxExt >= 0x80000004 {
		var name []byte
		for l := uint32(0x80000002); l <= 0x80000004; l++ {
			ra, rb, rc, rd := cpuid(l, 0)
			for _, r := range []uint32{ra, rb, rc, rd} {
				name = binary.LittleEndian.AppendUint32(name, r)
			}
		}
		if s := strings.TrimSpace(strings.TrimRight(string(name), "\x00")); s != "" {
			d.modelName = strings.Join(strings.Fields(s), " ")
		}
	}
	if maxExt >= 0x80000008 {
		ra, _, _, _ := cpuid(0x80000008, 0)
		d.physBits, d.virtBits = ra&0xff, (ra>>8)&0xff
	}
	if max >= 0x16 {
		if ra, _, _, _ := cpuid(0x16, 0); ra != 0 {
			d.mhz = float64(ra)
		}
	}
	if d.mhz == 0 {
		if m := ghzRE.FindStringSubmatch(d.modelName); m != nil {
			g, _ := strconv.ParseFloat(m[1], 64)
			d.mhz = g * 1000
		}
	}
	if d.mhz == 0 {
		d.mhz = 2000
	}
	d.cacheKB = cacheSizeKB(d.vendor, max, maxExt)
	regs := map[[2]uint32][4]uint32{}
	get := func(leaf, sub uint32) [4]uint32 {
		k := [2]uint32{leaf, sub}
		if r, ok := regs[k]; ok {
			return r
		}
		var r [4]uint32
		if (leaf < 0x80000000 && leaf <= max) || (leaf >= 0x80000000 && leaf <= maxExt) {
			r[0], r[1], r[2], r[3] = cpuid(leaf, sub)
		}
		regs[k] = r
		return r
	}
	for _, f := range cpuFeatures {
		if get(f.leaf, f.sub)[f.reg]&(1<<f.bit) != 0 {
			d.flags = append(d.flags, f.name)
		}
		// Synthetic flags Linux shows after word 1.
		if f.leaf == 0x80000001 && f.reg == 3 && f.bit == 31 {
			if get(0x80000007, 0)[3]&(1<<8) != 0 {
				d.flags = append(d.flags, "constant_tsc", "nonstop_tsc")
			}
			d.flags = append(d.flags, "cpuid")
		}
	}
	return d
}

// cacheSizeKB returns the largest cache's size.
func cacheSizeKB(vendor string, max, maxExt uint32) uint32 {
	var best uint32
	if vendor == "GenuineIntel" && max >= 4 {
		for i := uint32(0); i < 16; i++ {
			a, b, c, _ := cpuid(4, i)
			if a&0x1f == 0 {
				break
			}
			ways := (b>>22)&0x3ff + 1
			parts := (b>>12)&0x3ff + 1
			line := b&0xfff + 1
			sets := c + 1
			if kb := ways * parts * line * sets / 1024; kb > best {
				best = kb
			}
		}
	}
	if best == 0 && maxExt >= 0x80000006 {
		_, _, c, _ := cpuid(0x80000006, 0)
		best = c >> 16
	}
	return best
}

func (fs *FS) genCPUInfo(vfs.Context) ([]byte, error) {
	cpuOnce.Do(func() { cpuInfo = probeCPU() })
	return []byte(formatCPUInfo(&cpuInfo, fs.cpus)), nil
}

// formatCPUInfo renders /proc/cpuinfo for n identical processors.
func formatCPUInfo(d *cpuDesc, n int) string {
	var b strings.Builder
	flags := strings.Join(d.flags, " ")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "processor\t: %d\n", i)
		fmt.Fprintf(&b, "vendor_id\t: %s\n", d.vendor)
		fmt.Fprintf(&b, "cpu family\t: %d\n", d.family)
		fmt.Fprintf(&b, "model\t\t: %d\n", d.model)
		fmt.Fprintf(&b, "model name\t: %s\n", d.modelName)
		fmt.Fprintf(&b, "stepping\t: %d\n", d.stepping)
		b.WriteString("microcode\t: 0xffffffff\n")
		fmt.Fprintf(&b, "cpu MHz\t\t: %.3f\n", d.mhz)
		fmt.Fprintf(&b, "cache size\t: %d KB\n", d.cacheKB)
		b.WriteString("physical id\t: 0\n")
		fmt.Fprintf(&b, "siblings\t: %d\n", n)
		fmt.Fprintf(&b, "core id\t\t: %d\n", i)
		fmt.Fprintf(&b, "cpu cores\t: %d\n", n)
		fmt.Fprintf(&b, "apicid\t\t: %d\n", i)
		fmt.Fprintf(&b, "initial apicid\t: %d\n", i)
		b.WriteString("fpu\t\t: yes\nfpu_exception\t: yes\n")
		fmt.Fprintf(&b, "cpuid level\t: %d\n", d.cpuidLevel)
		b.WriteString("wp\t\t: yes\n")
		fmt.Fprintf(&b, "flags\t\t: %s\n", flags)
		b.WriteString("bugs\t\t:\n")
		fmt.Fprintf(&b, "bogomips\t: %.2f\n", d.mhz*2)
		fmt.Fprintf(&b, "clflush size\t: %d\n", d.clflush)
		fmt.Fprintf(&b, "cache_alignment\t: %d\n", d.clflush)
		fmt.Fprintf(&b, "address sizes\t: %d bits physical, %d bits virtual\n", d.physBits, d.virtBits)
		b.WriteString("power management:\n\n")
	}
	return b.String()
}
