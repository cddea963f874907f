//! AMD SVM: the VMCB's layout and what a #VMEXIT reports (AMD64 APM vol. 2,
//! chapter 15 and appendix B), as plain data so both the hypervisor and
//! host tests use one copy.
//!
//! The VMCB is a 4 KiB page the CPU reads and writes by physical address;
//! here it is a byte array with typed accessors at the architectural
//! offsets, so building and reading one needs no `unsafe`.

use core::fmt;

/// Control-area offsets.
pub mod ctrl {
    /// Intercept words: CR reads (bits 15:0) and writes (31:16).
    pub const INTERCEPT_CR: usize = 0x000;
    /// Intercept word 3 (INTR, NMI, ..., HLT, IOIO, MSR, SHUTDOWN).
    pub const INTERCEPT_MISC1: usize = 0x00C;
    /// Intercept word 4 (VMRUN, VMMCALL, ...).
    pub const INTERCEPT_MISC2: usize = 0x010;
    /// Physical address of the I/O permission map (12 KiB).
    pub const IOPM_BASE_PA: usize = 0x040;
    /// Physical address of the MSR permission map (8 KiB).
    pub const MSRPM_BASE_PA: usize = 0x048;
    /// The guest's ASID (u32; 0 is the host's and refused).
    pub const ASID: usize = 0x058;
    /// TLB control (u8).
    pub const TLB_CONTROL: usize = 0x05C;
    /// Virtual interrupt control (V_TPR, V_IRQ, V_INTR_MASKING, ...).
    pub const INT_CTL: usize = 0x060;
    /// Bit 0: the guest is in an interrupt shadow (after STI or MOV SS).
    pub const INT_STATE: usize = 0x068;
    /// The exit code.
    pub const EXIT_CODE: usize = 0x070;
    /// Exit information 1.
    pub const EXIT_INFO1: usize = 0x078;
    /// Exit information 2.
    pub const EXIT_INFO2: usize = 0x080;
    /// An event the exit interrupted (u32 info, u32 error code).
    pub const EXIT_INT_INFO: usize = 0x088;
    /// Bit 0: nested paging enable.
    pub const MISC_CTL: usize = 0x090;
    /// Event to inject on the next VMRUN (u32 info, u32 error code).
    pub const EVENT_INJ: usize = 0x0A8;
    /// Nested page table root (N_CR3).
    pub const N_CR3: usize = 0x0B0;
    /// VMCB clean bits (u32).
    pub const CLEAN: usize = 0x0C0;
    /// The next RIP, where the CPU offers NRIPS.
    pub const NEXT_RIP: usize = 0x0C8;
}

/// State-save-area offsets (from the VMCB's start).
pub mod save {
    /// ES; the other segments follow at 16-byte steps (see [`super::Seg`]).
    pub const ES: usize = 0x400;
    /// CS.
    pub const CS: usize = 0x410;
    /// SS.
    pub const SS: usize = 0x420;
    /// DS.
    pub const DS: usize = 0x430;
    /// FS.
    pub const FS: usize = 0x440;
    /// GS.
    pub const GS: usize = 0x450;
    /// GDTR (base and limit only).
    pub const GDTR: usize = 0x460;
    /// LDTR.
    pub const LDTR: usize = 0x470;
    /// IDTR (base and limit only).
    pub const IDTR: usize = 0x480;
    /// TR.
    pub const TR: usize = 0x490;
    /// Current privilege level (u8).
    pub const CPL: usize = 0x4CB;
    /// EFER.
    pub const EFER: usize = 0x4D0;
    /// CR4.
    pub const CR4: usize = 0x548;
    /// CR3.
    pub const CR3: usize = 0x550;
    /// CR0.
    pub const CR0: usize = 0x558;
    /// DR7.
    pub const DR7: usize = 0x560;
    /// DR6.
    pub const DR6: usize = 0x568;
    /// RFLAGS.
    pub const RFLAGS: usize = 0x570;
    /// RIP.
    pub const RIP: usize = 0x578;
    /// RSP.
    pub const RSP: usize = 0x5D8;
    /// RAX.
    pub const RAX: usize = 0x5F8;
    /// CR2.
    pub const CR2: usize = 0x640;
    /// The guest's PAT (used with nested paging).
    pub const G_PAT: usize = 0x668;
}

/// Intercept bits of word 3 ([`ctrl::INTERCEPT_MISC1`]).
pub mod misc1 {
    /// Physical interrupts.
    pub const INTR: u32 = 1 << 0;
    /// NMI.
    pub const NMI: u32 = 1 << 1;
    /// The guest became able to take the virtual interrupt V_IRQ offers
    /// (the interrupt window).
    pub const VINTR: u32 = 1 << 4;
    /// CPUID.
    pub const CPUID: u32 = 1 << 18;
    /// HLT.
    pub const HLT: u32 = 1 << 24;
    /// IN/OUT, through the I/O permission map.
    pub const IOIO_PROT: u32 = 1 << 27;
    /// RDMSR/WRMSR, through the MSR permission map.
    pub const MSR_PROT: u32 = 1 << 28;
    /// Shutdown (triple fault).
    pub const SHUTDOWN: u32 = 1 << 31;
}

/// Intercept bits of word 4 ([`ctrl::INTERCEPT_MISC2`]).
pub mod misc2 {
    /// VMRUN (required: VMRUN refuses a VMCB without it).
    pub const VMRUN: u32 = 1 << 0;
    /// VMMCALL.
    pub const VMMCALL: u32 = 1 << 1;
    /// VMLOAD, VMSAVE, STGI, CLGI, SKINIT (bits 2..=6).
    pub const SVM_INSNS: u32 = 0x1f << 2;
}

/// [`ctrl::INT_CTL`]: a virtual interrupt is pending (with the VINTR
/// intercept: exit as soon as the guest could take it).
pub const V_IRQ: u32 = 1 << 8;
/// [`ctrl::INT_CTL`]: physical interrupts are masked by the host's
/// RFLAGS.IF (not the guest's) while the guest runs.
pub const V_INTR_MASKING: u32 = 1 << 24;
/// [`ctrl::MISC_CTL`]: nested paging.
pub const NP_ENABLE: u64 = 1 << 0;
/// [`ctrl::TLB_CONTROL`]: flush the whole TLB on VMRUN.
pub const TLB_FLUSH_ALL: u8 = 1;
/// EFER.SVME: must be set in the guest's EFER too.
pub const EFER_SVME: u64 = 1 << 12;
/// The PAT's power-on value (WB, WT, UC-, UC, repeated).
pub const DEFAULT_PAT: u64 = 0x0007_0406_0007_0406;
/// Size of the I/O permission map (one bit per port, plus a spill page).
pub const IOPM_BYTES: usize = 12 * 1024;
/// Size of the MSR permission map.
pub const MSRPM_BYTES: usize = 8 * 1024;

/// Where MSR `msr`'s two intercept bits (read, then write) sit in the MSR
/// permission map: (byte offset, bit of the read intercept). The map
/// covers three ranges of 8,192 MSRs, 2 KiB each (AMD APM vol. 2,
/// 15.11): 0000_0000h at offset 0, C000_0000h at 800h, C001_0000h at
/// 1000h. None for an MSR outside them (always intercepted).
pub fn msrpm_position(msr: u32) -> Option<(usize, u8)> {
    let (base, first) = match msr {
        0x0000_0000..=0x0000_1fff => (0x000, 0x0000_0000),
        0xc000_0000..=0xc000_1fff => (0x800, 0xc000_0000),
        0xc001_0000..=0xc001_1fff => (0x1000, 0xc001_0000),
        _ => return None,
    };
    let bit = 2 * (msr - first) as usize;
    Some((base + bit / 8, (bit % 8) as u8))
}

/// MSRs whose guest values live in the VMCB (VMRUN swaps FS/GS base;
/// VMLOAD/VMSAVE the rest), so a guest may read and write them directly:
/// FS_BASE, GS_BASE, KERNEL_GS_BASE, the SYSCALL MSRs (STAR, LSTAR,
/// CSTAR, SFMASK) and the SYSENTER MSRs. 64-bit Linux writes GS_BASE in
/// its first instructions.
pub const VMCB_HELD_MSRS: [u32; 10] = [
    0xc000_0100,
    0xc000_0101,
    0xc000_0102,
    0xc000_0081,
    0xc000_0082,
    0xc000_0083,
    0xc000_0084,
    0x0000_0174,
    0x0000_0175,
    0x0000_0176,
];

/// A segment register in the save area: selector, attributes (type,
/// S, DPL, P, AVL, L, D/B, G packed into 12 bits), limit, base.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seg {
    /// Selector.
    pub selector: u16,
    /// Packed attributes.
    pub attrib: u16,
    /// Limit (in bytes, already scaled by G).
    pub limit: u32,
    /// Base.
    pub base: u64,
}

impl Seg {
    /// A flat (base 0, 4 GiB) ring-0 segment: 32-bit code (execute/read)
    /// when `code`, else read/write data.
    pub const fn flat32(selector: u16, code: bool) -> Seg {
        // Type (accessed), S, P, D/B, G.
        let ty = if code { 0xB } else { 0x3 };
        Seg {
            selector,
            attrib: ty | 1 << 4 | 1 << 7 | 1 << 10 | 1 << 11,
            limit: 0xffff_ffff,
            base: 0,
        }
    }

    /// A real-mode segment for `selector`: base selector * 16, 64 KiB,
    /// present, ring 0, code (execute/read) when `code`, else data
    /// (read/write); what INIT and a start-up IPI leave in a CPU.
    pub const fn real_mode(selector: u16, code: bool) -> Seg {
        let ty = if code { 0xB } else { 0x3 };
        Seg {
            selector,
            attrib: ty | 1 << 4 | 1 << 7,
            limit: 0xffff,
            base: (selector as u64) << 4,
        }
    }

    /// A present system segment of `ty` (e.g. 0xB busy 32/64-bit TSS,
    /// 0x2 LDT) with `limit`.
    pub const fn system(ty: u16, limit: u32) -> Seg {
        Seg {
            selector: 0,
            attrib: ty | 1 << 7,
            limit,
            base: 0,
        }
    }
}

/// A VMCB: 4 KiB, page aligned, little-endian fields at the offsets above.
#[repr(C, align(4096))]
pub struct Vmcb(pub [u8; 4096]);

impl Default for Vmcb {
    fn default() -> Self {
        Vmcb([0; 4096])
    }
}

impl fmt::Debug for Vmcb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vmcb")
            .field("exit_code", &self.u64(ctrl::EXIT_CODE))
            .field("rip", &self.u64(save::RIP))
            .finish()
    }
}

impl Vmcb {
    /// The `N` bytes at `at` (zero past the page, which no offset here
    /// reaches).
    fn get<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut b = [0; N];
        if let Some(s) = self.0.get(at..at + N) {
            b.copy_from_slice(s);
        }
        b
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        if let Some(d) = self.0.get_mut(at..at + bytes.len()) {
            d.copy_from_slice(bytes);
        }
    }

    /// The u64 at `at`.
    pub fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.get(at))
    }

    /// Set the u64 at `at`.
    pub fn set_u64(&mut self, at: usize, v: u64) {
        self.put(at, &v.to_le_bytes());
    }

    /// The u32 at `at`.
    pub fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.get(at))
    }

    /// Set the u32 at `at`.
    pub fn set_u32(&mut self, at: usize, v: u32) {
        self.put(at, &v.to_le_bytes());
    }

    /// Set the byte at `at`.
    pub fn set_u8(&mut self, at: usize, v: u8) {
        self.put(at, &[v]);
    }

    /// The segment at `at` (one of the [`save`] segment offsets).
    pub fn seg(&self, at: usize) -> Seg {
        Seg {
            selector: u16::from_le_bytes(self.get(at)),
            attrib: u16::from_le_bytes(self.get(at + 2)),
            limit: u32::from_le_bytes(self.get(at + 4)),
            base: u64::from_le_bytes(self.get(at + 8)),
        }
    }

    /// Set the segment at `at`.
    pub fn set_seg(&mut self, at: usize, s: Seg) {
        self.put(at, &s.selector.to_le_bytes());
        self.put(at + 2, &s.attrib.to_le_bytes());
        self.put(at + 4, &s.limit.to_le_bytes());
        self.put(at + 8, &s.base.to_le_bytes());
    }

    /// What the last #VMEXIT reported.
    pub fn exit(&self) -> Exit {
        Exit::decode(
            self.u64(ctrl::EXIT_CODE),
            self.u64(ctrl::EXIT_INFO1),
            self.u64(ctrl::EXIT_INFO2),
        )
    }
}

/// What kind of event [`event_inj`] injects (EVENTINJ.TYPE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An external interrupt (from the guest's interrupt controller).
    ExternalInterrupt = 0,
    /// NMI.
    Nmi = 2,
    /// A fault or trap (vector 0-31).
    Exception = 3,
    /// A software interrupt (INTn).
    SoftwareInterrupt = 4,
}

/// The [`ctrl::EVENT_INJ`] value that makes the next VMRUN deliver
/// `vector` of `kind` to the guest, with `error` pushed as its error code
/// (exceptions that have one: #DF, #TS, #NP, #SS, #GP, #PF, #AC).
pub fn event_inj(vector: u8, kind: EventKind, error: Option<u32>) -> u64 {
    let mut v = u64::from(vector) | ((kind as u64) << 8) | (1 << 31);
    if let Some(e) = error {
        v |= (1 << 11) | (u64::from(e) << 32);
    }
    v
}

