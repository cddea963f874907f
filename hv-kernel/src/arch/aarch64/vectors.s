// EL2 exception vectors: every entry saves the general registers into a
// frame on the stack and calls `aarch64_exception(frame, kind)` in Rust.
// The frame layout matches `ExceptionFrame` in exceptions.rs.

.set FRAME_SIZE, 32 * 8

.macro VECTOR kind
.balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       exception_common
.endm

// A lower-EL entry: the guest is running on this CPU. Its registers go to
// the VcpuRegs that TPIDR_EL2 points at (see vcpu.s).
.macro GUEST_VECTOR kind
.balign 0x80
    stp     x0, x1, [sp, #-16]!
    mrs     x0, tpidr_el2
    mov     x1, #\kind
    b       guest_exit
.endm

.section .text.vectors, "ax"
.balign 0x800
.global el2_vectors
el2_vectors:
    VECTOR 0    // current EL, SP_EL0: synchronous
    VECTOR 1    //   IRQ
    VECTOR 2    //   FIQ
    VECTOR 3    //   SError
    VECTOR 4    // current EL, SP_ELx: synchronous
    VECTOR 5
    VECTOR 6
    VECTOR 7
    GUEST_VECTOR 8  // lower EL, AArch64: synchronous
    GUEST_VECTOR 9  //   IRQ
    GUEST_VECTOR 10 //   FIQ
    GUEST_VECTOR 11 //   SError
    GUEST_VECTOR 12 // lower EL, AArch32 (never enabled: HCR_EL2.RW = 1)
    GUEST_VECTOR 13
    GUEST_VECTOR 14
    GUEST_VECTOR 15

exception_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    add     x2, sp, #FRAME_SIZE         // the interrupted SP
    stp     x30, x2, [sp, #240]
    mov     x1, x0                      // kind
    mov     x0, sp                      // frame
    bl      aarch64_exception
    // The handler returned: resume with the (possibly updated) registers.
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret
