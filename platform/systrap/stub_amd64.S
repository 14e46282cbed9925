/*
 * Stub code for the systrap platform.
 *
 * It runs in host processes whose address space below stubBase is reserved
 * for guest memory. The code is position independent (RIP-relative only)
 * but is always mapped at stubBase, where the seccomp filter allows system
 * calls. It is assembled by gen_stub.go into stub_code_amd64.go.
 *
 * Register convention: %r15 holds the base of the current thread region
 * (control page at offset 0); everything else is scratch. No function here
 * touches the FP/vector registers, so the guest FP state travels untouched
 * in the signal frame.
 */

/* Must match layout.go (checked by TestStubLayoutMatches). */
.set stubBase,      0x7ffe00000000
.set taskSize,      0x7ffffffff000
.set stubCodeMax,   0x8000
.set regionSize,    0x10000
.set masterRegion,  0x7ffe00010000
.set stackTop,      0x4000
.set altStackLo,    0x4000
.set altStackLen,   0xc000
.set stubFDNum,     3
.set masterFDNum,   5
.set extraFDNum,    6
.set cState,        0x00
.set cStubSleep,    0x04
.set cSentrySleep,  0x08
.set cFlags,        0x0c
.set cOp,           0x10
.set cResult,       0x18
.set cArg0,         0x20
.set cArg1,         0x28
.set cNSys,         0x38
.set cSigno,        0x40
.set cInfo,         0x48
.set cUC,           0x50
.set cFSBase,       0x58
.set cGSBase,       0x60
.set cTID,          0x68
.set cKind,         0x70
.set cSpin,         0x78
.set cSyscalls,     0x100
.set maxBatch,      32
.set cBPF,          0x900
.set stateCmd,      1
.set statePosted,   2
.set opSyscalls,    1
.set opResume,      2
.set opFork,        3
.set opNewThread,   4
.set opExit,        5
.set opProbe,       6

/* Host ABI. */
.set SYS_close, 3
.set SYS_mmap, 9
.set SYS_munmap, 11
.set SYS_rt_sigaction, 13
.set SYS_rt_sigprocmask, 14
.set SYS_rt_sigreturn, 15
.set SYS_sched_yield, 24
.set SYS_clone, 56
.set SYS_exit, 60
.set SYS_sigaltstack, 131
.set SYS_prctl, 157
.set SYS_arch_prctl, 158
.set SYS_gettid, 186
.set SYS_futex, 202
.set SYS_exit_group, 231
.set SYS_seccomp, 317
.set SYS_close_range, 436
.set MAXSPIN, 1000
.set THREAD_FLAGS, 0x250f00 /* VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|CHILD_CLEARTID */
.set SA_FLAGS, 0x0c000004   /* SA_SIGINFO|SA_ONSTACK|SA_RESTORER */

	.text
	.globl _start
_start:
	/* Map the master region (from its own memfd, which address-space
	 * processes close: guest code must never reach the master) and move
	 * the stack there. */
	movabs	$masterRegion, %r15
	mov	$SYS_mmap, %eax
	mov	%r15, %rdi
	mov	$regionSize, %esi
	mov	$3, %edx
	mov	$0x11, %r10d
	mov	$masterFDNum, %r8d
	xor	%r9d, %r9d
	syscall
	cmp	$-4095, %rax
	jae	die
	lea	stackTop(%r15), %rsp

	/* Drop any inherited descriptor beyond the three memfds and the
	 * backing files. */
	mov	$SYS_close_range, %eax
	mov	$(extraFDNum+1), %edi
	mov	$-1, %esi
	xor	%edx, %edx
	syscall

	/* Free the guest range and the rest of the stub range: old stack,
	 * vdso, vvar. */
	mov	$SYS_munmap, %eax
	xor	%edi, %edi
	movabs	$stubBase, %rsi
	syscall
	mov	$SYS_munmap, %eax
	movabs	$(stubBase+stubCodeMax), %rdi
	mov	$(masterRegion-stubBase-stubCodeMax), %esi
	syscall
	mov	$SYS_munmap, %eax
	movabs	$(masterRegion+regionSize), %rdi
	movabs	$(taskSize-masterRegion-regionSize), %rsi
	syscall

	/* Signal handlers: every event signal goes to handler with all
	 * signals blocked, on the alternate stack. */
	sub	$32, %rsp
	lea	handler(%rip), %rax
	mov	%rax, 0(%rsp)
	movq	$SA_FLAGS, 8(%rsp)
	lea	restorer(%rip), %rax
	mov	%rax, 16(%rsp)
	movq	$-1, 24(%rsp)
	lea	signals(%rip), %rbx
1:	movzbl	(%rbx), %edi
	test	%edi, %edi
	jz	2f
	mov	$SYS_rt_sigaction, %eax
	mov	%rsp, %rsi
	xor	%edx, %edx
	mov	$8, %r10d
	syscall
	test	%rax, %rax
	jnz	die
	inc	%rbx
	jmp	1b
