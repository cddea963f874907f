//! Turn a flattened device tree into one that firmware might hand over:
//! an FDT_NOP token before every token of the structure block but the
//! root node's, as U-Boot,
//! QEMU and the Pi firmware leave them where they delete nodes and
//! properties (devicetree spec 5.4.1: a reader must skip them). The boot
//! test feeds hv-kernel such a blob so the reader is checked against a
//! tree it did not write.

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
pub const NOP: u32 = 4;
const END: u32 = 9;

fn be32(blob: &[u8], at: usize) -> Result<u32, String> {
    blob.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| format!("device tree truncated at byte {at}"))
}

fn put32(blob: &mut [u8], at: usize, value: u32) {
    blob[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

/// Bytes taken by the token at `at` of a structure block, its payload
/// included.
fn token_len(structure: &[u8], at: usize) -> Result<usize, String> {
    Ok(match be32(structure, at)? {
        BEGIN_NODE => {
            let name_end = structure[at + 4..]
                .iter()
                .position(|&b| b == 0)
                .ok_or("unterminated node name")?;
            4 + (name_end + 1).next_multiple_of(4)
        }
        PROP => 12 + (be32(structure, at + 4)? as usize).next_multiple_of(4),
        END_NODE | NOP | END => 4,
        other => return Err(format!("unknown token {other:#x} at {at:#x}")),
    })
}

/// `blob` with an FDT_NOP before each token after the first; returns the new blob and the
/// number of NOPs inserted. The header's offsets and sizes follow.
pub fn insert_nops(blob: &[u8]) -> Result<(Vec<u8>, usize), String> {
    if be32(blob, 0)? != MAGIC {
        return Err("not a flattened device tree (bad magic)".into());
    }
    let total = be32(blob, 4)? as usize;
    let off_struct = be32(blob, 8)? as usize;
    let off_strings = be32(blob, 12)? as usize;
    let size_strings = be32(blob, 32)? as usize;
    let size_struct = be32(blob, 36)? as usize;
    if off_struct + size_struct > off_strings || off_strings + size_strings > total {
        return Err("expected the usual layout: structure block before strings".into());
    }
    let structure = &blob[off_struct..off_struct + size_struct];
    let mut out = Vec::with_capacity(structure.len() * 2);
    let mut nops = 0;
    let mut at = 0;
    loop {
        let token = be32(structure, at)?;
        let len = token_len(structure, at)?;
        // Not before the root node: libfdt (QEMU's, U-Boot's) looks for it
        // at offset 0, and firmware never deletes it.
        if at > 0 {
            out.extend_from_slice(&NOP.to_be_bytes());
            nops += 1;
        }
        out.extend_from_slice(
            structure
                .get(at..at + len)
                .ok_or("structure block truncated")?,
        );
        at += len;
        if token == END {
            break;
        }
    }
    // Header and memory reservations unchanged, then the new structure
    // block, then the strings.
    let mut blob_out = blob[..off_struct].to_vec();
    blob_out.extend_from_slice(&out);
    let new_strings = blob_out.len();
    blob_out.extend_from_slice(&blob[off_strings..off_strings + size_strings]);
    let new_total = blob_out.len();
    put32(&mut blob_out, 4, new_total as u32);
    put32(&mut blob_out, 12, new_strings as u32);
    put32(&mut blob_out, 36, out.len() as u32);
    Ok((blob_out, nops))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root node with one property and one empty child.
    fn small_tree() -> Vec<u8> {
        let mut s = Vec::new();
        let mut w = |v: u32| s.extend_from_slice(&v.to_be_bytes());
        w(BEGIN_NODE);
        w(0); // "" name, padded
        w(PROP);
        w(4);
        w(0); // name offset of "model"
        w(0x1234_5678);
        w(BEGIN_NODE);
        s.extend_from_slice(b"cpu\0");
        let mut w = |v: u32| s.extend_from_slice(&v.to_be_bytes());
        w(END_NODE);
        w(END_NODE);
        w(END);
        let strings = b"model\0";
        let off_struct = 40 + 16;
        let mut blob = vec![0u8; off_struct];
        put32(&mut blob, 0, MAGIC);
        put32(&mut blob, 8, off_struct as u32);
        put32(&mut blob, 12, (off_struct + s.len()) as u32);
        put32(&mut blob, 16, 40);
        put32(&mut blob, 20, 17);
        put32(&mut blob, 32, strings.len() as u32);
        put32(&mut blob, 36, s.len() as u32);
        blob.extend_from_slice(&s);
        blob.extend_from_slice(strings);
        let total = blob.len() as u32;
        put32(&mut blob, 4, total);
        blob
    }

    #[test]
    fn every_token_gets_a_nop_and_removing_them_restores_the_tree() {
        let blob = small_tree();
        let (nopped, nops) = insert_nops(&blob).unwrap();
        assert_eq!(nops, 5, "6 tokens in the small tree, the first without");
        assert_eq!(nopped.len(), blob.len() + 4 * nops);
        assert_eq!(be32(&nopped, 4).unwrap() as usize, nopped.len());
        // Strings still found at the header's offset.
        let off_strings = be32(&nopped, 12).unwrap() as usize;
        assert_eq!(&nopped[off_strings..off_strings + 6], b"model\0");
        // Walking the new block token by token and dropping the NOPs
        // gives the old block back (payload words equal to 4, like the
        // property's length here, are not tokens).
        let nopped_struct = &nopped[56..off_strings];
        let original = &blob[56..blob.len() - 6];
        let mut restored = Vec::new();
        let mut at = 0;
        while at < nopped_struct.len() {
            let len = token_len(nopped_struct, at).unwrap();
            if be32(nopped_struct, at).unwrap() != NOP {
                restored.extend_from_slice(&nopped_struct[at..at + len]);
            }
            at += len;
        }
        assert_eq!(restored, original);
    }

    #[test]
    fn refuses_what_is_not_a_device_tree() {
        assert!(insert_nops(&[0u8; 64]).unwrap_err().contains("magic"));
        let mut blob = small_tree();
        put32(&mut blob, 56, 7); // an unknown token
        assert!(insert_nops(&blob).unwrap_err().contains("unknown token"));
    }
}
