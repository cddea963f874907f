//! A reader of flattened device trees (devicetree specification v0.4,
//! chapter 5) for the boot information firmware hands hv: the `fdt` crate
//! panics on the FDT_NOP tokens QEMU, U-Boot and Raspberry Pi firmware
//! leave where they deleted nodes or properties, and does not translate
//! `reg` through `ranges`. This one walks the structure block with every
//! offset bounds-checked: a malformed blob is an error, never a panic.
//!
//! * [`Dtb::new`] checks the header (magic, version 16 or later, blocks
//!   inside the blob).
//! * [`Dtb::nodes`] walks every node in order (FDT_NOP skipped), giving
//!   its path depth, name and properties; [`Dtb::find`] finds one by path.
//! * [`Dtb::reg`] decodes a node's `reg` with its parent's cell sizes and
//!   translates each address through the `ranges` of every ancestor
//!   (an empty `ranges` is identity, a missing one stops translation).

use alloc::vec::Vec;
use core::fmt;

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Nodes deeper than this are refused (the walk keeps the path on a
/// fixed stack).
pub const MAX_DEPTH: usize = 16;

/// Why a blob cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtbError {
    /// No FDT magic.
    BadMagic,
    /// A header field, a token or a name points outside the blob.
    Truncated,
    /// Version below 16.
    BadVersion,
    /// An unknown token, an END_NODE without BEGIN_NODE, or nesting past
    /// [`MAX_DEPTH`].
    BadStructure,
}

impl fmt::Display for DtbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DtbError::BadMagic => "not a device tree (bad magic)",
            DtbError::Truncated => "the device tree points outside itself",
            DtbError::BadVersion => "device tree version below 16",
            DtbError::BadStructure => "malformed device tree structure",
        };
        f.write_str(s)
    }
}

fn be32(b: &[u8], at: usize) -> Result<u32, DtbError> {
    let end = at.checked_add(4).ok_or(DtbError::Truncated)?;
    let s = b.get(at..end).ok_or(DtbError::Truncated)?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// A property: its name and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prop<'a> {
    /// Name (from the strings block).
    pub name: &'a [u8],
    /// Raw value.
    pub value: &'a [u8],
}

impl Prop<'_> {
    /// The value as big-endian u32 cells (a trailing partial cell is
    /// dropped).
    pub fn cells(&self) -> impl Iterator<Item = u32> + '_ {
        self.value
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// A node met by the walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node<'a> {
    /// Depth: 0 for the root.
    pub depth: usize,
    /// Name with unit address (`uart@fe201000`); empty for the root.
    pub name: &'a [u8],
    /// Its properties, in blob order.
    pub props: Vec<Prop<'a>>,
    /// Offset of its BEGIN_NODE token (identifies it).
    pub offset: usize,
    /// Offset of its parent's BEGIN_NODE token (the root's own for the
    /// root).
    pub parent: usize,
}

impl<'a> Node<'a> {
    /// The property `name`.
    pub fn prop(&self, name: &[u8]) -> Option<Prop<'a>> {
        self.props.iter().copied().find(|p| p.name == name)
    }
}

/// A device-tree blob.
#[derive(Clone, Copy, Debug)]
pub struct Dtb<'a> {
    blob: &'a [u8],
    structs: (usize, usize),
    strings: (usize, usize),
    reserve: usize,
}

impl<'a> Dtb<'a> {
    /// Check the header of `blob` (which may be longer than the tree).
    pub fn new(blob: &'a [u8]) -> Result<Dtb<'a>, DtbError> {
        if be32(blob, 0)? != MAGIC {
            return Err(DtbError::BadMagic);
        }
        let total = be32(blob, 4)? as usize;
        let blob = blob.get(..total).ok_or(DtbError::Truncated)?;
        if be32(blob, 20)? < 16 {
            return Err(DtbError::BadVersion);
        }
        let block = |off: usize, size: usize| -> Result<(usize, usize), DtbError> {
            let o = be32(blob, off)? as usize;
            let s = be32(blob, size)? as usize;
            let end = o.checked_add(s).ok_or(DtbError::Truncated)?;
            if end > blob.len() {
                return Err(DtbError::Truncated);
            }
            Ok((o, end))
        };
        Ok(Dtb {
            blob,
            structs: block(8, 36)?,
            strings: block(12, 32)?,
            reserve: be32(blob, 16)? as usize,
        })
    }

    /// The memory reservation block's (address, size) entries.
    pub fn reservations(&self) -> Result<Vec<(u64, u64)>, DtbError> {
        let mut out = Vec::new();
        let mut at = self.reserve;
        loop {
            let hi = |o: usize| -> Result<u64, DtbError> {
                Ok((u64::from(be32(self.blob, o)?) << 32) | u64::from(be32(self.blob, o + 4)?))
            };
            let (addr, size) = (hi(at)?, hi(at + 8)?);
            if addr == 0 && size == 0 {
                return Ok(out);
            }
            out.push((addr, size));
            at = at.checked_add(16).ok_or(DtbError::Truncated)?;
        }
    }

    fn string(&self, off: usize) -> Result<&'a [u8], DtbError> {
        let start = self.strings.0.checked_add(off).ok_or(DtbError::Truncated)?;
        let s = self
            .blob
            .get(start..self.strings.1)
            .ok_or(DtbError::Truncated)?;
        let len = s.iter().position(|&c| c == 0).ok_or(DtbError::Truncated)?;
        Ok(&s[..len])
    }

