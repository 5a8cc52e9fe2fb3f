/* Common interrupt/exception path. The stub pushed [error code][vector]; the CPU
 * pushed the iret frame. Traps from kernel code are handled here and resumed;
 * traps from ring 3 swapgs and leave through arch/user.S. The frame layout is
 * `arch::trap::TrapFrame`; keep them in sync. */
.section .text
.global trap_common
trap_common:
    testb $3, 24(%rsp)          /* CS of the interrupted context */
    jnz 3f
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    call trap_dispatch          /* 176-byte frame: %rsp stays 16-byte aligned */
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
    /* From ring 3: the frame goes into the thread's UserContext and control
     * returns to the kernel task that entered ring 3 (arch/user.S). */
3:  swapgs
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    jmp arch_user_trap

/* Fault-tolerant kernel reads for tests and diagnostics: a page fault at a listed
 * instruction resumes at its fixup (see .ex_table and arch::trap::fixup). */
.global arch_probe_read_u64
arch_probe_read_u64:            /* (addr: u64, out: *mut u64) -> 0 ok / 1 faulted */
    xorl %eax, %eax
.Lprobe_read:
    movq (%rdi), %rdx
    movq %rdx, (%rsi)
    ret
.Lprobe_read_fixup:
    movl $1, %eax
    ret

.global arch_probe_write_u64
arch_probe_write_u64:           /* (addr: u64, value: u64) -> 0 ok / 1 faulted */
    xorl %eax, %eax
.Lprobe_write:
    movq %rsi, (%rdi)
    ret
.Lprobe_write_fixup:
    movl $1, %eax
    ret

.section .ex_table, "a"
    .balign 8
    .quad .Lprobe_read, .Lprobe_read_fixup
    .quad .Lprobe_write, .Lprobe_write_fixup
