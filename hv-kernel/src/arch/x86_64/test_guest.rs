//! hv's built-in SVM test guest (`test_guest.s`), run at every boot on a
//! CPU with SVM: it proves VMRUN, nested paging, I/O exits and MMIO
//! emulation through hv-core's instruction decoder end to end, before
//! the x86 image runs real guests.

use super::svm::{Gprs, HostSvm};
use crate::arch::tables::{PoolKind, TablePool};
use crate::console;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use hv_core::arch::x86_64::mmio_insn::{self, CpuMode, MmioAccess, Regs, Segment, MAX_LEN};
use hv_core::arch::x86_64::svm::{self, ctrl, misc1, misc2, save, Exit, IoExit, Seg, Vmcb};
use hv_core::devices::pl011::CharSink;
use hv_core::devices::uart16550::Uart16550;
use hv_core::mem::{GuestMemory, GuestRam, RamRegion};
use hv_core::mmio::{AccessWidth, MmioBus, MmioDevice};
use hv_core::paging::x86_64::Npt;
use hv_core::paging::{Attrs, PageTable};
use hv_core::pio::PioBus;
use hv_core::{GuestAddress, PhysAddr};

core::arch::global_asm!(include_str!("test_guest.s"), options(att_syntax));

extern "C" {
    /// First byte of the guest's code (test_guest.s).
    static hv_test_guest: u8;
    /// One past its last byte.
    static hv_test_guest_end: u8;
}

/// Guest RAM: 2 MiB at guest-physical 0, one nested 2 MiB page.
const RAM_SIZE: usize = 2 << 20;
/// Where the code is loaded and entered.
const LOAD: u64 = 0x1000;
/// The device register the guest uses (4 bytes, not RAM).
const SCRATCH: u64 = 0xfebf_0000;
const COM1: u16 = 0x3f8;
/// The guest writes what it read back here (32-bit OUT).
const REPORT_PORT: u16 = 0xf0;
/// The guest needs a few dozen exits; a loop is a failure.
const MAX_EXITS: u32 = 10_000;
/// CR0.PE | CR0.ET: protected mode, paging off.
const CR0_PE_ET: u64 = 0x11;

#[repr(C, align(0x200000))]
struct Ram(UnsafeCell<[u8; RAM_SIZE]>);

// SAFETY: the area is handed to one GuestRam, once (guarded by TAKEN),
// and reached only through it and by the guest.
unsafe impl Sync for Ram {}

static RAM: Ram = Ram(UnsafeCell::new([0; RAM_SIZE]));
static TAKEN: AtomicBool = AtomicBool::new(false);

/// An I/O or MSR permission map: every bit set, so every port and MSR
/// access exits.
#[repr(C, align(4096))]
struct AllIntercepted<const N: usize>([u8; N]);

/// What the test guest did.
#[derive(Debug, Default)]
pub struct Report {
    /// Exits taken.
    pub exits: u32,
    /// Of them, I/O exits.
    pub io: u32,
    /// Of them, emulated MMIO accesses.
    pub mmio: u32,
    /// The values the guest wrote to the report port.
    pub reported: Vec<u32>,
}

fn guest_code() -> &'static [u8] {
    // SAFETY: the two symbols bound the guest's bytes in .rodata
    // (test_guest.s), the first before the second; the bytes are never
    // written.
    unsafe {
        let start = core::ptr::addr_of!(hv_test_guest);
        let end = core::ptr::addr_of!(hv_test_guest_end);
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    }
}

/// The guest's RAM, and its physical address; `None` after the first call.
fn take_ram() -> Option<(GuestRam, u64)> {
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    let host = NonNull::new(RAM.0.get().cast::<u8>())?;
    // SAFETY: the area is static, RAM_SIZE bytes, 2 MiB aligned, and from
    // here on only reached through this GuestRam and by the guest (TAKEN
    // makes this the only call that gets here).
    let region = unsafe { RamRegion::from_host(GuestAddress(0), RAM_SIZE as u64, host) }.ok()?;
    Some((GuestRam::new(vec![region]).ok()?, host.as_ptr() as u64))
}

/// The guest's UART output, onto hv's console.
struct ToConsole;

impl CharSink for ToConsole {
    fn put(&mut self, byte: u8) {
        console::print(format_args!("{}", char::from(byte)));
    }
}

/// Port 0xf0: the 32-bit values the guest reports, kept for the boot log.
struct ReportPort(Arc<spin::Mutex<Vec<u32>>>);

impl MmioDevice for ReportPort {
    fn read(&mut self, _offset: u64, _width: AccessWidth) -> u64 {
        0
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        if offset == 0 && width == AccessWidth::Word {
            self.0.lock().push(value as u32);
        }
    }
}

/// A 4-byte read/write device register; other offsets and widths that
/// do not fit read as 0 and ignore writes.
struct Scratch(u32);

impl MmioDevice for Scratch {
    fn read(&mut self, offset: u64, w: AccessWidth) -> u64 {
        if offset + w.bytes() > 4 {
            return 0;
        }
        (u64::from(self.0) >> (8 * offset)) & w.mask()
    }

    fn write(&mut self, offset: u64, w: AccessWidth, v: u64) {
        if offset + w.bytes() > 4 {
            return;
        }
        let shift = 8 * offset;
        let mask = w.mask() << shift;
        self.0 = ((u64::from(self.0) & !mask) | ((v << shift) & mask)) as u32;
    }
}

/// The faulting access, on the MMIO bus, for the instruction emulator.
struct OnBus<'a> {
    bus: &'a mut MmioBus,
    gpa: u64,
}

impl MmioAccess for OnBus<'_> {
    type Error = String;

    fn read(&mut self, w: AccessWidth) -> Result<u64, String> {
        self.bus
            .read(GuestAddress(self.gpa), w)
            .map_err(|e| format!("{e}"))
    }

    fn write(&mut self, w: AccessWidth, v: u64) -> Result<(), String> {
        self.bus
            .write(GuestAddress(self.gpa), w, v)
            .map_err(|e| format!("{e}"))
    }

    fn read_virt(&mut self, _: Segment, _: u64, _: AccessWidth) -> Result<u64, String> {
        Err("MOVS on MMIO is not emulated yet".into())
    }

    fn write_virt(&mut self, _: u64, _: AccessWidth, _: u64) -> Result<(), String> {
        Err("MOVS on MMIO is not emulated yet".into())
    }
}

/// The guest's VMCB: 32-bit flat protected mode at `LOAD`, nested paging
/// with `npt_root`, every I/O port, MSR, HLT, CPUID and interrupt
/// intercepted.
fn vmcb(npt_root: u64, iopm: u64, msrpm: u64) -> Box<Vmcb> {
    let mut v = Box::<Vmcb>::default();
    v.set_u32(
        ctrl::INTERCEPT_MISC1,
        misc1::INTR
            | misc1::NMI
            | misc1::CPUID
            | misc1::HLT
            | misc1::IOIO_PROT
            | misc1::MSR_PROT
            | misc1::SHUTDOWN,
    );
    v.set_u32(
        ctrl::INTERCEPT_MISC2,
        misc2::VMRUN | misc2::VMMCALL | misc2::SVM_INSNS,
    );
    v.set_u64(ctrl::IOPM_BASE_PA, iopm);
    v.set_u64(ctrl::MSRPM_BASE_PA, msrpm);
    v.set_u32(ctrl::ASID, 1);
    v.set_u8(ctrl::TLB_CONTROL, svm::TLB_FLUSH_ALL);
    v.set_u32(ctrl::INT_CTL, svm::V_INTR_MASKING);
    v.set_u64(ctrl::MISC_CTL, svm::NP_ENABLE);
    v.set_u64(ctrl::N_CR3, npt_root);
    v.set_seg(save::CS, Seg::flat32(0x08, true));
    for s in [save::DS, save::ES, save::SS, save::FS, save::GS] {
        v.set_seg(s, Seg::flat32(0x10, false));
    }
    let table = Seg {
        limit: 0xffff,
        ..Seg::default()
    };
    v.set_seg(save::GDTR, table);
    v.set_seg(save::IDTR, table);
    v.set_seg(save::LDTR, Seg::system(0x2, 0xffff));
    v.set_seg(save::TR, Seg::system(0xB, 0x67));
    v.set_u64(save::EFER, svm::EFER_SVME);
    v.set_u64(save::CR0, CR0_PE_ET);
    v.set_u64(save::RFLAGS, 0x2);
    v.set_u64(save::RIP, LOAD);
    v.set_u64(save::DR6, 0xffff_0ff0);
    v.set_u64(save::DR7, 0x400);
    v.set_u64(save::G_PAT, svm::DEFAULT_PAT);
    v
}

/// Run the test guest to its HLT.
pub fn run(svm: &mut HostSvm) -> Result<Report, String> {
    let (ram, ram_pa) = take_ram().ok_or("the test guest's RAM is already in use")?;
    ram.write(GuestAddress(LOAD), guest_code())
        .map_err(|e| format!("loading the test guest: {e:?}"))?;
    let pool = TablePool::take(PoolKind::Guest).ok_or("the guest table pool is taken")?;
    let mut npt = PageTable::<Npt, TablePool>::new(4, pool)
        .map_err(|e| format!("nested page tables: {e:?}"))?;
    npt.map(
        GuestAddress(0),
        PhysAddr(ram_pa),
        RAM_SIZE as u64,
        Attrs::RWX,
    )
    .map_err(|e| format!("mapping guest RAM: {e:?}"))?;
    let iopm = Box::new(AllIntercepted([0xff; svm::IOPM_BYTES]));
    let msrpm = Box::new(AllIntercepted([0xff; svm::MSRPM_BYTES]));
    let mut vmcb = vmcb(
        npt.root().raw(),
        &*iopm as *const _ as u64,
        &*msrpm as *const _ as u64,
    );
    let mut gprs = Gprs::default();
    let reported = Arc::new(spin::Mutex::new(Vec::new()));
    let mut pio = PioBus::new();
    let mut mmio = MmioBus::new();
    pio.insert(COM1, 8, Box::new(Uart16550::new(ToConsole)))
        .and_then(|()| pio.insert(REPORT_PORT, 4, Box::new(ReportPort(reported.clone()))))
        .and_then(|()| mmio.insert(GuestAddress(SCRATCH), 4, Box::new(Scratch(0))))
        .map_err(|e| format!("devices: {e}"))?;
    let mut report = Report::default();
    while report.exits < MAX_EXITS {
        let exit = svm.run(&mut vmcb, &mut gprs);
        report.exits += 1;
        vmcb.set_u8(ctrl::TLB_CONTROL, 0);
        match exit {
            Exit::Io(io) if !io.string => {
                port_io(&mut pio, &mut vmcb, io);
                report.io += 1;
            }
            Exit::Npf(f) if f.final_address && !f.fetch => {
                let mut on_bus = OnBus {
                    bus: &mut mmio,
                    gpa: f.gpa,
                };
                emulate_mmio(&ram, &mut vmcb, &mut gprs, &mut on_bus)
                    .map_err(|e| format!("MMIO at {:#x}: {e}", f.gpa))?;
                report.mmio += 1;
            }
            Exit::Hlt => {
                report.reported = reported.lock().clone();
                return Ok(report);
            }
            // The host's interrupts stay masked; nothing to service.
            Exit::Intr => {}
            other => {
                return Err(format!(
                    "unexpected exit {other:?} at RIP {:#x}",
                    vmcb.u64(save::RIP)
                ))
            }
        }
    }
    Err(format!(
        "the test guest did not halt within {MAX_EXITS} exits"
    ))
}

/// IN or OUT through the port-I/O bus: IN AL and AX keep the rest of
/// RAX, IN EAX zero-extends (as the CPU writes registers).
fn port_io(pio: &mut PioBus, vmcb: &mut Vmcb, io: IoExit) {
    let width = AccessWidth::from_bytes(u64::from(io.size)).unwrap_or(AccessWidth::Byte);
    let rax = vmcb.u64(save::RAX);
    if io.input {
        let v = pio.read(io.port, width);
        let keep = match io.size {
            1 => !0xff,
            2 => !0xffff,
            _ => 0,
        };
        vmcb.set_u64(save::RAX, (rax & keep) | v);
    } else if !pio.write(io.port, width, rax & width.mask()) {
        log::debug!("test guest: OUT to unclaimed port {:#x}", io.port);
    }
    vmcb.set_u64(save::RIP, io.next_rip);
}

/// Emulate the instruction at the guest's RIP against `dev`: fetch its
/// bytes (paging is off, so the linear address is guest-physical),
/// decode, run it on the guest's registers.
fn emulate_mmio(
    ram: &GuestRam,
    vmcb: &mut Vmcb,
    gprs: &mut Gprs,
    dev: &mut OnBus<'_>,
) -> Result<(), String> {
    let cs = vmcb.seg(save::CS);
    if vmcb.u64(save::CR0) & (1 << 31) != 0 {
        return Err("MMIO from a guest with paging on needs a guest page walk".into());
    }
    if cs.attrib & (1 << 10) == 0 {
        return Err("MMIO from 16-bit guest code is not emulated".into());
    }
    let rip = vmcb.u64(save::RIP);
    let at = cs.base.wrapping_add(rip) & 0xffff_ffff;
    let n = (RAM_SIZE as u64).saturating_sub(at).min(MAX_LEN as u64) as usize;
    let mut bytes = [0u8; MAX_LEN];
    ram.read(GuestAddress(at), &mut bytes[..n])
        .map_err(|e| format!("fetching the instruction at {at:#x}: {e:?}"))?;
    let insn = mmio_insn::decode(&bytes[..n], CpuMode::Protected32)
        .map_err(|e| format!("instruction at RIP {rip:#x}: {e}"))?;
    let mut regs = Regs {
        gpr: gprs.0,
        rip,
        rflags: vmcb.u64(save::RFLAGS),
    };
    regs.gpr[0] = vmcb.u64(save::RAX);
    regs.gpr[4] = vmcb.u64(save::RSP);
    insn.emulate(&mut regs, dev)?;
    gprs.0 = regs.gpr;
    vmcb.set_u64(save::RAX, regs.gpr[0]);
    vmcb.set_u64(save::RSP, regs.gpr[4]);
    vmcb.set_u64(save::RIP, regs.rip);
    vmcb.set_u64(save::RFLAGS, regs.rflags);
    Ok(())
}
