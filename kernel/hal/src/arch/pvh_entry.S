/* PVH entry: QEMU's `-kernel` jumps here in 32-bit protected mode, paging off,
 * with %ebx = physical address of struct hvm_start_info.
 *
 * We zero .bss, build early page tables that map
 *   - the first 4 GiB identity    (so this code keeps running after paging is on),
 *   - the same 4 GiB at the HHDM  (0xffff800000000000, Limine's default offset),
 *   - 1 GiB at 0xffffffff80000000 (the kernel's higher half),
 * all with 2 MiB pages, enter long mode, jump to the higher half and call
 * pvh_main(start_info_phys). The Rust side replaces these tables as soon as it can.
 *
 * Every address used before paging is physical: `sym - KVMA`. */

.set KVMA, 0xffffffff80000000

.section .note.pvh, "a", @note
    .balign 4
    .long 4                     /* name size: "Xen\0" */
    .long 4                     /* descriptor size */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_start - KVMA
    .balign 4

.section .text.boot, "ax"
.code32
.global pvh_start
pvh_start:
    cli
    cld
    movl %ebx, %ebp                     /* keep hvm_start_info */

    /* Zero .bss (QEMU zero-fills too; Rust statics must not depend on it). */
    movl $(__bss_start - KVMA), %edi
    movl $(__bss_end - KVMA), %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    movl $(pvh_stack_top - KVMA), %esp

    /* Long mode available? If not, say so on COM1 and stop. */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb .Lno_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc .Lno_long_mode

    /* Page directories: 2048 x 2 MiB = 4 GiB, present|writable|huge. */
    movl $(pvh_pd - KVMA), %edi
    movl $0x83, %eax
    movl $2048, %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    movl $(pvh_pdpt_low - KVMA), %edi
    movl $(pvh_pd - KVMA + 3), %eax
    movl %eax, 0(%edi)
    addl $4096, %eax
    movl %eax, 8(%edi)
    addl $4096, %eax
    movl %eax, 16(%edi)
    addl $4096, %eax
    movl %eax, 24(%edi)

    movl $(pvh_pdpt_high - KVMA), %edi
    movl $(pvh_pd - KVMA + 3), %eax
    movl %eax, (510 * 8)(%edi)          /* 0xffffffff80000000 -> phys 0 */

    movl $(pvh_pml4 - KVMA), %edi
    movl $(pvh_pdpt_low - KVMA + 3), %eax
    movl %eax, 0(%edi)                  /* identity */
    movl %eax, (256 * 8)(%edi)          /* HHDM */
    movl $(pvh_pdpt_high - KVMA + 3), %eax
    movl %eax, (511 * 8)(%edi)          /* kernel */

    movl %cr4, %eax
    orl $0x20, %eax                     /* PAE */
    movl %eax, %cr4
    movl $(pvh_pml4 - KVMA), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx              /* EFER */
    rdmsr
    orl $0x100, %eax                    /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax               /* PG | WP | PE */
    movl %eax, %cr0

    lgdt (pvh_gdtr - KVMA)
    pushl $0x08
    pushl $(pvh_long - KVMA)
    lret

.Lno_long_mode:
    movl $(pvh_no_lm_msg - KVMA), %esi
2:  lodsb
    testb %al, %al
    jz 3f
    movw $0x3f8, %dx
    outb %al, %dx
    jmp 2b
3:  hlt
    jmp 3b

.code64
pvh_long:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $pvh_higher, %rax
    jmp *%rax
pvh_higher:
    movabsq $pvh_stack_top, %rsp
    movl %ebp, %edi                     /* zero-extends: start_info phys */
    xorl %ebp, %ebp                     /* ends the frame-pointer chain */
    call pvh_main
    ud2

.section .rodata
    .balign 16
pvh_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
pvh_gdtr:
    .word 23
    .long pvh_gdt - KVMA
pvh_no_lm_msg:
    .asciz "PVH boot: this CPU has no long mode (x86_64); cannot boot.\r\n"

.section .bss
    .balign 4096
pvh_pml4:      .skip 4096
pvh_pdpt_low:  .skip 4096
pvh_pdpt_high: .skip 4096
pvh_pd:        .skip 4 * 4096
pvh_stack:     .skip 64 * 1024
pvh_stack_top:
