use super::*;
use alloc::format;
use alloc::string::String;
use proptest::prelude::*;
use vm_fdt::{FdtReserveEntry, FdtWriter};

/// A Raspberry-Pi-shaped tree: a `/soc` bus whose 32-bit child addresses
/// (0x7e000000..) map to CPU addresses 0xfe000000.. through `ranges`, a
/// UART on it, a nested bus with an empty (identity) `ranges`, a bus with
/// no `ranges` (not translatable), memory, and a reservation.
fn pi_like() -> Vec<u8> {
    let mut w =
        FdtWriter::new_with_mem_reserv(&[FdtReserveEntry::new(0, 0x1000).unwrap()]).unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    let chosen = w.begin_node("chosen").unwrap();
    w.property_string("stdout-path", "serial0:115200n8")
        .unwrap();
    w.end_node(chosen).unwrap();
    let mem = w.begin_node("memory@0").unwrap();
    w.property_array_u32("reg", &[0, 0, 0x3b40_0000]).unwrap();
    w.end_node(mem).unwrap();
    let soc = w.begin_node("soc").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    w.property_array_u32("ranges", &[0x7e00_0000, 0, 0xfe00_0000, 0x0180_0000])
        .unwrap();
    let uart = w.begin_node("serial@7e201000").unwrap();
    w.property_string("compatible", "arm,pl011").unwrap();
    w.property_array_u32("reg", &[0x7e20_1000, 0x200]).unwrap();
    w.end_node(uart).unwrap();
    let sub = w.begin_node("bus@7e300000").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    w.property_null("ranges").unwrap();
    let dev = w.begin_node("dev@7e300100").unwrap();
    w.property_array_u32("reg", &[0x7e30_0100, 0x10, 0x7f80_0000, 0x10])
        .unwrap();
    w.end_node(dev).unwrap();
    w.end_node(sub).unwrap();
    let closed = w.begin_node("closed").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 1).unwrap();
    let hidden = w.begin_node("hidden@10").unwrap();
    w.property_array_u32("reg", &[0x10, 4]).unwrap();
    w.end_node(hidden).unwrap();
    w.end_node(closed).unwrap();
    w.end_node(soc).unwrap();
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

/// Every node's path depth, name and properties, as text.
fn listing(blob: &[u8]) -> Result<String, DtbError> {
    let dtb = Dtb::new(blob)?;
    let mut s = String::new();
    for n in dtb.nodes()? {
        s += &format!("{} {:?}\n", n.depth, core::str::from_utf8(n.name));
        for p in &n.props {
            s += &format!("  {:?} = {:02x?}\n", core::str::from_utf8(p.name), p.value);
        }
    }
    Ok(s)
}

/// `blob` with an FDT_NOP before every token of the structure block, the
/// header's offsets and sizes fixed (a tokenizer of its own, so it does
/// not share code with the reader).
fn with_nops(blob: &[u8]) -> Vec<u8> {
    let rd = |at: usize| u32::from_be_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
    let (s_off, s_size, str_off) = (rd(8), rd(36), rd(12));
    let mut structs = Vec::new();
    let mut at = s_off;
    while at < s_off + s_size {
        structs.extend_from_slice(&4u32.to_be_bytes());
        let token = rd(at);
        let len = match token {
            1 => 4 + ((blob[at + 4..].iter().position(|&c| c == 0).unwrap() + 1 + 3) & !3),
            3 => 12 + ((rd(at + 4) + 3) & !3),
            _ => 4,
        };
        structs.extend_from_slice(&blob[at..at + len]);
        at += len;
    }
    let grown = structs.len() - s_size;
    assert!(
        str_off >= s_off + s_size,
        "strings after structs (vm-fdt's layout)"
    );
    let mut out = blob[..s_off].to_vec();
    out.extend_from_slice(&structs);
    out.extend_from_slice(&blob[s_off + s_size..]);
    let wr = |out: &mut Vec<u8>, at: usize, v: usize| {
        out[at..at + 4].copy_from_slice(&(v as u32).to_be_bytes())
    };
    wr(&mut out, 4, blob.len() + grown);
    wr(&mut out, 12, str_off + grown);
    wr(&mut out, 36, structs.len());
    out
}

#[test]
fn nops_change_nothing() {
    let blob = pi_like();
    let nopped = with_nops(&blob);
    assert!(nopped.len() > blob.len() + 40, "NOPs were inserted");
    assert_eq!(listing(&nopped).unwrap(), listing(&blob).unwrap());
}