/// Exit codes (APM vol. 2, appendix C).
pub mod code {
    /// Physical interrupt.
    pub const INTR: u64 = 0x60;
    /// The interrupt window opened (VINTR intercept).
    pub const VINTR: u64 = 0x64;
    /// CPUID.
    pub const CPUID: u64 = 0x72;
    /// HLT.
    pub const HLT: u64 = 0x78;
    /// IN/OUT/INS/OUTS.
    pub const IOIO: u64 = 0x7B;
    /// RDMSR/WRMSR.
    pub const MSR: u64 = 0x7C;
    /// Shutdown.
    pub const SHUTDOWN: u64 = 0x7F;
    /// VMRUN.
    pub const VMRUN: u64 = 0x80;
    /// VMMCALL.
    pub const VMMCALL: u64 = 0x81;
    /// Nested page fault.
    pub const NPF: u64 = 0x400;
    /// The VMCB failed VMRUN's consistency checks.
    pub const INVALID: u64 = u64::MAX;
}

/// An I/O instruction the guest ran (EXITINFO1 of an IOIO exit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoExit {
    /// Port.
    pub port: u16,
    /// 1, 2 or 4 bytes.
    pub size: u8,
    /// IN (else OUT).
    pub input: bool,
    /// INS/OUTS.
    pub string: bool,
    /// With REP.
    pub rep: bool,
    /// The instruction after it (EXITINFO2).
    pub next_rip: u64,
}

/// A nested page fault (EXITINFO1 is a page-fault error code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NpfExit {
    /// The guest-physical address.
    pub gpa: u64,
    /// The entry was present (a permission fault, else not mapped).
    pub present: bool,
    /// A write.
    pub write: bool,
    /// An instruction fetch.
    pub fetch: bool,
    /// Faulted on the final guest-physical address (bit 32), not while
    /// walking the guest's own page tables (bit 33).
    pub final_address: bool,
}

/// Why the guest stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// A physical interrupt is pending for the host.
    Intr,
    /// The guest can take an interrupt now (the window hv asked for).
    Vintr,
    /// CPUID (leaf in the guest's RAX).
    Cpuid,
    /// HLT.
    Hlt,
    /// IN/OUT.
    Io(IoExit),
    /// RDMSR (`write` false) or WRMSR.
    Msr {
        /// WRMSR.
        write: bool,
    },
    /// Triple fault.
    Shutdown,
    /// VMMCALL.
    Vmmcall,
    /// Nested page fault.
    Npf(NpfExit),
    /// VMRUN refused the VMCB.
    Invalid,
    /// Anything else, with its code.
    Other(u64),
}

impl Exit {
    /// Decode an exit from its code and information fields.
    pub fn decode(code: u64, info1: u64, info2: u64) -> Exit {
        match code {
            code::INTR => Exit::Intr,
            code::VINTR => Exit::Vintr,
            code::CPUID => Exit::Cpuid,
            code::HLT => Exit::Hlt,
            code::IOIO => Exit::Io(IoExit {
                port: (info1 >> 16) as u16,
                // SZ8, SZ16, SZ32 are one-hot bits 4..6.
                size: match (info1 >> 4) & 7 {
                    1 => 1,
                    2 => 2,
                    _ => 4,
                },
                input: info1 & 1 != 0,
                string: info1 & (1 << 2) != 0,
                rep: info1 & (1 << 3) != 0,
                next_rip: info2,
            }),
            code::MSR => Exit::Msr { write: info1 == 1 },
            code::SHUTDOWN => Exit::Shutdown,
            code::VMMCALL => Exit::Vmmcall,
            code::NPF => Exit::Npf(NpfExit {
                gpa: info2,
                present: info1 & 1 != 0,
                write: info1 & 2 != 0,
                fetch: info1 & (1 << 4) != 0,
                final_address: info1 & (1 << 32) != 0,
            }),
            code::INVALID => Exit::Invalid,
            other => Exit::Other(other),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn real_mode_segments_are_what_a_sipi_leaves() {
        // SIPI vector 0x9a: CS = 0x9a00, base 0x9a000, 64 KiB, and the
        // attribute bytes of an accessed code (0x9b) and data (0x93)
        // descriptor (APM vol. 2, 15.5.1 packs them as in the descriptor).
        let cs = super::Seg::real_mode(0x9a00, true);
        assert_eq!((cs.base, cs.limit, cs.attrib), (0x9a000, 0xffff, 0x9b));
        assert_eq!(super::Seg::real_mode(0, false).attrib, 0x93);
    }

    #[test]
    fn msrpm_positions_follow_the_apm_layout() {
        // APM 15.11: MSR 0 is bits 0-1 of byte 0; C000_0080h (EFER) is in
        // the second 2 KiB at bits 256-257, so byte 0x820, bit 0.
        assert_eq!(msrpm_position(0), Some((0, 0)));
        assert_eq!(msrpm_position(3), Some((0, 6)));
        assert_eq!(msrpm_position(0x1fff), Some((0x7ff, 6)));
        assert_eq!(msrpm_position(0xc000_0080), Some((0x820, 0)));
        assert_eq!(msrpm_position(0xc000_0101), Some((0x840, 2)));
        assert_eq!(msrpm_position(0xc001_0000), Some((0x1000, 0)));
        assert_eq!(msrpm_position(0xc001_1fff), Some((0x17ff, 6)));
        for outside in [0x2000, 0xbfff_ffff, 0xc000_2000, 0xc001_2000, u32::MAX] {
            assert_eq!(msrpm_position(outside), None, "{outside:#x}");
        }
        // Every position is inside the map.
        for msr in VMCB_HELD_MSRS {
            let (byte, bit) = msrpm_position(msr).unwrap();
            assert!(byte < MSRPM_BYTES && bit % 2 == 0);
        }
    }

    use super::*;

    #[test]
    fn fields_land_at_the_architectural_offsets() {
        let mut v = Vmcb::default();
        v.set_u64(save::RIP, 0x1122_3344_5566_7788);
        assert_eq!(v.0[0x578..0x580], 0x1122_3344_5566_7788u64.to_le_bytes());
        v.set_seg(save::CS, Seg::flat32(8, true));
        // selector, attrib 0xc9b, limit, base: as KVM's vmcb_seg packs them.
        assert_eq!(
            v.0[0x410..0x420],
            [8, 0, 0x9b, 0x0c, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(v.seg(save::CS), Seg::flat32(8, true));
        assert_eq!(Seg::flat32(0x10, false).attrib, 0xc93);
        v.set_u32(ctrl::ASID, 1);
        assert_eq!(v.0[0x58..0x5c], [1, 0, 0, 0]);
        assert_eq!(v.u32(ctrl::ASID), 1);
    }

    #[test]
    fn injected_events_encode_as_the_apm_says() {
        // #GP(0): vector 13, type 3, error code valid, valid.
        assert_eq!(event_inj(13, EventKind::Exception, Some(0)), 0x8000_0b0d);
        assert_eq!(
            event_inj(14, EventKind::Exception, Some(0x6)),
            0x0000_0006_8000_0b0e
        );
        // An external interrupt, vector 0x30, no error code.
        assert_eq!(
            event_inj(0x30, EventKind::ExternalInterrupt, None),
            0x8000_0030
        );
        assert_eq!(event_inj(2, EventKind::Nmi, None), 0x8000_0202);
    }

    #[test]
    fn io_and_npf_exits_decode() {
        // out dx, al to 0x3f8: port in 31:16, SZ8, OUT.
        let e = Exit::decode(code::IOIO, 0x03f8_0010, 0x1005);
        assert_eq!(
            e,
            Exit::Io(IoExit {
                port: 0x3f8,
                size: 1,
                input: false,
                string: false,
                rep: false,
                next_rip: 0x1005
            })
        );
        // rep insw from 0x1f0.
        let Exit::Io(io) = Exit::decode(code::IOIO, 0x01f0_002d, 0) else {
            panic!("not I/O");
        };
        assert_eq!(
            (io.size, io.input, io.string, io.rep),
            (2, true, true, true)
        );
        // A write to an unmapped final GPA.
        let e = Exit::decode(code::NPF, (1 << 32) | 0x6, 0xfebf_0000);
        assert_eq!(
            e,
            Exit::Npf(NpfExit {
                gpa: 0xfebf_0000,
                present: false,
                write: true,
                fetch: false,
                final_address: true
            })
        );
        assert_eq!(Exit::decode(code::INVALID, 0, 0), Exit::Invalid);
        assert_eq!(Exit::decode(0x64, 0, 0), Exit::Vintr);
        assert_eq!(Exit::decode(0x41, 0, 0), Exit::Other(0x41));
    }
}
