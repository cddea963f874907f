# The other CPUs' (APs') way from the startup IPI to Rust. The SIPI starts
# an AP in real mode at {TRAMPOLINE} (vector {TRAMPOLINE} >> 12), where the
# boot CPU copied ap_trampoline_start..ap_trampoline_end; it switches to
# protected mode with its own small GDT, then on to long mode with the
# boot CPU's page tables and GDT (boot.s), takes the next CPU index and
# its stack, and calls x86_64_ap_main(index).

.section .rodata.ap_trampoline, "a"
.code16
.global ap_trampoline_start
.global ap_trampoline_end
ap_trampoline_start:
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    lgdtl   ap_gdt_ptr - ap_trampoline_start
    mov     %cr0, %eax
    or      $1, %eax                    # PE
    mov     %eax, %cr0
    ljmpl   $0x08, ${TRAMPOLINE} + ap_protected - ap_trampoline_start

.code32
ap_protected:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     %cr4, %eax
    or      $(1 << 5), %eax             # PAE
    mov     %eax, %cr4
    mov     $boot_pml4, %eax
    mov     %eax, %cr3
    mov     $0xc0000080, %ecx           # EFER
    rdmsr
    or      $(1 << 8), %eax             # LME
    wrmsr
    mov     %cr0, %eax
    or      $(1 << 31), %eax            # PG
    mov     %eax, %cr0
    lgdt    boot_gdt_ptr
    ljmp    $0x08, $ap_long_mode_entry

.balign 8
ap_gdt:
    .quad   0
    .quad   0x00cf9a000000ffff          # 0x08: 32-bit code
    .quad   0x00cf92000000ffff          # 0x10: data
ap_gdt_ptr:
    .word   ap_gdt_ptr - ap_gdt - 1
    .long   {TRAMPOLINE} + ap_gdt - ap_trampoline_start
ap_trampoline_end:

.section .text.ap_boot, "ax"
.code64
ap_long_mode_entry:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    xor     %ax, %ax
    mov     %ax, %fs
    mov     %ax, %gs
    # Index 1, 2, ... in arrival order; past the last stack, park.
    mov     $1, %eax
    lock xadd %eax, ap_next_index(%rip)
    cmp     ${MAX_CPUS}, %eax
    jae     2f
    # Stack of index i: the top of ap_stacks' (i-1)-th slot.
    mov     %eax, %edi
    imul    ${AP_STACK_SIZE}, %rax
    lea     ap_stacks(%rip), %rsp
    add     %rax, %rsp
    call    x86_64_ap_main
2:  cli
    hlt
    jmp     2b

.section .data.ap_boot, "aw"
.balign 4
.global ap_next_index
ap_next_index:
    .long   1

.section .bss.ap_stacks, "aw", @nobits
.balign 4096
ap_stacks:
    .space  {AP_STACK_SIZE} * ({MAX_CPUS} - 1)
