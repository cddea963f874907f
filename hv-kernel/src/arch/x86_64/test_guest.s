# hv's built-in SVM test guest: 32-bit flat protected mode, paging off,
# loaded at guest-physical 0x1000. It prints a line on COM1, polling the
# UART's line status before each byte (IN and OUT exits to hv's 16550),
# stores, loads and read-modify-writes a device register that is not RAM
# (nested page faults, emulated by hv's instruction decoder), copies a
# word into it and back out with MOVS, reports what it read back on port
# 0xf0, and halts.

.section .rodata.hv_test_guest, "a"
.code32
    .equ    GUEST_LOAD, 0x1000
    .equ    SCRATCH, 0xfebf0000
.global hv_test_guest, hv_test_guest_end
hv_test_guest:
    mov     $(GUEST_LOAD + (hv_test_guest_msg - hv_test_guest)), %esi
1:  lodsb
    test    %al, %al
    jz      2f
    mov     %al, %ah
    mov     $0x3fd, %dx                 # wait for THRE in LSR, as a driver does
3:  in      %dx, %al
    test    $0x20, %al
    jz      3b
    mov     $0x3f8, %dx
    mov     %ah, %al
    out     %al, %dx
    jmp     1b
2:  mov     $SCRATCH, %ebx
    movl    $0x1234abcd, (%ebx)         # MMIO store of an immediate
    mov     (%ebx), %eax                # MMIO load
    out     %eax, $0xf0
    orl     $0x40000000, (%ebx)         # MMIO read-modify-write
    movzwl  2(%ebx), %eax               # a 16-bit load at an offset
    out     %eax, $0xf0
    # MOVS both ways: a word from RAM into the register, then back out
    # into another word of RAM, which is reported.
    mov     $(GUEST_LOAD + (hv_test_guest_word - hv_test_guest)), %esi
    mov     $SCRATCH, %edi
    movsl
    mov     $SCRATCH, %esi
    mov     $(GUEST_LOAD + (hv_test_guest_copy - hv_test_guest)), %edi
    movsl
    mov     $(GUEST_LOAD + (hv_test_guest_copy - hv_test_guest)), %esi
    lodsl
    out     %eax, $0xf0
    hlt
    .balign 4
hv_test_guest_word:
    .long   0xcafef00d
hv_test_guest_copy:
    .long   0
hv_test_guest_msg:
    .asciz  "hello from an SVM guest\r\n"
hv_test_guest_end:
.code64
