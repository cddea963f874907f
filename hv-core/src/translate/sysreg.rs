//! The system registers of the EL0/EL1 programmer's model that MRS/MSR
//! reach, and their plain storage.
//!
//! Registers whose value is part of PSTATE (NZCV, DAIF, CurrentEL, SPSel) or
//! of the CPU's other state (SP_EL0, the counter) are served by the
//! interpreter; the rest live in [`SysRegs`]. TCR/TTBR/MAIR and friends are
//! plain storage here: a soft MMU behind [`super::CpuBus`] reads them through
//! the CPU.

use core::fmt;

/// A system register encoding `op0:op1:CRn:CRm:op2`, packed as bits 20:5 of
/// the MRS/MSR instruction (`op0 << 14 | op1 << 11 | CRn << 7 | CRm << 3 |
/// op2`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SysRegEnc(pub u16);

impl SysRegEnc {
    /// The encoding of `S<op0>_<op1>_C<crn>_C<crm>_<op2>`.
    pub const fn new(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> Self {
        SysRegEnc(
            ((op0 as u16 & 3) << 14)
                | ((op1 as u16 & 7) << 11)
                | ((crn as u16 & 15) << 7)
                | ((crm as u16 & 15) << 3)
                | (op2 as u16 & 7),
        )
    }
    /// op0 field.
    pub const fn op0(self) -> u8 {
        (self.0 >> 14) as u8 & 3
    }
    /// op1 field.
    pub const fn op1(self) -> u8 {
        (self.0 >> 11) as u8 & 7
    }
    /// CRn field.
    pub const fn crn(self) -> u8 {
        (self.0 >> 7) as u8 & 15
    }
    /// CRm field.
    pub const fn crm(self) -> u8 {
        (self.0 >> 3) as u8 & 15
    }
    /// op2 field.
    pub const fn op2(self) -> u8 {
        self.0 as u8 & 7
    }
}

impl fmt::Debug for SysRegEnc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "S{}_{}_C{}_C{}_{}",
            self.op0(),
            self.op1(),
            self.crn(),
            self.crm(),
            self.op2()
        )
    }
}

macro_rules! regs {
    ($($name:ident = ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr);)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`.")]
            pub const $name: SysRegEnc = SysRegEnc::new($a, $b, $c, $d, $e);
        )*
    };
}

regs! {
    MIDR_EL1 = (3, 0, 0, 0, 0);
    MPIDR_EL1 = (3, 0, 0, 0, 5);
    REVIDR_EL1 = (3, 0, 0, 0, 6);
    ID_AA64PFR0_EL1 = (3, 0, 0, 4, 0);
    ID_AA64ISAR0_EL1 = (3, 0, 0, 6, 0);
    ID_AA64MMFR0_EL1 = (3, 0, 0, 7, 0);
    SCTLR_EL1 = (3, 0, 1, 0, 0);
    ACTLR_EL1 = (3, 0, 1, 0, 1);
    CPACR_EL1 = (3, 0, 1, 0, 2);
    TTBR0_EL1 = (3, 0, 2, 0, 0);
    TTBR1_EL1 = (3, 0, 2, 0, 1);
    TCR_EL1 = (3, 0, 2, 0, 2);
    SPSR_EL1 = (3, 0, 4, 0, 0);
    ELR_EL1 = (3, 0, 4, 0, 1);
    SP_EL0 = (3, 0, 4, 1, 0);
    SPSEL = (3, 0, 4, 2, 0);
    CURRENT_EL = (3, 0, 4, 2, 2);
    ICC_PMR_EL1 = (3, 0, 4, 6, 0);
    AFSR0_EL1 = (3, 0, 5, 1, 0);
    AFSR1_EL1 = (3, 0, 5, 1, 1);
    ESR_EL1 = (3, 0, 5, 2, 0);
    FAR_EL1 = (3, 0, 6, 0, 0);
    PAR_EL1 = (3, 0, 7, 4, 0);
    MAIR_EL1 = (3, 0, 10, 2, 0);
    AMAIR_EL1 = (3, 0, 10, 3, 0);
    VBAR_EL1 = (3, 0, 12, 0, 0);
    CONTEXTIDR_EL1 = (3, 0, 13, 0, 1);
    TPIDR_EL1 = (3, 0, 13, 0, 4);
    CNTKCTL_EL1 = (3, 0, 14, 1, 0);
    CSSELR_EL1 = (3, 2, 0, 0, 0);
    CCSIDR_EL1 = (3, 1, 0, 0, 0);
    CLIDR_EL1 = (3, 1, 0, 0, 1);
    CTR_EL0 = (3, 3, 0, 0, 1);
    DCZID_EL0 = (3, 3, 0, 0, 7);
    NZCV = (3, 3, 4, 2, 0);
    DAIF = (3, 3, 4, 2, 1);
    FPCR = (3, 3, 4, 4, 0);
    FPSR = (3, 3, 4, 4, 1);
    TPIDR_EL0 = (3, 3, 13, 0, 2);
    TPIDRRO_EL0 = (3, 3, 13, 0, 3);
    CNTFRQ_EL0 = (3, 3, 14, 0, 0);
    CNTPCT_EL0 = (3, 3, 14, 0, 1);
    CNTVCT_EL0 = (3, 3, 14, 0, 2);
    CNTP_TVAL_EL0 = (3, 3, 14, 2, 0);
    CNTP_CTL_EL0 = (3, 3, 14, 2, 1);
    CNTP_CVAL_EL0 = (3, 3, 14, 2, 2);
    CNTV_TVAL_EL0 = (3, 3, 14, 3, 0);
    CNTV_CTL_EL0 = (3, 3, 14, 3, 1);
    CNTV_CVAL_EL0 = (3, 3, 14, 3, 2);
    SP_EL1 = (3, 4, 4, 1, 0);
    MDSCR_EL1 = (2, 0, 0, 2, 2);
    OSLAR_EL1 = (2, 0, 1, 0, 4);
    OSLSR_EL1 = (2, 0, 1, 1, 4);
    OSDLR_EL1 = (2, 0, 1, 3, 4);
}

/// `SCTLR_EL1.M`: stage-1 MMU enable.
pub const SCTLR_M: u64 = 1 << 0;
/// `SCTLR_EL1.A`: alignment check enable.
pub const SCTLR_A: u64 = 1 << 1;
/// `SCTLR_EL1.UMA`: EL0 may access DAIF.
pub const SCTLR_UMA: u64 = 1 << 9;
/// `SCTLR_EL1.DZE`: EL0 may use DC ZVA.
pub const SCTLR_DZE: u64 = 1 << 14;
/// `SCTLR_EL1.UCT`: EL0 may read CTR_EL0.
pub const SCTLR_UCT: u64 = 1 << 15;
/// `SCTLR_EL1.nTWI`: WFI at EL0 is not trapped.
pub const SCTLR_NTWI: u64 = 1 << 16;
/// `SCTLR_EL1.nTWE`: WFE at EL0 is not trapped.
pub const SCTLR_NTWE: u64 = 1 << 18;
/// `SCTLR_EL1.UCI`: EL0 may use DC CVAU/CVAC/CIVAC and IC IVAU.
pub const SCTLR_UCI: u64 = 1 << 26;
/// `SCTLR_EL1` RES1 bits of ARMv8.0 (29, 28, 23, 22, 20, 11).
pub const SCTLR_RES1: u64 = (1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11);

/// Plain-storage EL1/EL0 system registers. Identification registers are
/// set from [`super::CpuConfig`] at construction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)] // field names are the architectural register names
pub struct SysRegs {
    pub midr: u64,
    pub mpidr: u64,
    pub sctlr: u64,
    pub actlr: u64,
    pub cpacr: u64,
    pub ttbr0: u64,
    pub ttbr1: u64,
    pub tcr: u64,
    pub spsr: u64,
    pub elr: u64,
    pub afsr0: u64,
    pub afsr1: u64,
    pub esr: u64,
    pub far: u64,
    pub par: u64,
    pub mair: u64,
    pub amair: u64,
    pub vbar: u64,
    pub contextidr: u64,
    pub tpidr_el1: u64,
    pub tpidr_el0: u64,
    pub tpidrro_el0: u64,
    pub cntkctl: u64,
    pub csselr: u64,
    pub cntfrq: u64,
    pub cntp_ctl: u64,
    pub cntp_cval: u64,
    pub cntv_ctl: u64,
    pub cntv_cval: u64,
    pub mdscr: u64,
    pub oslsr: u64,
    pub osdlr: u64,
    pub fpcr: u64,
    pub fpsr: u64,
}

impl SysRegs {
    /// The storage behind `reg`, for registers that are plain storage with
    /// no side effect, with the mask of bits a write may change.
    pub fn storage_mut(&mut self, reg: SysRegEnc) -> Option<(&mut u64, u64)> {
        const ALL: u64 = u64::MAX;
        Some(match reg {
            SCTLR_EL1 => (&mut self.sctlr, ALL),
            ACTLR_EL1 => (&mut self.actlr, ALL),
            CPACR_EL1 => (&mut self.cpacr, 3 << 20),
            TTBR0_EL1 => (&mut self.ttbr0, ALL),
            TTBR1_EL1 => (&mut self.ttbr1, ALL),
            TCR_EL1 => (&mut self.tcr, ALL),
            SPSR_EL1 => (&mut self.spsr, 0xffff_ffff),
            ELR_EL1 => (&mut self.elr, ALL),
            AFSR0_EL1 => (&mut self.afsr0, ALL),
            AFSR1_EL1 => (&mut self.afsr1, ALL),
            ESR_EL1 => (&mut self.esr, 0xffff_ffff),
            FAR_EL1 => (&mut self.far, ALL),
            PAR_EL1 => (&mut self.par, ALL),
            MAIR_EL1 => (&mut self.mair, ALL),
            AMAIR_EL1 => (&mut self.amair, ALL),
            VBAR_EL1 => (&mut self.vbar, !0x7ff),
            CONTEXTIDR_EL1 => (&mut self.contextidr, 0xffff_ffff),
            TPIDR_EL1 => (&mut self.tpidr_el1, ALL),
            TPIDR_EL0 => (&mut self.tpidr_el0, ALL),
            TPIDRRO_EL0 => (&mut self.tpidrro_el0, ALL),
            CNTKCTL_EL1 => (&mut self.cntkctl, 0x3ff),
            CSSELR_EL1 => (&mut self.csselr, 0xf),
            CNTFRQ_EL0 => (&mut self.cntfrq, 0xffff_ffff),
            CNTP_CTL_EL0 => (&mut self.cntp_ctl, 3),
            CNTP_CVAL_EL0 => (&mut self.cntp_cval, ALL),
            CNTV_CTL_EL0 => (&mut self.cntv_ctl, 3),
            CNTV_CVAL_EL0 => (&mut self.cntv_cval, ALL),
            MDSCR_EL1 => (&mut self.mdscr, ALL),
            OSDLR_EL1 => (&mut self.osdlr, 1),
            FPCR => (&mut self.fpcr, 0x07ff_9f00),
            FPSR => (&mut self.fpsr, 0xf800_009f),
            _ => return None,
        })
    }

    /// Whether an EL0 access to `reg` (one of [`SysRegs::el0_readable`]) is
    /// enabled by SCTLR_EL1 (UMA, UCT) and CNTKCTL_EL1 (EL0PCTEN,
    /// EL0VCTEN, EL0VTEN, EL0PTEN); a disabled access traps to EL1.
    pub fn el0_enabled(&self, reg: SysRegEnc) -> bool {
        match reg {
            DAIF => self.sctlr & SCTLR_UMA != 0,
            CTR_EL0 => self.sctlr & SCTLR_UCT != 0,
            CNTPCT_EL0 => self.cntkctl & 1 != 0,
            CNTVCT_EL0 => self.cntkctl & 2 != 0,
            CNTFRQ_EL0 => self.cntkctl & 3 != 0,
            CNTV_TVAL_EL0 | CNTV_CTL_EL0 | CNTV_CVAL_EL0 => self.cntkctl & (1 << 8) != 0,
            CNTP_TVAL_EL0 | CNTP_CTL_EL0 | CNTP_CVAL_EL0 => self.cntkctl & (1 << 9) != 0,
            _ => true,
        }
    }

    /// Whether `reg` exists at EL0 at all (the registers in `op1 == 3`);
    /// others are undefined there.
    pub fn el0_readable(reg: SysRegEnc) -> bool {
        reg.op0() == 3 && reg.op1() == 3
    }

    /// Whether `reg` may be written at EL0.
    pub fn el0_writable(reg: SysRegEnc) -> bool {
        Self::el0_readable(reg)
            && !matches!(
                reg,
                TPIDRRO_EL0 | CTR_EL0 | DCZID_EL0 | CNTFRQ_EL0 | CNTPCT_EL0 | CNTVCT_EL0
            )
    }

    /// Whether `reg` is read-only at every EL.
    pub fn read_only(reg: SysRegEnc) -> bool {
        matches!(
            reg,
            MIDR_EL1
                | MPIDR_EL1
                | REVIDR_EL1
                | CURRENT_EL
                | CTR_EL0
                | DCZID_EL0
                | CLIDR_EL1
                | CCSIDR_EL1
                | CNTPCT_EL0
                | CNTVCT_EL0
                | OSLSR_EL1
        ) || is_id_space(reg)
    }
}

/// Whether `reg` is in the ID register space (`op0=3, op1=0, CRn=0,
/// CRm=1..7`), where unallocated encodings read as zero.
pub fn is_id_space(reg: SysRegEnc) -> bool {
    reg.op0() == 3 && reg.op1() == 0 && reg.crn() == 0 && (1..=7).contains(&reg.crm())
}
