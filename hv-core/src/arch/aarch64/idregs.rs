//! What the guest sees in the feature ID registers. hv traps their reads
//! (HCR_EL2.TID3) and hides features whose state it does not save and
//! restore for the guest: SVE and SME (hv saves only the 128-bit FP/SIMD
//! registers) and MTE (no tag storage is set up).

/// The guest's value of the ID register at (CRm, op2) in op0 3, op1 0,
/// CRn 0, given the hardware value.
pub fn guest_view(crm: u8, op2: u8, hardware: u64) -> u64 {
    match (crm, op2) {
        // ID_AA64PFR0_EL1: SVE [35:32].
        (4, 0) => hardware & !(0xf << 32),
        // ID_AA64PFR1_EL1: MTE [11:8], SME [27:24], MTE_frac [43:40].
        (4, 1) => hardware & !((0xf << 8) | (0xf << 24) | (0xf << 40)),
        // ID_AA64ZFR0_EL1 (SVE features), ID_AA64SMFR0_EL1 (SME features).
        (4, 4) | (4, 5) => 0,
        _ => hardware,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sve_sme_and_mte_are_hidden() {
        let pfr0 = 0x1101_0000_1111_2222;
        assert_eq!(guest_view(4, 0, pfr0), 0x1101_0000_1111_2222 & !(0xf << 32));
        let pfr1 = (1 << 24) | (2 << 8) | 1;
        assert_eq!(guest_view(4, 1, pfr1), 1, "SME and MTE gone, BT kept");
        assert_eq!(guest_view(4, 4, u64::MAX), 0);
        assert_eq!(guest_view(4, 5, u64::MAX), 0);
    }

    #[test]
    fn other_registers_pass_through() {
        assert_eq!(guest_view(6, 0, 0x1234), 0x1234, "ID_AA64ISAR0_EL1");
        assert_eq!(guest_view(7, 0, 0x5), 0x5, "ID_AA64MMFR0_EL1");
    }
}
