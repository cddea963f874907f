//! A direct-mapped memo with constant-time clearing: what the run loop
//! puts in front of the tree maps it searches for every block it meets
//! again (after a jump-cache flush it meets every block again).

use alloc::vec::Vec;

/// Up to `entries` (a power of two) recent key/value pairs, each in the
/// slot its caller-supplied hash picks; a newer pair evicts an older one.
#[derive(Debug)]
pub struct Memo<K, V> {
    /// Key, value and the generation they were put in.
    slots: Vec<Option<(K, V, u64)>>,
    /// Entries of older generations are empty.
    generation: u64,
}

impl<K: Copy + Eq, V: Clone> Memo<K, V> {
    /// An empty memo of `entries` slots (rounded up to a power of two).
    pub fn new(entries: usize) -> Self {
        let n = entries.max(1).next_power_of_two();
        Memo {
            slots: (0..n).map(|_| None).collect(),
            generation: 0,
        }
    }

    fn slot(&self, hash: usize) -> usize {
        hash & (self.slots.len() - 1)
    }

    /// The value remembered for `key` (whose hash is `hash`), if any.
    #[inline]
    pub fn get(&self, hash: usize, key: &K) -> Option<V> {
        match self.slots.get(self.slot(hash)) {
            Some(Some((k, v, g))) if *g == self.generation && k == key => Some(v.clone()),
            _ => None,
        }
    }

    /// Remember `value` for `key`.
    #[inline]
    pub fn put(&mut self, hash: usize, key: K, value: V) {
        let (slot, generation) = (self.slot(hash), self.generation);
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some((key, value, generation));
        }
    }

    /// Forget everything (the entries stay until overwritten, but no
    /// lookup returns them).
    pub fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_evicts_and_clears() {
        let mut m: Memo<u64, u32> = Memo::new(3); // rounded up to 4 slots
        m.put(1, 10, 100);
        assert_eq!(m.get(1, &10), Some(100));
        assert_eq!(m.get(1, &11), None, "same slot, other key");
        m.put(5, 11, 110); // slot 1 again: evicts key 10
        assert_eq!(m.get(1, &10), None);
        assert_eq!(m.get(5, &11), Some(110));
        m.clear();
        assert_eq!(m.get(5, &11), None);
        m.put(5, 11, 111);
        assert_eq!(m.get(5, &11), Some(111));
    }
}
