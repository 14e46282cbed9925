// Package proc implements the process system calls: clone, fork, vfork,
// execve, exit, wait, futex, identity and credentials, process groups and
// sessions, resource limits, prctl, arch_prctl, uname and the scheduler
// queries.
package proc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Syscalls returns the process system calls.
func Syscalls() map[uintptr]kernel.Syscall {
	m := map[uintptr]kernel.Syscall{
		unix.SYS_CLONE:             {Name: "clone", Fn: Clone, Partial: "namespaces (CLONE_NEW*): EPERM; CLONE_PIDFD with CLONE_THREAD (PIDFD_THREAD): EINVAL"},
		unix.SYS_CLONE3:            {Name: "clone3", Fn: Clone3, Partial: "set_tid, CLONE_INTO_CGROUP and CLONE_PIDFD with CLONE_THREAD: EINVAL; namespaces: EPERM"},
		unix.SYS_PIDFD_OPEN:        {Name: "pidfd_open", Fn: PidfdOpen, Partial: "PIDFD_THREAD: EINVAL"},
		unix.SYS_PIDFD_SEND_SIGNAL: {Name: "pidfd_send_signal", Fn: PidfdSendSignal, Partial: "the PIDFD_SIGNAL_* scope flags: EINVAL"},
		unix.SYS_FORK:              {Name: "fork", Fn: Fork},
		unix.SYS_VFORK:             {Name: "vfork", Fn: Vfork},
		unix.SYS_EXECVE:            {Name: "execve", Fn: Execve},
		unix.SYS_EXECVEAT:          {Name: "execveat", Fn: Execveat},
		unix.SYS_EXIT:              {Name: "exit", Fn: Exit},
		unix.SYS_EXIT_GROUP:        {Name: "exit_group", Fn: ExitGroup},
		unix.SYS_WAIT4:             {Name: "wait4", Fn: Wait4, Partial: "rusage has only CPU times; the other fields are zero"},
		unix.SYS_WAITID:            {Name: "waitid", Fn: Waitid, Partial: "rusage (fifth argument) has only CPU times; the other fields are zero"},
		unix.SYS_FUTEX:             {Name: "futex", Fn: Futex, Partial: "FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI: ENOSYS"},
		unix.SYS_FUTEX_WAITV:       {Name: "futex_waitv", Fn: FutexWaitv},
		unix.SYS_SET_TID_ADDRESS:   {Name: "set_tid_address", Fn: SetTidAddress},
		unix.SYS_SET_ROBUST_LIST:   {Name: "set_robust_list", Fn: SetRobustList},
		unix.SYS_GET_ROBUST_LIST:   {Name: "get_robust_list", Fn: GetRobustList},
		unix.SYS_ARCH_PRCTL:        {Name: "arch_prctl", Fn: ArchPrctl},
		unix.SYS_PTRACE:            {Name: "ptrace", Fn: Ptrace, Partial: "no tracing, as under Yama ptrace_scope 3: PTRACE_TRACEME, ATTACH and SEIZE fail with EPERM, other requests with ESRCH"},
		unix.SYS_PRCTL:             {Name: "prctl", Fn: Prctl, Partial: "options not listed in prctl.go: EINVAL; PR_SET_MM, PR_SET_PTRACER, PR_SET_TIMERSLACK, PR_SET_VMA, PR_SET_THP_DISABLE and PR_MCE_KILL are accepted and ignored"},
		unix.SYS_SECCOMP:           {Name: "seccomp", Fn: Seccomp, Partial: "SECCOMP_FILTER_FLAG_NEW_LISTENER (user notification): ENOSYS"},
	}
	for nr, s := range identitySyscalls() {
		m[nr] = s
	}
	for nr, s := range systemSyscalls() {
		m[nr] = s
	}
	for nr, s := range schedSyscalls() {
		m[nr] = s
	}
	return m
}
