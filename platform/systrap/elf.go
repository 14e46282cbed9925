package systrap

import "encoding/binary"

// stubELF wraps the stub code in a minimal static executable: an ELF
// header, one program header and the code at file offset 0x1000, loaded
// read+execute at stubBase. The kernel needs nothing more to exec it, and
// nothing else (no interpreter, no libc) ends up in the stub process.
func stubELF() []byte {
	const codeOff = 0x1000
	f := make([]byte, codeOff+len(stubCode))
	le := binary.LittleEndian
	copy(f, []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */})
	le.PutUint16(f[16:], 2)                     // e_type ET_EXEC
	le.PutUint16(f[18:], 62)                    // e_machine EM_X86_64
	le.PutUint32(f[20:], 1)                     // e_version
	le.PutUint64(f[24:], stubBase+stubEntryOff) // e_entry
	le.PutUint64(f[32:], 64)                    // e_phoff
	le.PutUint16(f[52:], 64)                    // e_ehsize
	le.PutUint16(f[54:], 56)                    // e_phentsize
	le.PutUint16(f[56:], 1)                     // e_phnum
	ph := f[64:]
	le.PutUint32(ph[0:], 1)                      // PT_LOAD
	le.PutUint32(ph[4:], 5)                      // PF_R|PF_X
	le.PutUint64(ph[8:], codeOff)                // p_offset
	le.PutUint64(ph[16:], stubBase)              // p_vaddr
	le.PutUint64(ph[24:], stubBase)              // p_paddr
	le.PutUint64(ph[32:], uint64(len(stubCode))) // p_filesz
	le.PutUint64(ph[40:], uint64(len(stubCode))) // p_memsz
	le.PutUint64(ph[48:], 0x1000)                // p_align
	copy(f[codeOff:], stubCode)
	return f
}