    /// Every node, in blob order.
    pub fn nodes(&self) -> Result<Vec<Node<'a>>, DtbError> {
        let (mut at, end) = self.structs;
        let mut out: Vec<Node<'a>> = Vec::new();
        // Indices into `out` of the open nodes.
        let mut open: heapless::Vec<usize, MAX_DEPTH> = heapless::Vec::new();
        loop {
            if at >= end {
                return Err(DtbError::Truncated);
            }
            let token = be32(self.blob, at)?;
            at += 4;
            match token {
                BEGIN_NODE => {
                    let rest = self.blob.get(at..end).ok_or(DtbError::Truncated)?;
                    let len = rest
                        .iter()
                        .position(|&c| c == 0)
                        .ok_or(DtbError::Truncated)?;
                    let offset = at - 4;
                    let parent = open.last().map_or(offset, |&i| out[i].offset);
                    out.push(Node {
                        depth: open.len(),
                        name: &rest[..len],
                        props: Vec::new(),
                        offset,
                        parent,
                    });
                    open.push(out.len() - 1)
                        .map_err(|_| DtbError::BadStructure)?;
                    at += (len + 1 + 3) & !3;
                }
                END_NODE => {
                    open.pop().ok_or(DtbError::BadStructure)?;
                }
                PROP => {
                    let len = be32(self.blob, at)? as usize;
                    let name = self.string(be32(self.blob, at + 4)? as usize)?;
                    let start = at + 8;
                    let stop = start.checked_add(len).ok_or(DtbError::Truncated)?;
                    if stop > end {
                        return Err(DtbError::Truncated);
                    }
                    let &i = open.last().ok_or(DtbError::BadStructure)?;
                    out[i].props.push(Prop {
                        name,
                        value: &self.blob[start..stop],
                    });
                    at = (stop + 3) & !3;
                }
                NOP => {}
                END => {
                    return if open.is_empty() && !out.is_empty() {
                        Ok(out)
                    } else {
                        Err(DtbError::BadStructure)
                    };
                }
                _ => return Err(DtbError::BadStructure),
            }
        }
    }

    /// The node at `path` (`/`, `/soc/serial@7e201000`), from `nodes`.
    pub fn find<'n>(nodes: &'n [Node<'a>], path: &[u8]) -> Option<&'n Node<'a>> {
        let mut current = nodes.first()?;
        for part in path.split(|&c| c == b'/').filter(|p| !p.is_empty()) {
            current = nodes.iter().find(|n| {
                n.parent == current.offset
                    && n.offset != current.offset
                    && (n.name == part
                        || (!part.contains(&b'@')
                            && n.name.split(|&c| c == b'@').next() == Some(part)))
            })?;
        }
        Some(current)
    }

    /// `node`'s `reg` entries as CPU physical (address, size), translated
    /// through the `ranges` of its ancestors. Entries an ancestor without
    /// `ranges` (or with no window covering them) cannot translate are
    /// left out.
    pub fn reg(nodes: &[Node<'a>], node: &Node<'a>) -> Vec<(u64, u64)> {
        let parent = |n: &Node<'a>| {
            nodes
                .iter()
                .find(|p| p.offset == n.parent && p.offset != n.offset)
        };
        let cells = |n: Option<&Node<'a>>, name: &[u8], default: u32| {
            n.and_then(|n| n.prop(name))
                .and_then(|p| p.cells().next())
                .unwrap_or(default)
        };
        let Some(reg) = node.prop(b"reg") else {
            return Vec::new();
        };
        let bus = parent(node);
        let (ac, sc) = (
            cells(bus, b"#address-cells", 2),
            cells(bus, b"#size-cells", 1),
        );
        let mut out = Vec::new();
        let words: Vec<u32> = reg.cells().collect();
        let step = (ac + sc) as usize;
        if step == 0 || ac > 2 || sc > 2 {
            return out;
        }
        for entry in words.chunks_exact(step) {
            let addr = join(&entry[..ac as usize]);
            let size = join(&entry[ac as usize..]);
            // Up the tree: each bus's `ranges` maps its child addresses
            // into its parent's space.
            let mut at = Some(addr);
            let mut child_bus = bus;
            while let (Some(a), Some(b)) = (at, child_bus) {
                let up = parent(b);
                if up.is_none() {
                    break; // b is the root: CPU addresses
                }
                at = translate(b, up, a, cells);
                child_bus = up;
            }
            if let Some(a) = at {
                out.push((a, size));
            }
        }
        out
    }
}

/// Big-endian cells as a number (at most two).
fn join(cells: &[u32]) -> u64 {
    cells.iter().fold(0u64, |v, &c| (v << 32) | u64::from(c))
}

/// `addr` in bus `b`'s child space, in `up`'s space through `b`'s
/// `ranges` (child address, parent address, size).
fn translate<'a>(
    b: &Node<'a>,
    up: Option<&Node<'a>>,
    addr: u64,
    cells: impl Fn(Option<&Node<'a>>, &[u8], u32) -> u32,
) -> Option<u64> {
    let ranges = b.prop(b"ranges")?;
    if ranges.value.is_empty() {
        return Some(addr);
    }
    let child_ac = cells(Some(b), b"#address-cells", 2) as usize;
    let child_sc = cells(Some(b), b"#size-cells", 1) as usize;
    let parent_ac = cells(up, b"#address-cells", 2) as usize;
    if child_ac > 2 || child_sc > 2 || parent_ac > 2 {
        return None;
    }
    let words: Vec<u32> = ranges.cells().collect();
    let step = child_ac + parent_ac + child_sc;
    if step == 0 {
        return None;
    }
    words.chunks_exact(step).find_map(|r| {
        let child = join(&r[..child_ac]);
        let parent = join(&r[child_ac..child_ac + parent_ac]);
        let size = join(&r[child_ac + parent_ac..]);
        (addr >= child && addr - child < size).then(|| parent + (addr - child))
    })
}

#[cfg(test)]
mod tests;
