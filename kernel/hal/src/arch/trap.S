/* Common interrupt/exception path. The stub pushed [error code][vector]; the CPU
 * pushed the iret frame. Traps from kernel code are handled here and resumed;
 * traps from ring 3 swapgs and leave through arch/user.S. The frame layout is
 * `arch::trap::TrapFrame`; keep them in sync. */
.section .text
.global trap_common
trap_common:
    testb $3, 24(%rsp)          /* CS of the interrupted context */
    jnz 3f
    PUSH_GPRS
    movq %rsp, %rdi
    cld
    call trap_dispatch          /* 176-byte frame: %rsp stays 16-byte aligned */
    POP_GPRS
    addq $16, %rsp
    iretq
    /* From ring 3: the frame goes into the thread's UserContext and control
     * returns to the kernel task that entered ring 3 (arch/user.S). */
3:  swapgs
    PUSH_GPRS
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
