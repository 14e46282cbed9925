//go:build !amd64

package procfs

func cpuid(eax, ecx uint32) (a, b, c, d uint32) { return 0, 0, 0, 0 }

const haveCPUID = false
