//! A guest vCPU on this physical CPU: its saved registers, the EL2 set-up a
//! guest needs, entering it, and injecting exceptions into it.

use core::arch::asm;
use core::mem::offset_of;

/// The guest state hv saves on every exit. EL1 system registers and the
/// FP/SIMD registers are not in here: hv never uses EL1 and never touches
/// FP/SIMD (it is built for the soft-float target), so they stay in the CPU
/// while hv handles an exit (one vCPU per physical CPU).
#[repr(C, align(16))]
#[derive(Debug)]
pub struct VcpuRegs {
    /// x0..x30.
    pub x: [u64; 31],
    pad: u64,
    /// Where the guest resumes (ELR_EL2).
    pub pc: u64,
    /// Guest PSTATE (SPSR_EL2).
    pub pstate: u64,
}

core::arch::global_asm!(
    include_str!("vcpu.s"),
    PC = const offset_of!(VcpuRegs, pc),
    PSTATE = const offset_of!(VcpuRegs, pstate),
);

// vcpu.s hard-codes the general registers at offset 0.
const _: () = assert!(offset_of!(VcpuRegs, x) == 0);

extern "C" {
    fn run_vcpu(regs: *mut VcpuRegs) -> u64;
}

/// PSTATE for EL1h with all of DAIF masked: how a guest is entered (Linux
/// boot protocol) and how it takes an exception.
pub const PSTATE_EL1H_MASKED: u64 = 0x3c5;

impl VcpuRegs {
    /// A vCPU about to enter at `entry` with x0 = `x0` (the DTB for the boot
    /// CPU, the PSCI context for others), EL1h, interrupts masked.
    pub fn new(entry: u64, x0: u64) -> Self {
        let mut x = [0; 31];
        x[0] = x0;
        VcpuRegs {
            x,
            pad: 0,
            pc: entry,
            pstate: PSTATE_EL1H_MASKED,
        }
    }

    /// Value of register `n` as an instruction reads it (31 is XZR).
    pub fn get(&self, n: u8) -> u64 {
        self.x.get(usize::from(n)).copied().unwrap_or(0)
    }

    /// Set register `n` (31, XZR, discards the value).
    pub fn set(&mut self, n: u8, value: u64) {
        if let Some(r) = self.x.get_mut(usize::from(n)) {
            *r = value;
        }
    }

    /// Run the guest until its next exit; returns the EL2 vector number
    /// (8 synchronous, 9 IRQ, 10 FIQ, 11 SError).
    pub fn run(&mut self) -> u64 {
        // SAFETY: `configure_el2` has set up stage 2 so the guest can only
        // reach its own memory; run_vcpu saves and restores every register
        // the AAPCS64 makes callee-saved and returns on the guest's next
        // exception, leaving the guest state in `self`.
        unsafe { run_vcpu(self) }
    }
}

/// HCR_EL2 for a guest: stage 2 on (VM), set/way invalidation upgraded
/// (SWIO), physical IRQ/FIQ/SError to EL2 (IMO/FMO/AMO), WFI trapped (TWI),
/// feature ID registers trapped (TID3: hv hides what it does not
/// virtualize), SMC trapped (TSC), auxiliary control registers trapped
/// (TACR, so a guest touching them gets an undefined instruction from hv),
/// EL1 is AArch64 (RW).
const HCR_EL2_GUEST: u64 = (1 << 0)
    | (1 << 1)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 13)
    | (1 << 18)
    | (1 << 19)
    | (1 << 21)
    | (1 << 31);
/// SCTLR_EL1 reset-like value: RES1 bits, MMU and caches off.
const SCTLR_EL1_RESET: u64 = 0x30d0_0800;
/// CNTHCTL_EL2: EL1 may use the physical counter and timer (EL1PCTEN, EL1PCEN).
const CNTHCTL_EL2_GUEST: u64 = 0b11;

/// Physical address size of this CPU in bits (ID_AA64MMFR0_EL1.PARange).
pub fn pa_bits() -> u32 {
    let mmfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {}, id_aa64mmfr0_el1", out(reg) mmfr0, options(nomem, nostack)) };
    match mmfr0 & 0xf {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        _ => 48,
    }
}

/// HCR_EL2 bits for features the guest may use directly when the CPU has
/// them: pointer authentication keys and instructions (APK, API).
fn hcr_feature_bits() -> u64 {
    let (isar1, isar2): (u64, u64);
    // SAFETY: ID register reads have no side effects.
    unsafe {
        asm!("mrs {}, id_aa64isar1_el1", out(reg) isar1, options(nomem, nostack));
        asm!("mrs {}, S3_0_C0_C6_2", out(reg) isar2, options(nomem, nostack)); // ID_AA64ISAR2_EL1
    }
    // APA, API, GPA, GPI (ISAR1) or APA3, GPA3 (ISAR2): any PAuth at all.
    let pauth = isar1 & 0xff00_0ff0 != 0 || isar2 & 0xff00 != 0;
    if pauth {
        (1 << 40) | (1 << 41)
    } else {
        0
    }
}

