// hv-kernel AArch64 entry: the Linux arm64 Image header, then the code that
// runs before Rust can: pick the stack, zero BSS, apply relocations, enable
// the FP unit, install the EL2 vectors.

.set R_AARCH64_RELATIVE, 1027

.section .text.head, "ax"
.global _start
_start:
    // Linux arm64 Image header (the kernel's arm64 booting document).
    b       primary_entry       // code0
    .long   0                   // code1
    .quad   0                   // text_offset: load at a 2 MiB-aligned base
    .quad   __image_size        // image_size, BSS included
    .quad   0x8                 // flags: little-endian, any page size, base anywhere
    .quad   0                   // res2
    .quad   0                   // res3
    .quad   0                   // res4
    .ascii  "ARM\x64"           // magic
    .long   0                   // res5

primary_entry:
    mov     x19, x0                     // DTB address from the loader

    adrp    x1, __boot_stack_top
    add     x1, x1, :lo12:__boot_stack_top
    mov     sp, x1

    // Zero BSS (the loader only guarantees image_size bytes are reserved).
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    // Apply R_AARCH64_RELATIVE relocations: *(base + off) = base + addend.
    adrp    x3, _start
    add     x3, x3, :lo12:_start
    adrp    x1, __rela_start
    add     x1, x1, :lo12:__rela_start
    adrp    x2, __rela_end
    add     x2, x2, :lo12:__rela_end
3:  cmp     x1, x2
    b.hs    5f
    ldp     x4, x5, [x1], #16           // r_offset, r_info
    ldr     x6, [x1], #8                // r_addend
    cmp     x5, #R_AARCH64_RELATIVE
    b.ne    4f                          // any other type: a link error, stop
    add     x6, x6, x3
    str     x6, [x4, x3]
    b       3b
4:  wfe
    b       4b
5:
    bl      enable_fp_and_vectors
    mov     x0, x19
    bl      aarch64_primary_main        // never returns
6:  wfe
    b       6b

// Secondary CPUs enter here from PSCI CPU_ON with the MMU off and
// x0 = context id = this CPU's logical index (1..). They switch their MMU
// on with the boot CPU's registers (secondary_mmu_registers, cleaned to the
// PoC before any release) before touching memory: a write made with the
// MMU off could otherwise be hidden by a stale cache line later.
.global secondary_entry
secondary_entry:
    mov     x19, x0
    adrp    x1, secondary_mmu_registers
    add     x1, x1, :lo12:secondary_mmu_registers
    ldp     x2, x3, [x1]                // TTBR0_EL2, TCR_EL2
    ldp     x4, x5, [x1, #16]           // MAIR_EL2, SCTLR_EL2
    cbz     x2, 12f                     // no tables yet: Rust reports it
    msr     mair_el2, x4
    msr     tcr_el2, x3
    msr     ttbr0_el2, x2
    isb
    tlbi    alle2
    dsb     ish
    isb
    msr     sctlr_el2, x5
    isb
12: adrp    x1, __secondary_stacks
    add     x1, x1, :lo12:__secondary_stacks
    ldr     x2, ={SECONDARY_STACK_SIZE}
    madd    x1, x2, x0, x1              // CPU i (1..) uses slot i-1, whose top is base + i * size
    mov     sp, x1
    bl      enable_fp_and_vectors
    mov     x0, x19
    bl      aarch64_secondary_main      // never returns
7:  wfe
    b       7b

// Secondary CPUs released from a spin table enter here with the MMU off
// and no argument (x0 = 0): find this CPU's logical index by its MPIDR in
// spin_table_mpidrs, which the boot CPU filled and cleaned to the point of
// coherency before the release.
.global spin_table_entry
spin_table_entry:
    mrs     x1, mpidr_el1
    ldr     x2, =0xff00ffffff           // Aff3..Aff0
    and     x1, x1, x2
    adrp    x2, spin_table_mpidrs
    add     x2, x2, :lo12:spin_table_mpidrs
    mov     x0, #1                      // slot 0 is the boot CPU's
10: cmp     x0, #{MAX_CPUS}
    b.hs    11f
    ldr     x3, [x2, x0, lsl #3]
    cmp     x3, x1
    b.eq    secondary_entry             // x0 = the logical index
    add     x0, x0, #1
    b       10b
11: wfe                                 // not a CPU hv released: stay parked
    b       11b

// Let Rust use FP/SIMD at the current EL and install the EL2 vectors. At
// EL1 only FP is enabled: Rust then reports the wrong exception level.
enable_fp_and_vectors:
    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    cmp     x1, #2
    b.eq    8f
    b.hi    9f
    mov     x1, #(3 << 20)              // CPACR_EL1.FPEN = 0b11
    msr     cpacr_el1, x1
    isb
    ret
8:  mov     x1, #0x33ff                 // CPTR_EL2: RES1 bits, TFP = 0
    msr     cptr_el2, x1
    adrp    x1, el2_vectors
    add     x1, x1, :lo12:el2_vectors
    msr     vbar_el2, x1
    isb
    ret
9:  msr     cptr_el3, xzr               // EL3: TFP = 0
    isb
    ret

.section .bss.boot_stack, "aw", @nobits
.balign 16
__boot_stack:
    .space  {BOOT_STACK_SIZE}
__boot_stack_top:

.section .bss.secondary_stacks, "aw", @nobits
.balign 16
.global __secondary_stacks
__secondary_stacks:
    .space  {SECONDARY_STACKS_SIZE}
