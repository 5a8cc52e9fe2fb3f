/* Ring 3 entry and exit. See arch/user.rs for the contract.
 *
 * A user thread's registers live in its UserContext: the TrapFrame layout of
 * arch/trap.rs (176 bytes) followed by a 512-byte FXSAVE area. While ring 3
 * runs, TSS.RSP0 points at the end of that frame, so a trap from ring 3 makes
 * the CPU push its iret frame straight into the context, and trap_common's
 * pushes complete it: no copy. `syscall` builds the same frame by hand.
 * Either way `user_leave` returns from arch_enter_user on the kernel stack it
 * was called on. FPU/SSE state is saved and restored lazily in arch/user.rs.
 *
 * Per-CPU fields used (arch/percpu.rs): %gs:16 user RSP scratch, %gs:24 kernel
 * RSP inside arch_enter_user, %gs:32 the current UserContext, %gs:40 the
 * address of this CPU's TSS.RSP0 slot. */

.set CTX_FRAME_END, 176
.set SYSCALL_VECTOR, 0x100      /* frame.vector of a `syscall` trap (not an IDT vector) */
.set USER_DS, 0x1b
.set USER_CS, 0x23

.section .text
.global arch_enter_user
arch_enter_user:                /* (ctx: *mut UserContext), interrupts disabled */
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %gs:24
    movq %rdi, %gs:32
    leaq CTX_FRAME_END(%rdi), %rax
    movq %gs:40, %rcx
    movq %rax, (%rcx)           /* TSS.RSP0 = end of this context's frame */
    movq %rdi, %rsp
    POP_GPRS
    cmpq $SYSCALL_VECTOR, (%rsp)
    jne 1f
    /* Back from a `syscall`: sysret. RIP is the instruction after that syscall
     * (canonical: the CPU executed it), RFLAGS the ones the CPU saved in r11. */
    movq 16(%rsp), %rcx
    movq 32(%rsp), %r11
    movq 40(%rsp), %rsp
    swapgs
    sysretq
1:  addq $16, %rsp              /* vector, error code */
    swapgs
    iretq

/* LSTAR: `syscall` from ring 3. Interrupts are off (FMASK clears IF). */
.global arch_syscall_entry
arch_syscall_entry:
    swapgs
    movq %rsp, %gs:16
    movq %gs:32, %rsp
    addq $CTX_FRAME_END, %rsp
    pushq $USER_DS
    pushq %gs:16
    pushq %r11                  /* user RFLAGS */
    pushq $USER_CS
    pushq %rcx                  /* user RIP */
    pushq $0
    pushq $SYSCALL_VECTOR
    PUSH_GPRS
    jmp user_leave

/* From trap_common for a trap out of ring 3: registers are pushed, %gs is the
 * kernel's. Normally %rsp is already the context (TSS.RSP0 trick); a trap
 * taken on an IST stack (NMI, machine check, double fault) is copied there. */
.global arch_user_trap
arch_user_trap:
    movq %gs:32, %rdi
    cmpq %rsp, %rdi
    je user_leave
    movq %rsp, %rsi
    movl $22, %ecx
    cld
    rep movsq
user_leave:
    movq %gs:24, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret                         /* from arch_enter_user */
