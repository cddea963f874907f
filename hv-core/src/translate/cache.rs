//! The block cache: translated blocks by guest physical address and
//! translation regime, dropped when the guest writes to their
//! instructions.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::ir::{Block, PAGE_SIZE};
use super::memo::Memo;

/// Key of a translated block: physical address and regime tag
/// ([`super::CpuBus::regime`]).
pub type BlockKey = (u64, u32);

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a block.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Blocks dropped because their page was written.
    pub invalidated: u64,
}

/// Number of bits in the page filter.
const FILTER_BITS: usize = 4096;

/// Translated blocks.
///
/// Stores check a small bit filter (one bit per page-number hash) before
/// looking up the page map, so a store to a page without code costs a shift
/// and a bit test.
#[derive(Debug)]
pub struct BlockCache {
    blocks: BTreeMap<BlockKey, Arc<Block>>,
    /// Page number -> keys of the blocks in that page.
    pages: BTreeMap<u64, Vec<BlockKey>>,
    filter: [u64; FILTER_BITS / 64],
    /// A memo in front of `blocks`, emptied whenever a block is dropped.
    recent: Memo<BlockKey, Arc<Block>>,
    stats: CacheStats,
}

/// Entries of the lookup memo.
const RECENT_ENTRIES: usize = 4096;

fn key_hash(key: &BlockKey) -> usize {
    ((key.0 >> 2) ^ u64::from(key.1)) as usize
}

impl Default for BlockCache {
    fn default() -> Self {
        Self::new()
    }
}

fn filter_slot(page: u64) -> (usize, u64) {
    // `% FILTER_BITS` keeps the index in range.
    let h = (page as usize) % FILTER_BITS;
    (h / 64, 1u64 << (h % 64))
}

impl BlockCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            blocks: BTreeMap::new(),
            pages: BTreeMap::new(),
            filter: [0; FILTER_BITS / 64],
            recent: Memo::new(RECENT_ENTRIES),
            stats: CacheStats::default(),
        }
    }

    /// The block at `key`, if translated.
    pub fn get(&mut self, key: BlockKey) -> Option<Arc<Block>> {
        let hash = key_hash(&key);
        let b = match self.recent.get(hash, &key) {
            Some(b) => Some(b),
            None => {
                let b = self.blocks.get(&key).cloned();
                if let Some(b) = &b {
                    self.recent.put(hash, key, b.clone());
                }
                b
            }
        };
        if b.is_some() {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
        }
        b
    }

    /// Insert a freshly translated block and return the shared handle.
    pub fn insert(&mut self, regime: u32, block: Block) -> Arc<Block> {
        let key = (block.pa, regime);
        let page = block.pa / PAGE_SIZE;
        let b = Arc::new(block);
        if self.blocks.insert(key, b.clone()).is_none() {
            self.pages.entry(page).or_default().push(key);
        }
        self.recent.put(key_hash(&key), key, b.clone());
        let (i, m) = filter_slot(page);
        if let Some(word) = self.filter.get_mut(i) {
            *word |= m;
        }
        b
    }

    /// Whether a write to `[pa, pa + len)` (at most a page) might hit
    /// translated code: the cheap filter test stores do first.
    #[inline]
    pub fn may_hold_code(&self, pa: u64, len: u64) -> bool {
        let hit = |page: u64| {
            let (i, m) = filter_slot(page);
            self.filter.get(i).is_some_and(|w| w & m != 0)
        };
        let first = pa / PAGE_SIZE;
        let last = pa.saturating_add(len.saturating_sub(1)) / PAGE_SIZE;
        hit(first) || (last != first && hit(last))
    }

    /// Whether the page holding `pa` holds translated blocks now (exact,
    /// unlike [`BlockCache::may_hold_code`]).
    pub fn page_holds_code(&self, pa: u64) -> bool {
        self.pages
            .get(&(pa / PAGE_SIZE))
            .is_some_and(|keys| !keys.is_empty())
    }

    /// The guest wrote `[pa, pa + len)`: drop every block whose
    /// instructions it overlaps (the other blocks of those pages stay).
    /// Returns whether anything was dropped.
    pub fn invalidate_range(&mut self, pa: u64, len: u64) -> bool {
        let end = pa.saturating_add(len.max(1));
        let first = pa / PAGE_SIZE;
        let last = (end - 1) / PAGE_SIZE;
        let mut dropped = false;
        let mut page = first;
        loop {
            let (i, m) = filter_slot(page);
            if self.filter.get(i).is_some_and(|w| w & m != 0) {
                if let Some(keys) = self.pages.get_mut(&page) {
                    let blocks = &mut self.blocks;
                    let before = keys.len();
                    keys.retain(|k| {
                        let hit = k.0 < end && blocks.get(k).is_some_and(|b| b.end() > pa);
                        if hit {
                            blocks.remove(k);
                        }
                        !hit
                    });
                    let n = (before - keys.len()) as u64;
                    if keys.is_empty() {
                        self.pages.remove(&page);
                    }
                    if n != 0 {
                        self.recent.clear();
                        self.stats.invalidated += n;
                        dropped = true;
                    }
                }
            }
            if page >= last {
                break;
            }
            page += 1;
        }
        dropped
    }

    /// Drop every block.
    pub fn clear(&mut self) {
        self.stats.invalidated += self.blocks.len() as u64;
        self.blocks.clear();
        self.recent.clear();
        self.pages.clear();
        self.filter = [0; FILTER_BITS / 64];
    }

    /// Number of cached blocks.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Hit/miss/invalidation counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::super::asm;
    use super::*;

    #[test]
    fn writes_drop_blocks_in_every_page_they_touch() {
        let mut c = BlockCache::new();
        c.insert(1, Block::from_words(0x4000_0ff8, &[asm::NOP, asm::RET], 8));
        c.insert(1, Block::from_words(0x4000_1000, &[asm::RET], 8));
        assert!(c.get((0x4000_0ff8, 1)).is_some());
        assert!(
            c.get((0x4000_0ff8, 0)).is_none(),
            "regime is part of the key"
        );
        assert!(!c.invalidate_range(0x4000_2000, 8));
        assert_eq!(c.len(), 2);
        assert!(c.invalidate_range(0x4000_0ffc, 8)); // straddles both pages
        assert!(c.is_empty());
        assert_eq!(c.stats().invalidated, 2);
    }

    #[test]
    fn writes_drop_only_the_blocks_whose_instructions_they_overlap() {
        let mut c = BlockCache::new();
        // [0x100, 0x108) and [0x200, 0x204) in one page.
        c.insert(1, Block::from_words(0x4000_0100, &[asm::NOP, asm::RET], 8));
        c.insert(1, Block::from_words(0x4000_0200, &[asm::RET], 8));
        // Data in the same page, around the blocks but not on them.
        assert!(!c.invalidate_range(0x4000_00f8, 8));
        assert!(!c.invalidate_range(0x4000_0108, 0xf8));
        assert!(!c.invalidate_range(0x4000_0204, 4));
        assert_eq!(c.len(), 2);
        assert!(c.page_holds_code(0x4000_0000));
        // One byte of the first block's last instruction.
        assert!(c.invalidate_range(0x4000_0107, 1));
        assert!(c.get((0x4000_0100, 1)).is_none());
        assert!(c.get((0x4000_0200, 1)).is_some());
        assert!(c.page_holds_code(0x4000_0000));
        // A zero-length write counts as one byte, like the JIT's.
        assert!(c.invalidate_range(0x4000_0200, 0));
        assert!(c.is_empty());
        assert!(!c.page_holds_code(0x4000_0000));
        assert_eq!(c.stats().invalidated, 2);
    }
}
