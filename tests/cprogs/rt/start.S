// Entry of the C corpus programs: a Linux arm64 Image header (so QEMU
// -kernel and hv-sim load it at RAM base + 2 MiB), then stack, BSS,
// FP/SIMD on, the exception vectors, and an identity map with the MMU and
// caches on (with the MMU off every data access is Device memory, where
// the unaligned accesses compilers emit fault).

    .section .text.head, "ax"
    .global _start
_start:
    b       1f
    .long   0
    .quad   0x200000                // text_offset
    .quad   __image_size
    .quad   0                       // flags: LE
    .quad   0, 0, 0
    .ascii  "ARM\x64"
    .long   0
1:  ldr     x1, =__stack_top
    mov     sp, x1
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
2:  cmp     x1, x2
    b.hs    3f
    stp     xzr, xzr, [x1], #16
    b       2b
3:  mov     x1, #(3 << 20)          // CPACR_EL1.FPEN: no FP/SIMD traps
    msr     cpacr_el1, x1
    ldr     x1, =vectors
    msr     vbar_el1, x1
    // Identity map of the low 4 GiB in 1 GiB blocks: 0-1 GiB Device
    // (the UART), 1-4 GiB Normal write-back (RAM at 1 GiB).
    ldr     x1, =l1_table
    ldr     x2, =0x0000000000000401 // block, AF, AttrIndx 0 (Device)
    str     x2, [x1]
    ldr     x2, =0x0000000040000705 // block, AF, inner shareable, AttrIndx 1
    str     x2, [x1, #8]
    mov     x3, #0x40000000
    add     x2, x2, x3
    str     x2, [x1, #16]
    add     x2, x2, x3
    str     x2, [x1, #24]
    ldr     x2, =0xff00             // MAIR: attr0 Device-nGnRnE, attr1 Normal WB
    msr     mair_el1, x2
    // TCR: T0SZ 32 (4 GiB, walk starts at level 1), IRGN0/ORGN0 WB,
    // SH0 inner, TG0 4 KiB, EPD1, IPS 40 bits.
    ldr     x2, =((32) | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2 << 32))
    msr     tcr_el1, x2
    msr     ttbr0_el1, x1
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    mrs     x2, sctlr_el1
    ldr     x3, =((1 << 0) | (1 << 2) | (1 << 12))  // M, C, I
    orr     x2, x2, x3
    bic     x2, x2, #(1 << 1)       // A: no alignment checks
    msr     sctlr_el1, x2
    isb
    bl      rt_main
4:  wfe
    b       4b

// Every vector reports the exception and powers off (a wrong or missing
// instruction shows up as one line, not a hang).
    .section .text, "ax"
    .balign 2048
vectors:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .balign 128
    mov     x0, #\n
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    b       rt_exception
    .endr

    .section .bss
    .balign 4096
l1_table:
    .space  4096
    .balign 16
    .space  65536
__stack_top:
