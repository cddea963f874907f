//! hv's built-in SVM test guest (`test_guest.s`), run at every boot on a
//! CPU with SVM: it proves VMRUN, nested paging, I/O exits and MMIO
//! emulation through hv-core's instruction decoder end to end, before
//! the x86 image runs real guests.

use super::guest::{Outcome, StaticRam, Stats, X86Guest};
use super::svm::HostSvm;
use crate::console;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use hv_core::devices::pl011::CharSink;
use hv_core::devices::uart16550::Uart16550;
use hv_core::mem::GuestMemory;
use hv_core::mmio::{AccessWidth, MmioDevice};
use hv_core::GuestAddress;

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
/// The PC's first serial port.
pub const COM1: u16 = 0x3f8;
/// The guest writes what it read back here (32-bit OUT).
const REPORT_PORT: u16 = 0xf0;
/// The guest needs a few dozen exits; a loop is a failure.
const MAX_EXITS: u32 = 10_000;

static RAM: StaticRam<RAM_SIZE> = StaticRam::new();

/// What the test guest did.
#[derive(Debug, Default)]
pub struct Report {
    /// Exits by kind.
    pub stats: Stats,
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

/// A guest's UART output, onto hv's console.
pub struct ToConsole;

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

/// Run the test guest to its HLT.
pub fn run(svm: &mut HostSvm) -> Result<Report, String> {
    let (ram, ram_pa) = RAM.take().ok_or("the test guest's RAM is already in use")?;
    ram.write(GuestAddress(LOAD), guest_code())
        .map_err(|e| format!("loading the test guest: {e:?}"))?;
    let mut guest = X86Guest::new(ram, ram_pa, RAM_SIZE as u64, LOAD, 0, 1)?;
    let reported = Arc::new(spin::Mutex::new(Vec::new()));
    {
        // One lock of each bus for the lot (the guards are not reentrant).
        let mut pio = guest.pio();
        pio.insert(COM1, 8, Box::new(Uart16550::new(ToConsole)))
            .and_then(|()| pio.insert(REPORT_PORT, 4, Box::new(ReportPort(reported.clone()))))
            .and_then(|()| {
                guest
                    .mmio()
                    .insert(GuestAddress(SCRATCH), 4, Box::new(Scratch(0)))
            })
            .map_err(|e| format!("devices: {e}"))?;
    }
    match guest.run(svm, MAX_EXITS)? {
        Outcome::Halted => Ok(Report {
            stats: guest.stats,
            reported: reported.lock().clone(),
        }),
        other => Err(format!("the test guest stopped with {other:?}, not HLT")),
    }
}
