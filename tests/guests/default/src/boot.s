// Default guest entry: Linux arm64 Image header, then stack, BSS, FP and the
// EL1 vectors; x0 (the DTB) is passed on to Rust.

.section .text.head, "ax"
.global _start
_start:
    b       1f
    .long   0
    .quad   0x200000                // text_offset: RAM base + 2 MiB
    .quad   __image_size
    .quad   0                       // flags: LE, 2 MiB base near the start of RAM
    .quad   0, 0, 0
    .ascii  "ARM\x64"
    .long   0
1:  mov     x19, x0
    ldr     x1, =__stack_top
    mov     sp, x1
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
2:  cmp     x1, x2
    b.hs    3f
    stp     xzr, xzr, [x1], #16
    b       2b
3:  mov     x1, #(3 << 20)          // CPACR_EL1.FPEN: no FP traps
    msr     cpacr_el1, x1
    ldr     x1, =guest_vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    bl      guest_main
4:  wfe
    b       4b

// Every exception calls guest_exception(kind, esr, elr, far), which returns
// the address to resume at (or never returns). Only x29/x30 are saved: code
// that expects an exception wraps the faulting instruction in an asm block
// that declares every caller-saved register clobbered.
.macro VECTOR kind
.balign 0x80
    stp     x29, x30, [sp, #-16]!
    mov     x0, #\kind
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      guest_exception
    ldp     x29, x30, [sp], #16
    msr     elr_el1, x0
    eret
.endm

.section .text.vectors, "ax"
.balign 0x800
guest_vectors:
.irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    VECTOR \k
.endr

.section .bss.stack, "aw", @nobits
.balign 16
    .space  {STACK_SIZE}
__stack_top:
