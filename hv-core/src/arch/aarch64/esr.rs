//! Decoding ESR_EL2 for guest exits: what the guest did, in terms the common
//! code (MMIO bus, PSCI) understands.

use crate::addr::GuestAddress;
use crate::mmio::AccessWidth;
use core::fmt;

/// ESR_EL2.EC values hv handles.
pub mod ec {
    /// Unknown reason.
    pub const UNKNOWN: u64 = 0x00;
    /// Trapped WFI or WFE.
    pub const WFX: u64 = 0x01;
    /// HVC from AArch64.
    pub const HVC64: u64 = 0x16;
    /// SMC from AArch64.
    pub const SMC64: u64 = 0x17;
    /// Trapped MSR/MRS/system instruction.
    pub const SYSREG: u64 = 0x18;
    /// Instruction abort from a lower EL.
    pub const IABT_LOWER: u64 = 0x20;
    /// Data abort from a lower EL.
    pub const DABT_LOWER: u64 = 0x24;
}

/// A guest load or store that stage 2 stopped, with everything needed to
/// emulate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataAccess {
    /// Guest-physical address of the access.
    pub ipa: GuestAddress,
    /// Access size.
    pub width: AccessWidth,
    /// Store (true) or load.
    pub write: bool,
    /// Transfer register number; 31 means XZR/WZR.
    pub reg: u8,
    /// Load sign-extends (SSE).
    pub sign_extend: bool,
    /// Load writes a 64-bit register (SF); otherwise the upper half is zeroed.
    pub sixty_four: bool,
}

impl DataAccess {
    /// The register value a load leaves, given the `raw` bytes read
    /// (zero-extended): sign extension per SSE, truncation per SF.
    pub fn load_result(&self, raw: u64) -> u64 {
        let bits = self.width.bytes() * 8;
        let mut v = raw & self.width.mask();
        if self.sign_extend && bits < 64 {
            let shift = 64 - bits;
            v = (((v << shift) as i64) >> shift) as u64;
        }
        if !self.sixty_four {
            v &= 0xffff_ffff;
        }
        v
    }
}

/// Why a guest exit cannot be emulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitError {
    /// A data abort without a valid instruction syndrome (ISV = 0): e.g. a
    /// load pair or a writeback addressing mode on MMIO. The guest gets an
    /// abort.
    NoSyndrome,
    /// A data abort on a stage-1 page-table walk (S1PTW): the guest's page
    /// tables point outside its RAM.
    PageTableWalk,
}

impl fmt::Display for ExitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitError::NoSyndrome => write!(f, "MMIO access without instruction syndrome"),
            ExitError::PageTableWalk => write!(f, "stage-1 table walk outside guest RAM"),
        }
    }
}

/// A guest exit, classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// A load/store to an address stage 2 does not map as RAM.
    DataAbort(DataAccess),
    /// A data abort hv cannot emulate.
    BadDataAbort {
        /// What was wrong with it.
        error: ExitError,
        /// The faulting IPA.
        ipa: GuestAddress,
    },
    /// Instruction fetch from an address stage 2 does not map.
    InstructionAbort {
        /// The faulting IPA.
        ipa: GuestAddress,
    },
    /// HVC with its immediate.
    Hvc(u16),
    /// SMC with its immediate (trapped by HCR_EL2.TSC).
    Smc(u16),
    /// WFI (false) or WFE (true).
    Wfx {
        /// WFE rather than WFI.
        wfe: bool,
    },
    /// A trapped system-register access.
    SysReg(SysRegAccess),
    /// Anything else: EC and ISS.
    Other {
        /// Exception class.
        ec: u8,
        /// Syndrome.
        iss: u32,
    },
}

/// An MRS/MSR trapped to EL2 (ESR EC 0x18).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysRegAccess {
    /// op0 (2 or 3).
    pub op0: u8,
    /// op1.
    pub op1: u8,
    /// CRn.
    pub crn: u8,
    /// CRm.
    pub crm: u8,
    /// op2.
    pub op2: u8,
    /// The general register (31 = XZR).
    pub rt: u8,
    /// MRS (true) or MSR.
    pub read: bool,
}

impl SysRegAccess {
    /// Decode the ISS of an EC 0x18 syndrome.
    pub fn decode(iss: u32) -> Self {
        SysRegAccess {
            op0: ((iss >> 20) & 3) as u8,
            op2: ((iss >> 17) & 7) as u8,
            op1: ((iss >> 14) & 7) as u8,
            crn: ((iss >> 10) & 0xf) as u8,
            rt: ((iss >> 5) & 0x1f) as u8,
            crm: ((iss >> 1) & 0xf) as u8,
            read: iss & 1 != 0,
        }
    }

    /// A read of a feature ID register (op0 3, op1 0, CRn 0, CRm 1-7):
    /// the group HCR_EL2.TID3 traps. Returns (CRm, op2).
    pub fn id_register(&self) -> Option<(u8, u8)> {
        (self.read
            && self.op0 == 3
            && self.op1 == 0
            && self.crn == 0
            && (1..=7).contains(&self.crm))
        .then_some((self.crm, self.op2))
    }
}

/// Faulting IPA from HPFAR_EL2 (page) and FAR_EL2 (offset within the page).
pub fn fault_ipa(hpfar: u64, far: u64) -> GuestAddress {
    // HPFAR_EL2.FIPA, bits [47:4], holds IPA bits [55:12].
    let page = ((hpfar >> 4) & ((1 << 44) - 1)) << 12;
    GuestAddress(page | (far & 0xfff))
}

/// Classify an exit from its ESR_EL2 and fault address registers.
pub fn decode(esr: u64, hpfar: u64, far: u64) -> Exit {
    let class = (esr >> 26) & 0x3f;
    let iss = (esr & 0x1ff_ffff) as u32;
    match class {
        ec::DABT_LOWER => {
            let ipa = fault_ipa(hpfar, far);
            if iss & (1 << 7) != 0 {
                return Exit::BadDataAbort {
                    error: ExitError::PageTableWalk,
                    ipa,
                };
            }
            if iss & (1 << 24) == 0 {
                return Exit::BadDataAbort {
                    error: ExitError::NoSyndrome,
                    ipa,
                };
            }
            let width = match (iss >> 22) & 3 {
                0 => AccessWidth::Byte,
                1 => AccessWidth::Half,
                2 => AccessWidth::Word,
                _ => AccessWidth::Double,
            };
            Exit::DataAbort(DataAccess {
                ipa,
                width,
                write: iss & (1 << 6) != 0,
                reg: ((iss >> 16) & 0x1f) as u8,
                sign_extend: iss & (1 << 21) != 0,
                sixty_four: iss & (1 << 15) != 0,
            })
        }
        ec::IABT_LOWER => Exit::InstructionAbort {
            ipa: fault_ipa(hpfar, far),
        },
        ec::HVC64 => Exit::Hvc(iss as u16),
        ec::SMC64 => Exit::Smc(iss as u16),
        ec::WFX => Exit::Wfx { wfe: iss & 1 != 0 },
        ec::SYSREG => Exit::SysReg(SysRegAccess::decode(iss)),
        _ => Exit::Other {
            ec: class as u8,
            iss,
        },
    }
}

/// Whether the trapped instruction was 32 bits long (ESR.IL), i.e. how far
/// to advance ELR_EL2 past it.
pub fn instruction_length(esr: u64) -> u64 {
    if esr & (1 << 25) != 0 {
        4
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ESR for a data abort from a lower EL with the given ISS fields.
    fn dabt(isv: bool, sas: u64, sse: bool, srt: u64, sf: bool, wnr: bool) -> u64 {
        (ec::DABT_LOWER << 26)
            | (1 << 25)
            | (u64::from(isv) << 24)
            | (sas << 22)
            | (u64::from(sse) << 21)
            | (srt << 16)
            | (u64::from(sf) << 15)
            | (u64::from(wnr) << 6)
    }

    #[test]
    fn decodes_a_32_bit_store() {
        // str w3, [x0] to IPA 0x0900_0000.
        let exit = decode(
            dabt(true, 2, false, 3, false, true),
            0x0090_0000 >> 8 << 4,
            0x0900_0000,
        );
        assert_eq!(
            exit,
            Exit::DataAbort(DataAccess {
                ipa: GuestAddress(0x0900_0000),
                width: AccessWidth::Word,
                write: true,
                reg: 3,
                sign_extend: false,
                sixty_four: false,
            })
        );
    }

    #[test]
    fn ipa_combines_hpfar_page_and_far_offset() {
        let hpfar = (0x0a00_3e00u64 >> 12) << 4;
        assert_eq!(
            fault_ipa(hpfar, 0xffff_0000_0000_0e70),
            GuestAddress(0x0a00_3e70)
        );
    }

    #[test]
    fn loads_sign_extend_and_truncate_per_sse_and_sf() {
        let ldrsb_x = DataAccess {
            ipa: GuestAddress(0),
            width: AccessWidth::Byte,
            write: false,
            reg: 1,
            sign_extend: true,
            sixty_four: true,
        };
        assert_eq!(ldrsb_x.load_result(0x80), 0xffff_ffff_ffff_ff80);
        assert_eq!(ldrsb_x.load_result(0x7f), 0x7f);
        let ldrsh_w = DataAccess {
            width: AccessWidth::Half,
            sixty_four: false,
            ..ldrsb_x
        };
        assert_eq!(ldrsh_w.load_result(0x8000), 0xffff_8000);
        let ldr_w = DataAccess {
            width: AccessWidth::Word,
            sign_extend: false,
            sixty_four: false,
            ..ldrsb_x
        };
        assert_eq!(ldr_w.load_result(0xdead_beef_1234_5678), 0x1234_5678);
        let ldr_x = DataAccess {
            width: AccessWidth::Double,
            sixty_four: true,
            ..ldr_w
        };
        assert_eq!(ldr_x.load_result(u64::MAX), u64::MAX);
    }

    #[test]
    fn abort_without_syndrome_is_not_emulated() {
        let exit = decode(
            dabt(false, 0, false, 0, false, false),
            0x4000_0000 >> 8,
            0x4000_0000,
        );
        assert!(matches!(
            exit,
            Exit::BadDataAbort {
                error: ExitError::NoSyndrome,
                ..
            }
        ));
    }

    #[test]
    fn table_walk_aborts_are_reported() {
        let esr = dabt(true, 3, false, 0, true, false) | (1 << 7);
        assert!(matches!(
            decode(esr, 0, 0),
            Exit::BadDataAbort {
                error: ExitError::PageTableWalk,
                ..
            }
        ));
    }

    #[test]
    fn sysreg_traps_name_the_register() {
        // mrs x3, id_aa64pfr0_el1: op0 3, op1 0, CRn 0, CRm 4, op2 0.
        let iss: u32 = (3 << 20) | (3 << 5) | (4 << 1) | 1;
        let exit = decode((ec::SYSREG << 26) | u64::from(iss), 0, 0);
        let Exit::SysReg(access) = exit else {
            panic!("not a sysreg exit: {exit:?}")
        };
        assert_eq!(access.rt, 3);
        assert_eq!(access.id_register(), Some((4, 0)));
        // msr actlr_el1 (op0 3, op1 0, CRn 1, CRm 0, op2 1): not an ID register.
        let actlr = SysRegAccess::decode((3 << 20) | (1 << 17) | (1 << 10));
        assert!(!actlr.read);
        assert_eq!(actlr.id_register(), None);
        // A write to an ID register encoding is not an ID read either.
        assert_eq!(SysRegAccess::decode(iss & !1).id_register(), None);
    }

    #[test]
    fn hvc_smc_wfx_and_others() {
        assert_eq!(decode((ec::HVC64 << 26) | 0x1234, 0, 0), Exit::Hvc(0x1234));
        assert_eq!(decode((ec::SMC64 << 26) | 7, 0, 0), Exit::Smc(7));
        assert_eq!(decode((ec::WFX << 26) | 1, 0, 0), Exit::Wfx { wfe: true });
        assert_eq!(decode(ec::WFX << 26, 0, 0), Exit::Wfx { wfe: false });
        assert_eq!(
            decode(0x3c << 26 | 5, 0, 0),
            Exit::Other { ec: 0x3c, iss: 5 }
        );
        assert_eq!(instruction_length(1 << 25), 4);
        assert_eq!(instruction_length(0), 2);
    }
}
