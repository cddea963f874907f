//! A minimal static ELF64 (AArch64 Linux executable) writer: one loadable
//! read-write-execute segment, and a `.text` section header so LLVM's
//! objdump can disassemble it.

/// Where the segment goes and what it holds.
#[derive(Debug)]
pub struct Image<'a> {
    /// Virtual address of the segment (page aligned).
    pub vaddr: u64,
    /// Its contents.
    pub bytes: &'a [u8],
    /// Entry point.
    pub entry: u64,
    /// `.text`: offset into `bytes` and length.
    pub text: (u64, u64),
}

const EHDR: u64 = 64;
const PHDR: u64 = 56;
const SHDR: u64 = 64;
/// File offset of the segment (page aligned, after the headers).
const SEG_OFFSET: u64 = 0x1000;
const SHSTRTAB: &[u8] = b"\0.text\0.shstrtab\0";

fn put(out: &mut Vec<u8>, v: u64, n: usize) {
    out.extend_from_slice(&v.to_le_bytes()[..n]);
}

/// The ELF file for `img`.
pub fn write(img: &Image) -> Vec<u8> {
    let seg_len = img.bytes.len() as u64;
    let strtab_off = SEG_OFFSET + seg_len;
    let shoff = (strtab_off + SHSTRTAB.len() as u64 + 7) & !7;
    let mut out = Vec::with_capacity((shoff + 3 * SHDR) as usize);
    // ELF header.
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    put(&mut out, 2, 2); // ET_EXEC
    put(&mut out, 183, 2); // EM_AARCH64
    put(&mut out, 1, 4); // EV_CURRENT
    put(&mut out, img.entry, 8);
    put(&mut out, EHDR, 8); // e_phoff
    put(&mut out, shoff, 8);
    put(&mut out, 0, 4); // e_flags
    put(&mut out, EHDR, 2);
    put(&mut out, PHDR, 2);
    put(&mut out, 1, 2); // e_phnum
    put(&mut out, SHDR, 2);
    put(&mut out, 3, 2); // e_shnum: null, .text, .shstrtab
    put(&mut out, 2, 2); // e_shstrndx
                         // Program header: PT_LOAD, RWX.
    put(&mut out, 1, 4);
    put(&mut out, 7, 4);
    put(&mut out, SEG_OFFSET, 8);
    put(&mut out, img.vaddr, 8);
    put(&mut out, img.vaddr, 8);
    put(&mut out, seg_len, 8);
    put(&mut out, seg_len, 8);
    put(&mut out, 0x1000, 8);
    out.resize(SEG_OFFSET as usize, 0);
    out.extend_from_slice(img.bytes);
    out.extend_from_slice(SHSTRTAB);
    out.resize(shoff as usize, 0);
    // Section headers: null, .text, .shstrtab.
    out.resize(out.len() + SHDR as usize, 0);
    let (text_off, text_len) = img.text;
    section(
        &mut out,
        1,
        1,
        6,
        img.vaddr + text_off,
        SEG_OFFSET + text_off,
        text_len,
        4,
    );
    section(&mut out, 7, 3, 0, 0, strtab_off, SHSTRTAB.len() as u64, 1);
    out
}

#[allow(clippy::too_many_arguments)]
fn section(
    out: &mut Vec<u8>,
    name: u64,
    ty: u64,
    flags: u64,
    addr: u64,
    off: u64,
    size: u64,
    align: u64,
) {
    put(out, name, 4);
    put(out, ty, 4);
    put(out, flags, 8);
    put(out, addr, 8);
    put(out, off, 8);
    put(out, size, 8);
    put(out, 0, 4); // sh_link
    put(out, 0, 4); // sh_info
    put(out, align, 8);
    put(out, 0, 8); // sh_entsize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_point_at_the_segment() {
        let bytes = [0x1f, 0x20, 0x03, 0xd5]; // nop
        let f = write(&Image {
            vaddr: 0x1000_0000,
            bytes: &bytes,
            entry: 0x1000_0000,
            text: (0, 4),
        });
        assert_eq!(&f[..4], b"\x7fELF");
        let u64_at = |o: usize| u64::from_le_bytes(f[o..o + 8].try_into().unwrap());
        assert_eq!(u64_at(24), 0x1000_0000); // e_entry
        let phoff = u64_at(32) as usize;
        let seg = u64_at(phoff + 8) as usize;
        assert_eq!(&f[seg..seg + 4], &bytes);
        let shoff = u64_at(40) as usize;
        // .text's address and offset.
        assert_eq!(u64_at(shoff + 64 + 16), 0x1000_0000);
        assert_eq!(u64_at(shoff + 64 + 24) as usize, seg);
    }
}
