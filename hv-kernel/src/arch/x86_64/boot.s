# hv-kernel x86_64 entry (also the x86 test guest's, tests/guests/x86).
# QEMU's -kernel finds the PVH note below and enters pvh_start in 32-bit
# protected mode, paging off, with %ebx = the physical address of the
# hvm_start_info structure. We build identity page tables for the first
# 4 GiB, switch to long mode and call x86_64_main(start_info) in Rust.

.section .note.Xen, "a", @note
    .balign 4
    .long 4                     # name size ("Xen\0")
    .long 4                     # descriptor size
    .long 18                    # XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long pvh_start

.section .text.boot32, "ax"
.code32
.global pvh_start
pvh_start:
    cli
    cld
    mov     %ebx, %esi                  # keep start_info across the set-up

    # Zero BSS (page tables and stacks live there).
    mov     $__bss_start, %edi
    mov     $__bss_end, %ecx
    sub     %edi, %ecx
    shr     $2, %ecx
    xor     %eax, %eax
    rep stosl

    # PML4[0] -> PDPT; PDPT[0..4] -> PD0..PD3; each PD maps 1 GiB in 2 MiB pages.
    mov     $boot_pdpt, %eax
    or      $0x3, %eax                  # present | writable
    mov     %eax, boot_pml4
    mov     $boot_pd, %eax
    or      $0x3, %eax
    mov     $boot_pdpt, %edi
    mov     $4, %ecx
1:  mov     %eax, (%edi)
    add     $0x1000, %eax
    add     $8, %edi
    loop    1b
    mov     $boot_pd, %edi
    mov     $0x83, %eax                 # present | writable | 2 MiB page
    xor     %edx, %edx                  # high half of the entry
    mov     $2048, %ecx
2:  mov     %eax, (%edi)
    mov     %edx, 4(%edi)
    add     $0x200000, %eax
    adc     $0, %edx
    add     $8, %edi
    loop    2b
    # 3-4 GiB is the PC's device window (APIC, I/O APIC, HPET, PCI BARs):
    # uncached (PCD | PWT), whatever the firmware's MTRRs say.
    mov     $(boot_pd + 3 * 4096), %edi
    mov     $512, %ecx
4:  orl     $0x18, (%edi)
    add     $8, %edi
    loop    4b

    mov     $boot_pml4, %eax
    mov     %eax, %cr3
    mov     %cr4, %eax
    or      $(1 << 5), %eax             # PAE
    mov     %eax, %cr4
    mov     $0xc0000080, %ecx           # EFER
    rdmsr
    or      $(1 << 8), %eax             # LME
    wrmsr
    mov     %cr0, %eax
    or      $((1 << 31) | 1), %eax      # PG | PE
    mov     %eax, %cr0

    lgdt    boot_gdt_ptr
    ljmp    $0x08, $long_mode_entry

.code64
long_mode_entry:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    xor     %ax, %ax
    mov     %ax, %fs
    mov     %ax, %gs
    mov     $boot_stack_top, %rsp
    mov     %esi, %edi                  # start_info (zero-extended)
    call    x86_64_main
3:  hlt
    jmp     3b

.section .rodata.boot_gdt, "a"
.balign 8
boot_gdt:
    .quad   0
    .quad   0x00af9a000000ffff          # 0x08: 64-bit code
    .quad   0x00cf92000000ffff          # 0x10: data
.global boot_gdt_ptr
boot_gdt_ptr:
    .word   boot_gdt_ptr - boot_gdt - 1
    .long   boot_gdt

.section .bss.boot_tables, "aw", @nobits
.balign 4096
.global boot_pml4
boot_pml4:  .space 4096
boot_pdpt:  .space 4096
boot_pd:    .space 4096 * 4
boot_stack: .space {BOOT_STACK_SIZE}
boot_stack_top:
