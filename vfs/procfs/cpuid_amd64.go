package procfs

// cpuid executes the CPUID instruction.
func cpuid(eax, ecx uint32) (a, b, c, d uint32)

const haveCPUID = true