/// Point this CPU's EL2 at a guest: stage-2 tables (VTTBR/VTCR), traps, the
/// guest's view of MIDR/MPIDR, timer access and sane EL1 defaults. SVE and
/// SME stay trapped (boot.s leaves CPTR_EL2.TZ/TSM set) and hidden from the
/// guest's ID registers, since hv saves only the FP/SIMD registers.
///
/// # Safety
/// `vttbr` must name complete stage-2 tables that map only memory the guest
/// may own, with `vtcr` describing them; no guest may be running on this
/// CPU. Once this returns, EL1 and EL0 on this CPU belong to that guest.
pub unsafe fn configure_el2(vttbr: u64, vtcr: u64, vmpidr: u64) {
    let hcr = HCR_EL2_GUEST | hcr_feature_bits();
    let midr: u64;
    // SAFETY: reads an ID register, then writes EL2/EL1 configuration
    // registers while no guest runs on this CPU (the caller's promise); the
    // stage-2 tables named by `vttbr` are complete, and the TLB is
    // invalidated for the new VMID before the guest can use it.
    unsafe {
        asm!("mrs {}, midr_el1", out(reg) midr, options(nomem, nostack));
        asm!(
            "msr vtcr_el2, {vtcr}",
            "msr vttbr_el2, {vttbr}",
            "msr vpidr_el2, {midr}",
            "msr vmpidr_el2, {vmpidr}",
            "msr cnthctl_el2, {cnthctl}",
            "msr cntvoff_el2, xzr",
            "msr sctlr_el1, {sctlr}",
            "msr cpacr_el1, xzr",
            "msr hcr_el2, {hcr}",
            "isb",
            "dsb ishst",
            "tlbi vmalls12e1is",
            "dsb ish",
            "isb",
            vtcr = in(reg) vtcr,
            vttbr = in(reg) vttbr,
            midr = in(reg) midr,
            vmpidr = in(reg) vmpidr,
            cnthctl = in(reg) CNTHCTL_EL2_GUEST,
            sctlr = in(reg) SCTLR_EL1_RESET,
            hcr = in(reg) hcr,
            options(nostack),
        );
    }
}

/// ESR_EL1 values hv injects.
pub mod inject {
    /// Unknown reason: an undefined instruction, 32-bit (IL).
    pub const UNDEFINED: u64 = 1 << 25;
    /// A data abort at the same EL, 32-bit instruction, DFSC = synchronous
    /// external abort (what a bus error outside RAM looks like).
    pub const DATA_ABORT_SAME_EL: u64 = (0x25 << 26) | (1 << 25) | 0x10;
    /// The same from EL0.
    pub const DATA_ABORT_LOWER_EL: u64 = (0x24 << 26) | (1 << 25) | 0x10;
    /// An instruction abort (external abort) at the same EL.
    pub const INSTRUCTION_ABORT_SAME_EL: u64 = (0x21 << 26) | (1 << 25) | 0x10;
    /// The same from EL0.
    pub const INSTRUCTION_ABORT_LOWER_EL: u64 = (0x20 << 26) | (1 << 25) | 0x10;
}

/// Whether the guest was at EL0 when it exited.
pub fn from_el0(regs: &VcpuRegs) -> bool {
    regs.pstate & 0b1100 == 0
}

/// Make the guest take a synchronous exception to its EL1 vectors, as the
/// hardware would: ESR/FAR/ELR/SPSR_EL1 set, PC at the right vector,
/// EL1h with DAIF masked.
pub fn inject_sync(regs: &mut VcpuRegs, esr: u64, far: u64) {
    let vbar: u64;
    // SAFETY: EL1 system registers of the guest on this CPU; hv does not use
    // them itself. Written before the guest is resumed.
    unsafe {
        asm!("mrs {}, vbar_el1", out(reg) vbar, options(nomem, nostack));
        asm!(
            "msr esr_el1, {esr}",
            "msr far_el1, {far}",
            "msr elr_el1, {elr}",
            "msr spsr_el1, {spsr}",
            esr = in(reg) esr,
            far = in(reg) far,
            elr = in(reg) regs.pc,
            spsr = in(reg) regs.pstate,
            options(nomem, nostack),
        );
    }
    let offset = match regs.pstate & 0b1111 {
        0b0100 => 0x000, // EL1t: current EL with SP_EL0
        0b0101 => 0x200, // EL1h: current EL with SP_EL1
        _ => 0x400,      // EL0: lower EL, AArch64
    };
    regs.pc = (vbar & !0x7ff) + offset;
    regs.pstate = PSTATE_EL1H_MASKED;
}
