# Exception entry stubs for vectors 0-31. Each pushes a dummy error code when
# the CPU pushes none, then its vector number, then the general registers,
# and calls x86_64_exception(frame). Layout matches ExceptionFrame.

.macro STUB vector, has_error
.balign 16
exception_stub_\vector:
.if \has_error == 0
    push    $0
.endif
    push    $\vector
    jmp     exception_common
.endm

.section .text.vectors, "ax"
.code64
STUB 0, 0
STUB 1, 0
STUB 2, 0
STUB 3, 0
STUB 4, 0
STUB 5, 0
STUB 6, 0
STUB 7, 0
STUB 8, 1
STUB 9, 0
STUB 10, 1
STUB 11, 1
STUB 12, 1
STUB 13, 1
STUB 14, 1
STUB 15, 0
STUB 16, 0
STUB 17, 1
STUB 18, 0
STUB 19, 0
STUB 20, 0
STUB 21, 1
STUB 22, 0
STUB 23, 0
STUB 24, 0
STUB 25, 0
STUB 26, 0
STUB 27, 0
STUB 28, 0
STUB 29, 1
STUB 30, 1
STUB 31, 0

exception_common:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    push    %rsi
    push    %rdi
    push    %rbp
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %rsp, %rdi
    and     $-16, %rsp                  # the C ABI wants a 16-byte aligned stack
    call    x86_64_exception
4:  hlt
    jmp     4b

# The host timer's interrupt (host_timer.rs): acknowledge the APIC and
# return; it only exists to make a running guest exit.
.section .text.vectors, "ax"
.global host_timer_stub
host_timer_stub:
    push    %rax
    mov     $0xfee000b0, %eax           # the APIC's EOI register
    movl    $0, (%rax)
    pop     %rax
    iretq

# The APIC's spurious vector: no acknowledgement, just return.
.global host_spurious_stub
host_spurious_stub:
    iretq

# Stub addresses for the IDT, in vector order.
.section .rodata.exception_stubs, "a"
.balign 8
.global exception_stubs
exception_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exception_stub_\v
.endr
