//! Decoding a guest's ICC_SGI1R_EL1 write (trapped to EL2 with
//! HCR_EL2.IMO): which vCPUs get which SGI. hv gives vCPU n the MPIDR
//! affinity Aff0 = n (Aff1-3 = 0).

/// An SGI request: the INTID and a bit mask of target vCPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SgiRequest {
    /// SGI number, 0-15.
    pub intid: u32,
    /// Bit n set: vCPU n is a target.
    pub targets: u64,
}

impl SgiRequest {
    /// The target vCPUs, in order (one step per target: this runs on
    /// every guest SGI, and the perf gate's hv-exit/self-ipi counts it).
    pub fn vcpus(&self) -> impl Iterator<Item = usize> {
        let mut left = self.targets;
        core::iter::from_fn(move || {
            let n = left.trailing_zeros();
            (left != 0).then(|| {
                left &= left - 1;
                n as usize
            })
        })
    }
}

/// Most vCPUs a request can name (the width of [`SgiRequest::targets`]).
pub const MAX_VCPUS: usize = 64;

/// Decode `value` written by vCPU `me` on a machine of `vcpus` vCPUs
/// (at most [`MAX_VCPUS`]). The target list (bits 15:0) names Aff0 values
/// `16 * RS ..= 16 * RS + 15`, RS being the range selector (bits 47:44).
/// Targets outside the machine are dropped, as on hardware.
pub fn decode(value: u64, me: usize, vcpus: usize) -> SgiRequest {
    let intid = ((value >> 24) & 0xf) as u32;
    let all = if vcpus >= MAX_VCPUS {
        u64::MAX
    } else {
        (1u64 << vcpus) - 1
    };
    let targets = if value & (1 << 40) != 0 {
        // IRM: every vCPU but the sender.
        all & !(1u64.checked_shl(me as u32).unwrap_or(0))
    } else {
        let aff1 = (value >> 16) & 0xff;
        let aff2 = (value >> 32) & 0xff;
        let aff3 = (value >> 48) & 0xff;
        let range = ((value >> 44) & 0xf) as u32;
        if aff1 | aff2 | aff3 != 0 {
            0
        } else {
            (value & 0xffff).checked_shl(16 * range).unwrap_or(0) & all
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

    /// RS (bits 47:44) moves the 16-bit target list to Aff0 16 * RS; it
    /// used to be ignored, so RS 1 hit vCPUs 0-15.
    #[test]
    fn range_selector_picks_the_sixteen_vcpus() {
        let rs = |r: u64| r << 44;
        assert_eq!(decode(rs(1) | (2 << 24) | 0b1, 0, 32).targets, 1 << 16);
        assert_eq!(decode(rs(1) | 0x8000, 0, 32).targets, 1 << 31);
        // vCPU 16 does not exist on a 4-vCPU machine: nobody is hit.
        assert_eq!(decode(rs(1) | 0xffff, 0, 4).targets, 0);
        assert_eq!(decode(rs(3) | 0xffff, 0, 64).targets, 0xffff << 48);
        assert_eq!(decode(rs(15) | 0xffff, 0, 64).targets, 0);
        let r = decode(rs(1) | 0b101, 0, 20);
        assert_eq!(r.vcpus().collect::<alloc::vec::Vec<_>>(), [16, 18]);
    }

    #[test]
    fn other_clusters_do_not_exist() {
        assert_eq!(decode((1 << 16) | 1, 0, 2).targets, 0);
        assert_eq!(decode((1 << 48) | 1, 0, 2).targets, 0);
    }
}
