// Entering and leaving a guest. `run_vcpu(regs)` saves the hypervisor's
// callee-saved state on its stack, loads the guest's general registers from
// `regs` (struct VcpuRegs in vcpu.rs) and ERETs. The next exception from the
// guest arrives at a lower-EL vector, which stores the guest's registers
// back into `regs` (found through TPIDR_EL2) and returns from `run_vcpu`
// with the vector number.
//
// The guest's FP/SIMD registers, FPSR and FPCR are neither saved nor
// restored: hv is built for the soft-float target and never touches them
// (the assembler refuses FP instructions here), so they stay the guest's.

.set REGS_PC, {PC}
.set REGS_PSTATE, {PSTATE}
.set HOST_FRAME, 96

.section .text.vcpu, "ax"
.global run_vcpu
run_vcpu:
    sub     sp, sp, #HOST_FRAME
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    msr     tpidr_el2, x0

    ldr     x1, [x0, #REGS_PC]
    msr     elr_el2, x1
    ldr     x1, [x0, #REGS_PSTATE]
    msr     spsr_el2, x1

    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0, #0]
    eret
    // ERET is not speculated past on every core; a barrier keeps it so.
    dsb     nsh
    isb

// From the lower-EL vectors: x0 = regs, x1 = vector number, the guest's
// x0/x1 pushed on the stack.
.global guest_exit
guest_exit:
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0, #0]
    mrs     x2, elr_el2
    str     x2, [x0, #REGS_PC]
    mrs     x2, spsr_el2
    str     x2, [x0, #REGS_PSTATE]


    mov     x0, x1
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    add     sp, sp, #HOST_FRAME
    ret
