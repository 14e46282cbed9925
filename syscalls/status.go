package syscalls

// Status says how much of a system call the sentry implements.
type Status string

// The statuses of the syscall table.
const (
	// Supported: the handler implements the call as Linux documents it.
	Supported Status = "supported"
	// Partial: the handler leaves out what Info.Missing says.
	Partial Status = "partial"
	// Unsupported: no handler; the call fails with ENOSYS.
	Unsupported Status = "unsupported"
)

// Info describes one x86-64 system call for `runsc-lite syscalls`.
type Info struct {
	Number  int    `json:"number"`
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Missing string `json:"missing,omitempty"`
}

// Describe returns every named x86-64 system call in number order with
// its status, read from the table the sentry serves (Table), so the
// description cannot disagree with the handlers.
func Describe() []Info {
	var infos []Info
	for nr, s := range Table() {
		if s.Name == "" {
			continue // a hole in the x86-64 numbering
		}
		in := Info{Number: nr, Name: s.Name, Status: Supported, Missing: s.Partial}
		switch {
		case s.Fn == nil:
			in.Status, in.Missing = Unsupported, ""
		case s.Partial != "":
			in.Status = Partial
		}
		infos = append(infos, in)
	}
	return infos
}
