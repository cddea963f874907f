//! Choosing where in the host's memory a guest's RAM goes: the highest RAM
//! bank that has room, clear of everything the host must keep (hv's own
//! image, the boot DTB, the guest bundle, and what firmware reserved).

use alloc::vec::Vec;

/// The highest `align`-aligned start of `size` bytes inside one of `banks`
/// (base, size) that overlaps none of `busy` [start, end), preferring the
/// top of the highest bank; None if nothing fits. Banks and ranges come
/// from firmware: sums that overflow count as not fitting, and empty or
/// inverted busy ranges block nothing.
pub fn place_guest_ram(
    banks: &[(u64, u64)],
    busy: &[(u64, u64)],
    size: u64,
    align: u64,
) -> Option<u64> {
    if size == 0 || !align.is_power_of_two() {
        return None;
    }
    let mut banks: Vec<(u64, u64)> = banks.to_vec();
    banks.sort_unstable();
    banks.iter().rev().find_map(|&(base, len)| {
        let bank_end = base.checked_add(len)?;
        // Try below each busy range's start inside the bank, highest first,
        // as well as the bank's top.
        let mut tops: Vec<u64> = busy
            .iter()
            .map(|&(start, _)| start)
            .filter(|&s| s > base && s < bank_end)
            .collect();
        tops.push(bank_end);
        tops.sort_unstable_by(|a, b| b.cmp(a));
        tops.into_iter().find_map(|top| {
            let start = (top & !(align - 1)).checked_sub(size)?;
            let start = start & !(align - 1);
            let end = start + size;
            let clear = busy.iter().all(|&(b, e)| e <= b || e <= start || b >= end);
            (start >= base && end <= bank_end && clear).then_some(start)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::place_guest_ram;
    use alloc::vec::Vec;

    const MIB: u64 = 1 << 20;

    #[test]
    fn the_top_of_the_highest_bank() {
        let banks = [(0, 512 * MIB), (0x8000_0000, 256 * MIB)];
        assert_eq!(
            place_guest_ram(&banks, &[], 128 * MIB, 2 * MIB),
            Some(0x8000_0000 + 128 * MIB)
        );
    }

    #[test]
    fn below_a_reserved_range_at_the_top() {
        // The Pi's firmware keeps memory at the top of its first GiB.
        let banks = [(0, 0x3c00_0000)];
        let busy = [(0x3b40_0000, 0x3c00_0000)];
        let at = place_guest_ram(&banks, &busy, 128 * MIB, 2 * MIB).unwrap();
        assert_eq!(at, 0x3b40_0000 - 128 * MIB);
        assert!(at + 128 * MIB <= 0x3b40_0000);
    }

    #[test]
    fn never_overlaps_anything_busy() {
        let banks = [(0x4000_0000, 512 * MIB)];
        // hv's image low, the bundle and a memreserve entry high up.
        let busy = [
            (0x4020_0000, 0x404d_8000),
            (0x5f00_0000, 0x5f80_0000),
            (0x5e00_0000, 0x5e00_1000),
        ];
        let at = place_guest_ram(&banks, &busy, 64 * MIB, 2 * MIB).unwrap();
        assert_eq!(at % (2 * MIB), 0);
        for &(b, e) in &busy {
            assert!(
                e <= at || b >= at + 64 * MIB,
                "{at:#x} overlaps {b:#x}..{e:#x}"
            );
        }
        assert_eq!(at, 0x5e00_0000 - 64 * MIB);
    }

    #[test]
    fn nothing_fits() {
        let banks = [(0, 64 * MIB)];
        assert_eq!(
            place_guest_ram(&banks, &[(0, 32 * MIB)], 64 * MIB, 2 * MIB),
            None
        );
        assert_eq!(place_guest_ram(&banks, &[], 0, 2 * MIB), None);
        // A bank whose end overflows is skipped, not wrapped.
        assert_eq!(
            place_guest_ram(&[(u64::MAX - MIB, 4 * MIB)], &[], 2 * MIB, 2 * MIB),
            None
        );
    }

    proptest::proptest! {
        /// Whatever firmware says, an answer lies in one bank, is aligned
        /// and misses every busy range.
        #[test]
        fn answers_are_always_sound(
            banks in proptest::collection::vec((0u64..1 << 40, 0u64..1 << 32), 0..4),
            busy in proptest::collection::vec((0u64..1 << 40, 0u64..1 << 32), 0..6),
            size in 1u64..1 << 30,
        ) {
            let busy: Vec<(u64, u64)> = busy.iter().map(|&(b, l)| (b, b + l)).collect();
            if let Some(at) = place_guest_ram(&banks, &busy, size, 2 * MIB) {
                proptest::prop_assert_eq!(at % (2 * MIB), 0);
                proptest::prop_assert!(banks.iter().any(|&(b, l)| at >= b && at + size <= b + l));
                for &(b, e) in &busy {
                    proptest::prop_assert!(e <= b || e <= at || b >= at + size);
                }
            }
        }
    }
}