/// A node as (name, [(property name, value)]), the form both readers are compared in.
type FlatNode = (String, Vec<(String, Vec<u8>)>);

#[test]
fn agrees_with_the_fdt_crate() {
    let blob = pi_like();
    let theirs = fdt::Fdt::new(&blob).unwrap();
    let dtb = Dtb::new(&blob).unwrap();
    let nodes = dtb.nodes().unwrap();
    let mut names: Vec<FlatNode> = Vec::new();
    for n in theirs.all_nodes() {
        let props: Vec<(String, Vec<u8>)> = n
            .properties()
            .map(|p| (String::from(p.name), p.value.to_vec()))
            .collect();
        names.push((String::from(n.name), props));
    }
    let ours: Vec<FlatNode> = nodes
        .iter()
        .map(|n| {
            let name = core::str::from_utf8(n.name).unwrap();
            let name = if name.is_empty() { "/" } else { name };
            let props = n
                .props
                .iter()
                .map(|p| {
                    (
                        String::from(core::str::from_utf8(p.name).unwrap()),
                        p.value.to_vec(),
                    )
                })
                .collect();
            (String::from(name), props)
        })
        .collect();
    assert_eq!(ours, names);
    assert_eq!(dtb.reservations().unwrap(), [(0, 0x1000)]);
}

#[test]
fn reg_goes_through_ranges() {
    let blob = pi_like();
    let dtb = Dtb::new(&blob).unwrap();
    let nodes = dtb.nodes().unwrap();
    let reg = |path: &[u8]| Dtb::reg(&nodes, Dtb::find(&nodes, path).unwrap());
    assert_eq!(reg(b"/memory@0"), [(0, 0x3b40_0000)]);
    assert_eq!(reg(b"/soc/serial@7e201000"), [(0xfe20_1000, 0x200)]);
    assert_eq!(
        reg(b"/soc/serial"),
        [(0xfe20_1000, 0x200)],
        "by name without unit address"
    );
    // Through an identity bus, then /soc's window; the second entry
    // starts where the window ends, so it is outside.
    assert_eq!(
        reg(b"/soc/bus@7e300000/dev@7e300100"),
        [(0xfe30_0100, 0x10)]
    );
    // A bus without `ranges` cannot be translated.
    assert_eq!(reg(b"/soc/closed/hidden@10"), []);
    assert!(Dtb::find(&nodes, b"/soc/nothing").is_none());
    let chosen = Dtb::find(&nodes, b"/chosen").unwrap();
    assert_eq!(
        chosen.prop(b"stdout-path").unwrap().value,
        b"serial0:115200n8\0"
    );
}

#[test]
fn bad_blobs_are_errors() {
    let blob = pi_like();
    assert_eq!(Dtb::new(&blob[1..]).unwrap_err(), DtbError::BadMagic);
    // Every truncation: an error (the header's total size is past the end
    // or the walk runs out), never a panic.
    for cut in 0..blob.len() {
        assert!(
            Dtb::new(&blob[..cut]).and_then(|d| d.nodes()).is_err(),
            "cut {cut}"
        );
    }
    let mut old = blob.clone();
    old[20..24].copy_from_slice(&15u32.to_be_bytes());
    assert_eq!(Dtb::new(&old).unwrap_err(), DtbError::BadVersion);
    // An unknown token at the start of the structure block.
    let mut bad = blob.clone();
    let s_off = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
    bad[s_off..s_off + 4].copy_from_slice(&7u32.to_be_bytes());
    assert_eq!(
        Dtb::new(&bad).unwrap().nodes().unwrap_err(),
        DtbError::BadStructure
    );
}

proptest! {
    /// Any byte changed anywhere: the reader answers (with the tree or an
    /// error) and never panics; `reg` of every node too.
    #[test]
    fn corrupted_blobs_never_panic(at in 0usize..4096, byte in any::<u8>(), nops in any::<bool>()) {
        let mut blob = if nops { with_nops(&pi_like()) } else { pi_like() };
        let at = at % blob.len();
        blob[at] = byte;
        if let Ok(dtb) = Dtb::new(&blob) {
            let _ = dtb.reservations();
            if let Ok(nodes) = dtb.nodes() {
                for n in &nodes {
                    let _ = Dtb::reg(&nodes, n);
                }
            }
        }
    }
}
