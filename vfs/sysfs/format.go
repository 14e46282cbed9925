package sysfs

import (
	"fmt"
	"strconv"
	"strings"
)

// formatList writes a sorted set of CPU numbers as Linux's "%*pbl" does:
// ranges and single numbers separated by commas ("0-3,6,8-9"); empty for
// none.
func formatList(ids []int) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ids[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(ids[j]))
		}
		i = j + 1
	}
	return b.String()
}

// formatMask writes a set of CPU numbers as a bitmap of nbits bits the way
// Linux's "%*pb" does: hexadecimal 32-bit chunks, most significant first,
// separated by commas; the first chunk has only the digits its bits need.
func formatMask(ids []int, nbits int) string {
	nbits = max(nbits, 1)
	words := make([]uint32, (nbits+31)/32)
	for _, id := range ids {
		if id >= 0 && id < nbits {
			words[id/32] |= 1 << (id % 32)
		}
	}
	var b strings.Builder
	first := nbits % 32
	if first == 0 {
		first = 32
	}
	for i := len(words) - 1; i >= 0; i-- {
		width := 8
		if i == len(words)-1 {
			width = (first + 3) / 4
		} else {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%0*x", width, words[i])
	}
	return b.String()
}

// formatNodeMeminfo writes /sys/devices/system/node/nodeN/meminfo from the
// total and used memory in bytes, with the figures /proc/meminfo derives
// from the same numbers.
func formatNodeMeminfo(node int, total, used uint64) string {
	used = min(used, total)
	var b strings.Builder
	line := func(name string, bytes uint64) {
		fmt.Fprintf(&b, "Node %d %-16s%8d kB\n", node, name+":", bytes/1024)
	}
	line("MemTotal", total)
	line("MemFree", total-used)
	line("MemUsed", used)
	fmt.Fprintf(&b, "Node %d HugePages_Total: %5d\n", node, 0)
	fmt.Fprintf(&b, "Node %d HugePages_Free:  %5d\n", node, 0)
	fmt.Fprintf(&b, "Node %d HugePages_Surp:  %5d\n", node, 0)
	return b.String()
}
