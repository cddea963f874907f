# hv_svm_run(guest_vmcb %rdi, host_vmcb %rsi, gprs %rdx): run a guest to
# its next #VMEXIT.
#
# VMRUN loads the guest's RAX, RSP, RIP, RFLAGS, segments, control
# registers and EFER from the VMCB and restores the host's on #VMEXIT; the
# other GPRs are ours to switch (gprs[n] is register n; RAX and RSP slots
# are unused). FS, GS, TR, LDTR and the syscall MSRs are switched with
# VMSAVE/VMLOAD through the host VMCB, with GIF clear from before the
# guest's are loaded until the host's are back, so nothing (not even an
# NMI) runs on the host with the guest's TR. RFLAGS.IF is set across
# VMRUN (GIF holds interrupts off meanwhile): with V_INTR_MASKING the
# host's IF decides whether a physical interrupt stops the guest (an
# INTR exit), and hv's host timer relies on that. hv itself runs with
# interrupts off, so IF is cleared again before GIF is set.

.section .text.hv_svm_run, "ax"
.code64
.global hv_svm_run
hv_svm_run:
    push    %rbp
    push    %rbx
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    push    %rdx                # gprs
    push    %rsi                # host VMCB

    clgi
    sti
    mov     %rsi, %rax
    vmsave  %rax                # the host's FS/GS/TR/LDTR/syscall MSRs
    mov     %rdi, %rax          # the guest VMCB: VMLOAD/VMRUN take RAX

    mov     0x08(%rdx), %rcx
    mov     0x18(%rdx), %rbx
    mov     0x28(%rdx), %rbp
    mov     0x30(%rdx), %rsi
    mov     0x38(%rdx), %rdi
    mov     0x40(%rdx), %r8
    mov     0x48(%rdx), %r9
    mov     0x50(%rdx), %r10
    mov     0x58(%rdx), %r11
    mov     0x60(%rdx), %r12
    mov     0x68(%rdx), %r13
    mov     0x70(%rdx), %r14
    mov     0x78(%rdx), %r15
    mov     0x10(%rdx), %rdx    # last: the pointer itself

    vmload  %rax
    vmrun   %rax
    vmsave  %rax

    # RAX and RSP are the host's again; the other GPRs the guest's.
    push    %rdx                # guest RDX
    mov     16(%rsp), %rdx      # gprs (above it: host VMCB, then gprs)
    mov     %rcx, 0x08(%rdx)
    mov     %rbx, 0x18(%rdx)
    mov     %rbp, 0x28(%rdx)
    mov     %rsi, 0x30(%rdx)
    mov     %rdi, 0x38(%rdx)
    mov     %r8, 0x40(%rdx)
    mov     %r9, 0x48(%rdx)
    mov     %r10, 0x50(%rdx)
    mov     %r11, 0x58(%rdx)
    mov     %r12, 0x60(%rdx)
    mov     %r13, 0x68(%rdx)
    mov     %r14, 0x70(%rdx)
    mov     %r15, 0x78(%rdx)
    pop     %rcx
    mov     %rcx, 0x10(%rdx)

    pop     %rax                # host VMCB
    vmload  %rax
    cli
    stgi
    pop     %rdx
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbx
    pop     %rbp
    ret
