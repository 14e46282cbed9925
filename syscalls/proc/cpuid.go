package proc

// cpuid executes the CPUID instruction.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func cpuid1EDX() uint64 {
	_, _, _, edx := cpuid(1, 0)
	return uint64(edx)
}
