.text
.globl _start
_start:
    ldr x0, =vectors
    msr vbar_el1, x0
    isb
    ldr x20, =results
    // case 1: unaligned ldadd (MMU off)
    ldr x1, =data+4
    mov x2, #1
    adr x30, 1f
    ldadd x2, x3, [x1]
1:  // case 2: unaligned casp (16-byte pair at +8)
    ldr x1, =data+8
    mov x2, #0
    mov x3, #0
    adr x30, 2f
    casp x2, x3, x4, x5, [x1]
2:  // case 3: aligned ldadd to an unmapped address
    ldr x1, =0x0c000000
    adr x30, 3f
    ldadd x2, x3, [x1]
3:  // case 4: unaligned ldxr for comparison
    ldr x1, =data+4
    adr x30, 4f
    ldxr x3, [x1]
4:  // case 5: unaligned stxr
    ldr x1, =data+4
    adr x30, 5f
    stxr w4, x3, [x1]
5:  // print 5 ESRs as hex via PL011
    ldr x20, =results
    mov x21, #10
6:  ldr x22, [x20], #8
    mov x23, #60
7:  lsr x24, x22, x23
    and x24, x24, #15
    cmp x24, #10
    add x25, x24, #48
    add x26, x24, #87
    csel x24, x25, x26, lt
    ldr x27, =0x09000000
    strb w24, [x27]
    subs x23, x23, #4
    b.ge 7b
    mov w24, #10
    strb w24, [x27]
    subs x21, x21, #1
    b.ne 6b
    // semihosting exit
    mov x0, #0x18
    ldr x1, =0x20026
    hlt #0xf000
.balign 2048
vectors:
    .skip 0x200
    // current EL, SPx, sync
    mrs x10, esr_el1
    str x10, [x20], #8
    mrs x10, far_el1
    str x10, [x20], #8
    msr elr_el1, x30
    eret
.data
.balign 64
data: .skip 64
results: .skip 160
