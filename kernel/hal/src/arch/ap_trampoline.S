/* AP trampoline: copied to physical 0x8000 (identity-mapped while APs start), where a
 * STARTUP IPI starts each AP in real mode. All APs run it at once: each finds its own
 * stack in the table at +0x800, indexed by its initial APIC id (CPUID.1:EBX[31:24]).
 *
 * Layout of the page (offsets shared with arch/ap.rs):
 *   +0x000 code   +0x700 GDT   +0x720 GDTR   +0x730 CR3 (u32)   +0x738 entry (u64)
 *   +0x800 stack tops, u64[256] by APIC id (0 = do not start) */
.set TRAMP, 0x8000

.section .rodata.ap_trampoline, "a"
.balign 4096
.global ap_tramp_start
ap_tramp_start:
.code16
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    lgdtl (TRAMP + 0x720)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $(TRAMP + (ap_pm32 - ap_tramp_start))
.code32
ap_pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax                     /* PAE */
    movl %eax, %cr4
    movl (TRAMP + 0x730), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx              /* EFER: LME | NXE */
    rdmsr
    orl $0x900, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010000, %eax               /* PG | WP */
    movl %eax, %cr0
    ljmpl $0x18, $(TRAMP + (ap_lm64 - ap_tramp_start))
.code64
ap_lm64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $1, %eax
    cpuid
    shrl $24, %ebx
    movq (TRAMP + 0x800)(, %rbx, 8), %rsp
    testq %rsp, %rsp
    jz 1f
    movl %ebx, %edi
    xorl %ebp, %ebp
    movq (TRAMP + 0x738), %rax
    callq *%rax
1:  cli
    hlt
    jmp 1b

/* The descriptors come with their Accessed bit already set. Otherwise loading a
 * selector makes the CPU write that bit into the GDT, and the far jump to 0x18 runs
 * with paging and CR0.WP on, through the read-only identity mapping of this page:
 * a #PF with no IDT, so a triple fault. (Real CPUs and KVM do that write; QEMU's
 * TCG does not on far jumps, which hid it.) */
.org 0x700
    .quad 0
    .quad 0x00cf9b000000ffff            /* 0x08: 32-bit code */
    .quad 0x00cf93000000ffff            /* 0x10: data */
    .quad 0x00af9b000000ffff            /* 0x18: 64-bit code */
.org 0x720
    .word 31
    .long TRAMP + 0x700
.org 0x1000
.global ap_tramp_end
ap_tramp_end:
