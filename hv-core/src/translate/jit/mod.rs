//! The JIT tier: hot blocks compiled to host machine code.
//!
//! * [`ir`]: the host-neutral IR a block is lifted to.
//! * [`lift`]: decoded instructions to IR (integer data processing and
//!   branches natively; every other instruction calls the interpreter for
//!   that one instruction, so coverage is complete).
//! * [`opt`]: the cheap passes (register forwarding, dead writes, constant
//!   folding, dead code).
//! * [`x86_64`]: the x86_64 back end (encoder and instruction selection).
//! * [`native`]: executable memory ([`CodeArena`]), entering generated
//!   code, and its calls back into the interpreter: the JIT's only
//!   `unsafe` code.
//!
//! The CPU ([`crate::translate::Cpu`]) stays the owner of the guest state
//! and of the run loop: with a [`Jit`] attached it runs a block's compiled
//! code instead of interpreting it, once the block has run
//! [`Jit::threshold`] times. Interrupts, timers and the instruction budget
//! are checked between blocks exactly as without the JIT, and blocks are
//! the same, so a guest sees the same instruction counts (and times)
//! under both tiers.

pub mod ir;
pub mod lift;
#[allow(unsafe_code)]
pub mod native;
pub mod opt;
pub mod x86_64;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

pub use native::{ArenaFull, CodeArena};

use super::ir::{Block, PAGE_SIZE};
use super::memo::Memo;

/// Runs of a block in the interpreter before it is compiled (measured:
/// see DESIGN.md, "JIT tiering").
pub const DEFAULT_THRESHOLD: u32 = 1;

/// What identifies compiled code: the block's physical address and
/// translation regime, the virtual address it was compiled for (the code
/// embeds PC-relative values), and the exception level and SPSel (which
/// stack pointer `SP` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::translate) struct JitKey {
    pub pa: u64,
    pub regime: u32,
    pub va: u64,
    pub el: u8,
    pub spsel: bool,
}

/// Entries of [`Jit`]'s lookup memo.
const RECENT_ENTRIES: usize = 4096;

impl JitKey {
    /// The key's hash for the lookup memo.
    fn hash(&self) -> usize {
        ((self.va >> 2) ^ (self.pa >> 12)) as usize
    }
}

/// The Rust functions generated code calls (monomorphised for one bus
/// type; code generated for one set is wrong for another).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(in crate::translate) struct Callbacks {
    /// Run one instruction in the interpreter.
    pub interp: u64,
    /// The load slow path.
    pub load: u64,
    /// The store slow path.
    pub store: u64,
}

/// A compiled block, or a block the back end declined (`code` 0).
#[derive(Debug)]
struct Compiled {
    code: u64,
    /// End of the guest bytes the block was compiled from (`key.pa` is
    /// the start): a write to them drops it.
    end: u64,
    /// Chaining sites patched to jump here, unpatched when the block is
    /// dropped (a link never outlives its target).
    incoming: Vec<u64>,
    /// Keeps the decoded ops alive: generated code points at them for its
    /// interpreter calls.
    _block: Arc<Block>,
}

/// Counters for tests, `--stats` and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Blocks compiled.
    pub compiled: u64,
    /// Blocks the back end could not compile (they stay interpreted).
    pub declined: u64,
    /// Entries into compiled code from the run loop (chained blocks run
    /// one after another without one).
    pub runs: u64,
    /// Instructions compiled code handed to the interpreter (those not
    /// lifted, and the FP instructions whose host path did not apply).
    pub interpreted: u64,
    /// Compiled blocks dropped because their code page was written.
    pub invalidated: u64,
    /// Chaining sites linked to their next block.
    pub links: u64,
    /// Times the arena filled up and all code was dropped.
    pub flushes: u64,
    /// Bytes of generated code in the arena now.
    pub code_bytes: u64,
}

/// The JIT of one CPU: its code arena and compiled blocks.
pub struct Jit {
    arena: Box<dyn CodeArena + Send>,
    /// First free byte of the arena.
    used: usize,
    /// Entry stub and shared epilogue (at the start of the arena).
    entry: u64,
    epilogue: u64,
    stub_len: usize,
    /// The callbacks the current code was generated for (code is specific
    /// to one bus type); all 0 before the first compile.
    callbacks: Callbacks,
    blocks: BTreeMap<JitKey, Compiled>,
    /// A memo in front of `blocks` (a tree search per block the run loop
    /// meets again after the jump cache was flushed cost about 9% of a
    /// Linux boot); emptied whenever code is dropped.
    recent: Memo<JitKey, u64>,
    /// Blocks dropped while generated code may still run them; freed when
    /// control is back in the run loop.
    graveyard: Vec<Compiled>,
    threshold: u32,
    stats: JitStats,
}

impl fmt::Debug for Jit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jit")
            .field("blocks", &self.blocks.len())
            .field("used", &self.used)
            .field("capacity", &self.arena.capacity())
            .field("stats", &self.stats)
            .finish()
    }
}

/// Why a JIT could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JitError {
    /// This host has no JIT back end (the interpreter is the only tier).
    UnsupportedHost,
    /// The arena cannot even hold the entry stub.
    ArenaTooSmall,
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitError::UnsupportedHost => {
                write!(
                    f,
                    "the JIT has no back end for this host CPU yet (x86_64 only)"
                )
            }
            JitError::ArenaTooSmall => write!(f, "the JIT's code arena is too small"),
        }
    }
}

/// What the back end needs to know of a block it compiles for `key`.
fn env(block: &Block, key: &JitKey, callbacks: &Callbacks, epilogue: u64) -> x86_64::Env {
    x86_64::Env {
        el: key.el,
        spsel: key.spsel,
        va: key.va,
        ops: block.ops.as_ptr() as u64,
        op_size: core::mem::size_of::<super::ir::Op>() as u64,
        interp: callbacks.interp,
        load: callbacks.load,
        store: callbacks.store,
        epilogue,
    }
}

/// The translation work of compiling `block` (at `va`, EL1 with SP_EL1):
/// lift, optimise and generate x86_64 code for address `at`, as [`Jit`]
/// does, less the copy into the arena. For benchmarks: the code calls
/// nothing real and must not run (it is for measuring and reading).
/// Returns the code, or `None` when the back end declines the block.
pub fn translate_only(block: &Block, va: u64, at: u64) -> Option<Vec<u8>> {
    let key = JitKey {
        pa: block.pa,
        regime: 0,
        va,
        el: 1,
        spsel: true,
    };
    let mut ir = lift::lift(block, va);
    opt::optimize(&mut ir);
    // No callbacks, and the block's own start standing in for the
    // epilogue (a jump target in reach, as the real one is).
    let env = env(block, &key, &Callbacks::default(), at);
    x86_64::compile(&ir, &env, at).ok()
}

/// Whether this host has a JIT back end.
pub const fn host_supported() -> bool {
    cfg!(target_arch = "x86_64")
}

impl Jit {
    /// A JIT generating code into `arena`, compiling a block once it has
    /// run `threshold` times in the interpreter (0 or 1: at its first run).
    pub fn new(mut arena: Box<dyn CodeArena + Send>, threshold: u32) -> Result<Jit, JitError> {
        if !host_supported() {
            return Err(JitError::UnsupportedHost);
        }
        let base = arena.exec_base();
        let stub = x86_64::entry_stub(base).map_err(|_| JitError::ArenaTooSmall)?;
        arena
            .write(0, &stub.bytes)
            .map_err(|_| JitError::ArenaTooSmall)?;
        Ok(Jit {
            arena,
            used: stub.bytes.len(),
            entry: base,
            epilogue: base + stub.epilogue as u64,
            stub_len: stub.bytes.len(),
            callbacks: Callbacks::default(),
            blocks: BTreeMap::new(),
            recent: Memo::new(RECENT_ENTRIES),
            graveyard: Vec::new(),
            threshold,
            stats: JitStats::default(),
        })
    }

    /// Runs in the interpreter before a block is compiled.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// Counters.
    pub fn stats(&self) -> JitStats {
        JitStats {
            code_bytes: (self.used - self.stub_len) as u64,
            ..self.stats
        }
    }

    pub(in crate::translate) fn entry(&self) -> u64 {
        self.entry
    }

    pub(in crate::translate) fn note_run(&mut self) {
        self.stats.runs += 1;
    }

    pub(in crate::translate) fn note_interpreted(&mut self) {
        self.stats.interpreted += 1;
    }

    /// Compiled code for `key`, if any (0: declined).
    pub(in crate::translate) fn lookup(&mut self, key: &JitKey) -> Option<u64> {
        if let Some(code) = self.recent.get(key.hash(), key) {
            return Some(code);
        }
        let code = self.blocks.get(key).map(|c| c.code)?;
        self.recent.put(key.hash(), *key, code);
        Some(code)
    }

    /// Compile `block` for `key`, calling back into `callbacks`.
    /// Returns the code address, or 0 if the back end declined the block.
    /// May drop all other code (arena full, or a different `helper`):
    /// `flushed` is then set and the caller must forget code addresses it
    /// cached.
    pub(in crate::translate) fn compile(
        &mut self,
        key: JitKey,
        block: &Arc<Block>,
        callbacks: Callbacks,
        flushed: &mut bool,
    ) -> u64 {
        if callbacks != self.callbacks {
            if self.callbacks != Callbacks::default() {
                self.flush();
                *flushed = true;
            }
            self.callbacks = callbacks;
        }
        let mut ir = lift::lift(block, key.va);
        opt::optimize(&mut ir);
        let env = env(block, &key, &callbacks, self.epilogue);
        let mut code = 0;
        for attempt in 0..2 {
            let at = self.arena.exec_base() + self.used as u64;
            let bytes = match x86_64::compile(&ir, &env, at) {
                Ok(b) => b,
                Err(_) => break,
            };
            if self.arena.write(self.used, &bytes).is_ok() {
                code = at;
                self.used += bytes.len();
                // Keep blocks 16-byte aligned.
                self.used = (self.used + 15) & !15;
                break;
            }
            if attempt == 0 {
                self.flush();
                *flushed = true;
            }
        }
        if code == 0 {
            self.stats.declined += 1;
        } else {
            self.stats.compiled += 1;
        }
        self.blocks.insert(
            key,
            Compiled {
                code,
                end: block.end(),
                incoming: Vec::new(),
                _block: block.clone(),
            },
        );
        self.recent.put(key.hash(), key, code);
        code
    }

    /// Point the chaining site `site` (the rel32 of a patchable jump in
    /// generated code) at the code of block `target`, and record the link
    /// with the target so that dropping it unpatches the site. Only
    /// between blocks.
    pub(in crate::translate) fn link(&mut self, site: u64, target: &JitKey) {
        let Some(t) = self.blocks.get_mut(target) else {
            return;
        };
        if t.code == 0 {
            return;
        }
        let rel = t.code.wrapping_sub(site.wrapping_add(4)) as i64;
        if !t.incoming.contains(&site) && Self::patch(&mut *self.arena, self.used, site, rel) {
            t.incoming.push(site);
            self.stats.links += 1;
        }
    }

    /// Write `rel` into the rel32 at `site`; whether it was written (the
    /// site is in the used arena and `rel` fits).
    fn patch(arena: &mut dyn CodeArena, used: usize, site: u64, rel: i64) -> bool {
        let Some(offset) = site.checked_sub(arena.exec_base()) else {
            return false;
        };
        let Ok(rel) = i32::try_from(rel) else {
            return false;
        };
        offset.saturating_add(4) <= used as u64
            && arena.write(offset as usize, &rel.to_le_bytes()).is_ok()
    }

    /// Drop every compiled block whose guest bytes overlap
    /// `[pa, pa + len)` (blocks never span pages, so only the pages of the
    /// range are searched), and unpatch the chaining sites that jump to
    /// them: back to a rel32 of 0, the jump to the exit path that follows
    /// it. Blocks of the same page that were not written stay, and so do
    /// their links.
    pub(in crate::translate) fn invalidate(&mut self, pa: u64, len: u64) {
        let first = pa & !(PAGE_SIZE - 1);
        let end = pa.saturating_add(len.max(1));
        let lo = JitKey {
            pa: first,
            regime: 0,
            va: 0,
            el: 0,
            spsel: false,
        };
        let keys: Vec<JitKey> = self
            .blocks
            .range(lo..)
            .take_while(|(k, _)| k.pa < end)
            .filter(|(_, c)| c.end > pa)
            .map(|(k, _)| *k)
            .collect();
        if !keys.is_empty() {
            self.recent.clear();
        }
        for k in keys {
            if let Some(c) = self.blocks.remove(&k) {
                for &site in &c.incoming {
                    // A site in code dropped since is unreachable; writing
                    // it is harmless until a flush reuses the arena, which
                    // forgets every link.
                    Self::patch(&mut *self.arena, self.used, site, 0);
                }
                self.stats.invalidated += 1;
                self.graveyard.push(c);
            }
        }
    }

    /// Drop all compiled code and start the arena afresh. Only between
    /// blocks: nothing generated may be running.
    pub(in crate::translate) fn flush(&mut self) {
        self.stats.flushes += 1;
        self.blocks.clear();
        self.recent.clear();
        self.graveyard.clear();
        self.used = self.stub_len;
    }

    /// Drop every compiled block (guest instruction-cache invalidation).
    /// Safe while generated code runs: the code stays in the arena and
    /// the blocks in the graveyard until [`Jit::collect`].
    pub(in crate::translate) fn invalidate_all(&mut self) {
        let n = self.blocks.len() as u64;
        self.stats.invalidated += n;
        let old = core::mem::take(&mut self.blocks);
        self.recent.clear();
        self.graveyard.extend(old.into_values());
    }

    /// Free what was dropped while generated code ran.
    pub(in crate::translate) fn collect(&mut self) {
        self.graveyard.clear();
    }
}
