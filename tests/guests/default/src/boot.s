// Test-guest entry: Linux arm64 Image header, then stack, BSS, FP and the
// EL1 vectors; x0 (the DTB) is passed on to Rust. Secondary CPUs enter
// through guest_secondary_entry<k> (PSCI CPU_ON), each on its own stack.

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

// Secondary CPUs (PSCI CPU_ON): x0 is the context ID. Entry point k passes
// k on, so a test can tell which CPU_ON call a CPU was started by. The
// stack is chosen by MPIDR_EL1.Aff0 (the CPU index of the guest machine).
.section .text, "ax"
.irp k, 0,1,2,3
.global guest_secondary_entry\k
.balign 8
guest_secondary_entry\k:
    mov     x1, #\k
    b       secondary_common
.endr

secondary_common:
    mrs     x2, mpidr_el1
    and     x2, x2, #0xff
    cmp     x2, #{MAX_CPUS}
    b.hs    9f
    adrp    x3, __secondary_stacks
    add     x3, x3, :lo12:__secondary_stacks
    ldr     x4, ={SECONDARY_STACK_SIZE}
    madd    x3, x2, x4, x3
    add     x3, x3, x4
    mov     sp, x3
    mov     x5, #(3 << 20)          // CPACR_EL1.FPEN: no FP traps
    msr     cpacr_el1, x5
    adrp    x5, guest_vectors
    add     x5, x5, :lo12:guest_vectors
    msr     vbar_el1, x5
    isb
    mov     x3, x0                  // guest_secondary(cpu, entry point, context)
    mov     x0, x2
    mov     x2, x3
    bl      guest_secondary
9:  wfe
    b       9b

// Every exception except an IRQ calls guest_exception(kind, esr, elr, far),
// which returns the address to resume at (or never returns). Only x29/x30
// are saved: code that expects an exception wraps the faulting instruction
// in an asm block that declares every caller-saved register clobbered.
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

// IRQ from the current EL (SP_ELx): save every caller-saved register (x0-x18,
// x29, x30, q0-q31, FPCR/FPSR) and ELR/SPSR, and call guest_irq().
.equ IRQ_FRAME, 720
.macro IRQ_VECTOR
.balign 0x80
    sub     sp, sp, #IRQ_FRAME
    stp     x0, x1, [sp, #0]
    b       irq_common
.endm

.section .text.vectors, "ax"
.balign 0x800
guest_vectors:
.irp k, 0,1,2,3,4
    VECTOR \k
.endr
    IRQ_VECTOR
.irp k, 6,7,8,9,10,11,12,13,14,15
    VECTOR \k
.endr

irq_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    mrs     x0, elr_el1
    stp     x30, x0, [sp, #160]
    mrs     x0, spsr_el1
    mrs     x1, fpcr
    stp     x0, x1, [sp, #176]
    mrs     x0, fpsr
    str     x0, [sp, #192]
    add     x0, sp, #208
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    bl      guest_irq
    add     x0, sp, #208
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    ldr     x0, [sp, #192]
    msr     fpsr, x0
    ldp     x0, x1, [sp, #176]
    msr     spsr_el1, x0
    msr     fpcr, x1
    ldp     x30, x0, [sp, #160]
    msr     elr_el1, x0
    ldp     x18, x29, [sp, #144]
    ldp     x16, x17, [sp, #128]
    ldp     x14, x15, [sp, #112]
    ldp     x12, x13, [sp, #96]
    ldp     x10, x11, [sp, #80]
    ldp     x8, x9, [sp, #64]
    ldp     x6, x7, [sp, #48]
    ldp     x4, x5, [sp, #32]
    ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #IRQ_FRAME
    eret

.section .bss.stack, "aw", @nobits
.balign 16
    .space  {STACK_SIZE}
__stack_top:
.balign 16
__secondary_stacks:
    .space  {SECONDARY_STACK_SIZE} * {MAX_CPUS}