2:	/* SIGCHLD ignored: stub processes are reaped by the kernel. */
	movq	$1, 0(%rsp)
	movq	$0, 8(%rsp)
	movq	$0, 16(%rsp)
	movq	$0, 24(%rsp)
	mov	$SYS_rt_sigaction, %eax
	mov	$17, %edi
	mov	%rsp, %rsi
	xor	%edx, %edx
	mov	$8, %r10d
	syscall
	add	$32, %rsp

	call	set_pdeathsig
	call	set_altstack
	call	unblock_signals

	/* no_new_privs, then the seccomp filter the sentry put in our page. */
	mov	$SYS_prctl, %eax
	mov	$38, %edi
	mov	$1, %esi
	xor	%edx, %edx
	xor	%r10d, %r10d
	xor	%r8d, %r8d
	syscall
	test	%rax, %rax
	jnz	die
	mov	$SYS_seccomp, %eax
	mov	$1, %edi
	xor	%esi, %esi
	lea	cBPF(%r15), %rdx
	syscall
	test	%rax, %rax
	jnz	die
	call	store_tid

executor_loop:
	movq	$0, cKind(%r15)
	call	serve
	jmp	executor_loop

/* die: exit the whole process; the sentry notices through its pidfd. */
die:
	mov	$SYS_exit_group, %eax
	mov	$127, %edi
	syscall
	ud2

/* set_altstack: sigaltstack to the alternate stack of region %r15. */
set_altstack:
	sub	$24, %rsp
	lea	altStackLo(%r15), %rax
	mov	%rax, 0(%rsp)
	movq	$0, 8(%rsp)
	movq	$altStackLen, 16(%rsp)
	mov	$SYS_sigaltstack, %eax
	mov	%rsp, %rdi
	xor	%esi, %esi
	syscall
	add	$24, %rsp
	test	%rax, %rax
	jnz	die
	ret

set_pdeathsig:
	mov	$SYS_prctl, %eax
	mov	$1, %edi	/* PR_SET_PDEATHSIG */
	mov	$9, %esi	/* SIGKILL */
	syscall
	ret

unblock_signals:
	push	$0
	mov	$SYS_rt_sigprocmask, %eax
	mov	$2, %edi	/* SIG_SETMASK */
	mov	%rsp, %rsi
	xor	%edx, %edx
	mov	$8, %r10d
	syscall
	add	$8, %rsp
	ret

store_tid:
	mov	$SYS_gettid, %eax
	syscall
	mov	%rax, cTID(%r15)
	ret

/*
 * serve: post to the sentry (cKind already set), wait for a command and run
 * it; loop until opResume, which returns to the caller.
 */
serve:
post:
	mov	$statePosted, %eax
	xchg	%eax, cState(%r15)	/* full barrier before reading cSentrySleep */
	cmpl	$0, cSentrySleep(%r15)
	je	wait
	mov	$SYS_futex, %eax
	lea	cState(%r15), %rdi
	mov	$1, %esi		/* FUTEX_WAKE (shared: the page is a memfd) */
	mov	$0x7fffffff, %edx	/* all: guest code may have put others there */
	syscall
wait:
	/* The sentry's budget (0 or above the cap if guest code wrote it). */
	mov	cSpin(%r15), %ecx
	lea	-1(%rcx), %eax
	cmp	$MAXSPIN-1, %eax
	jb	spin
	mov	$MAXSPIN, %ecx
spin:
	mov	cState(%r15), %edx
	cmp	$stateCmd, %edx
	je	got
	pause
	dec	%ecx
	jz	1f
	test	$63, %ecx
	jnz	spin
	/* Now and then let a sentry thread that shares our CPU run. */
	mov	%ecx, %ebx
	mov	$SYS_sched_yield, %eax
	syscall
	mov	%ebx, %ecx
	jmp	spin
1:
	mov	$1, %eax
	xchg	%eax, cStubSleep(%r15)
	mov	cState(%r15), %edx
	cmp	$stateCmd, %edx
	je	woke
	mov	$SYS_futex, %eax
	lea	cState(%r15), %rdi
	xor	%esi, %esi		/* FUTEX_WAIT while the word is unchanged */
	xor	%r10d, %r10d
	syscall
woke:
	movl	$0, cStubSleep(%r15)
	jmp	wait
got:
	movq	$0, cKind(%r15)
	mov	cOp(%r15), %rax
	cmp	$opResume, %rax
	je	do_resume
	cmp	$opSyscalls, %rax
	je	do_syscalls
	cmp	$opNewThread, %rax
	je	do_newthread
	cmp	$opFork, %rax
	je	do_fork
	cmp	$opExit, %rax
	je	do_exit
	cmp	$opProbe, %rax
	je	do_probe
	movq	$-22, cResult(%r15)
	jmp	post

do_resume:
	ret

do_syscalls:
	mov	cNSys(%r15), %r13
	cmp	$maxBatch, %r13
	jbe	1f
	mov	$maxBatch, %r13d
1:	lea	cSyscalls(%r15), %rbx
	xor	%r12d, %r12d
2:	cmp	%r13, %r12
	jae	3f
	mov	0(%rbx), %rax
	mov	8(%rbx), %rdi
	mov	16(%rbx), %rsi
	mov	24(%rbx), %rdx
	mov	32(%rbx), %r10
	mov	40(%rbx), %r8
	mov	48(%rbx), %r9
	syscall
	mov	%rax, 56(%rbx)
	cmp	$-4095, %rax
	jae	3f
	add	$64, %rbx
	inc	%r12
	jmp	2b
3:	mov	%r12, cResult(%r15)
	jmp	post

do_exit:
	mov	$SYS_exit, %eax
	xor	%edi, %edi
	syscall
	ud2

do_probe:
	ud2			/* the sentry advances RIP by 2 */
	movq	$0, cResult(%r15)
	jmp	post

do_newthread:
	mov	cArg0(%r15), %r12
	mov	cArg1(%r15), %r13
	/* map the new region (without dying on failure) */
	mov	$SYS_mmap, %eax
	mov	%r12, %rdi
	mov	$regionSize, %esi
	mov	$3, %edx
	mov	$0x11, %r10d
	mov	$stubFDNum, %r8d
	mov	%r13, %r9
	syscall
	cmp	$-4095, %rax
	jae	1f
	mov	$SYS_clone, %eax
	mov	$THREAD_FLAGS, %edi
	lea	stackTop(%r12), %rsi
	xor	%edx, %edx
	lea	cState(%r12), %r10	/* CLEARTID: state word becomes 0 at exit */
	xor	%r8d, %r8d
	syscall
	test	%rax, %rax
	jz	thread_start
1:	mov	%rax, cResult(%r15)
	jmp	post

thread_start:
	mov	%r12, %r15
	call	set_altstack
	call	store_tid
	call	unblock_signals
	/* Trap so that the thread sits in its signal handler with a frame
	 * the sentry can fill with guest registers and sigreturn through. */
thread_trap:
	ud2
	jmp	thread_trap

do_fork:
	mov	cArg0(%r15), %r12
	mov	cArg1(%r15), %r13
	mov	$SYS_clone, %eax
	mov	$17, %edi		/* SIGCHLD (ignored: auto-reaped) */
	lea	stackTop(%r12), %rsi
	xor	%edx, %edx
	xor	%r10d, %r10d
	xor	%r8d, %r8d
	syscall
	test	%rax, %rax
	jz	fork_child
	mov	%rax, cResult(%r15)
	jmp	post

fork_child:
	/* The stack (in the new region) is not mapped yet: no push or call
	 * until the mmap below. */
	mov	$SYS_mmap, %eax
	mov	%r12, %rdi
	mov	$regionSize, %esi
	mov	$3, %edx
	mov	$0x11, %r10d
	mov	$stubFDNum, %r8d
	mov	%r13, %r9
	syscall
	cmp	$-4095, %rax
	jae	die
	/* Unmap the master's region (shared memory: it must not be touched)
	 * and close its memfd. */
	mov	$SYS_munmap, %eax
	mov	%r15, %rdi
	mov	$regionSize, %esi
	syscall
	mov	$SYS_close, %eax
	mov	$masterFDNum, %edi
	syscall
	mov	%r12, %r15
	call	set_pdeathsig
	call	set_altstack
	call	store_tid
	jmp	executor_loop

handler:
	/* %rdi = signo, %rsi = siginfo, %rdx = ucontext; on the alternate
	 * stack of this thread's region, all signals blocked. */
	mov	%rsp, %r15
	and	$-regionSize, %r15
	mov	%rdi, cSigno(%r15)
	mov	%rsi, cInfo(%r15)
	mov	%rdx, cUC(%r15)
	testl	$1, cFlags(%r15)
	jz	1f
	rdfsbase %rax
	mov	%rax, cFSBase(%r15)
	rdgsbase %rax
	mov	%rax, cGSBase(%r15)
	jmp	2f
1:	mov	$SYS_arch_prctl, %eax
	mov	$0x1003, %edi		/* ARCH_GET_FS */
	lea	cFSBase(%r15), %rsi
	syscall
	mov	$SYS_arch_prctl, %eax
	mov	$0x1004, %edi		/* ARCH_GET_GS */
	lea	cGSBase(%r15), %rsi
	syscall
2:	movq	$1, cKind(%r15)
	call	serve
	testl	$1, cFlags(%r15)
	jz	3f
	mov	cFSBase(%r15), %rax
	wrfsbase %rax
	mov	cGSBase(%r15), %rax
	wrgsbase %rax
	ret			/* to restorer */
3:	mov	$SYS_arch_prctl, %eax
	mov	$0x1002, %edi		/* ARCH_SET_FS */
	mov	cFSBase(%r15), %rsi
	syscall
	mov	$SYS_arch_prctl, %eax
	mov	$0x1001, %edi		/* ARCH_SET_GS */
	mov	cGSBase(%r15), %rsi
	syscall
	ret

restorer:
	mov	$SYS_rt_sigreturn, %eax
	syscall
	ud2

signals:
	.byte 31, 11, 7, 8, 4, 5, 12, 0	/* SYS SEGV BUS FPE ILL TRAP USR2 */

	.globl stub_end
stub_end:
