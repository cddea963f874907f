//! Decoding a guest's ICC_SGI1R_EL1 write (trapped to EL2 with
//! HCR_EL2.IMO): which vCPUs get which SGI. hv gives vCPU n the MPIDR
//! affinity Aff0 = n (Aff1-3 = 0).

/// An SGI request: the INTID and a bit mask of target vCPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SgiRequest {
    /// SGI number, 0-15.
    pub intid: u32,
    /// Bit n set: vCPU n is a target.
    pub targets: u32,
}

/// Decode `value` written by vCPU `me` on a machine of `vcpus` vCPUs
/// (at most 16). Targets outside the machine are dropped, as on hardware.
pub fn decode(value: u64, me: usize, vcpus: usize) -> SgiRequest {
    let intid = ((value >> 24) & 0xf) as u32;
    let all = if vcpus >= 16 {
        0xffff
    } else {
        (1u32 << vcpus) - 1
    };
    let targets = if value & (1 << 40) != 0 {
        // IRM: every vCPU but the sender.
        all & !(1u32.checked_shl(me as u32).unwrap_or(0))
    } else {
        let aff1 = (value >> 16) & 0xff;
        let aff2 = (value >> 32) & 0xff;
        let aff3 = (value >> 48) & 0xff;
        if aff1 | aff2 | aff3 != 0 {
            0
        } else {
            (value & 0xffff) as u32 & all
        }
    };
    SgiRequest { intid, targets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_list_names_vcpus_by_aff0() {
        assert_eq!(
            decode((3 << 24) | 0b10, 0, 2),
            SgiRequest {
                intid: 3,
                targets: 0b10
            }
        );
        // Targets past the last vCPU are dropped.
        assert_eq!(decode((1 << 24) | 0b1110, 0, 2).targets, 0b10);
    }

    #[test]
    fn irm_means_everyone_else() {
        assert_eq!(
            decode((1 << 40) | (5 << 24), 1, 4),
            SgiRequest {
                intid: 5,
                targets: 0b1101
            }
        );
    }

    #[test]
    fn other_clusters_do_not_exist() {
        assert_eq!(decode((1 << 16) | 1, 0, 2).targets, 0);
        assert_eq!(decode((1 << 48) | 1, 0, 2).targets, 0);
    }
}
