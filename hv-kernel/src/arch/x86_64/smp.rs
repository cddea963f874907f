//! The host's other CPUs (APs): started with the INIT-SIPI-SIPI sequence
//! (Intel SDM vol. 3, 10.4.4; the same on AMD), broadcast to all but this
//! CPU so that hv needs no table of them, each through ap_boot.s into
//! [`x86_64_ap_main`], where it loads its own GDT and TSS and switches SVM
//! on. Each then waits, halted, for work (a guest's vCPU to run) that the
//! boot CPU hands it with [`run_on`].

use super::cpu;
use super::host_timer::{HOST_TIMER_VECTOR, SPURIOUS_VECTOR};
use super::hpet::Hpet;
use super::svm::HostSvm;
use super::{host_apic, interrupts};
use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

/// The most CPUs hv uses (the boot CPU included); later ones park.
pub const MAX_CPUS: usize = 8;
/// Where the APs' real-mode start-up code is copied: a page below 1 MiB
/// (the SIPI vector is its page number) that neither the PVH loader nor
/// hv uses (checked against the start_info before the copy).
pub const TRAMPOLINE: u64 = 0x8000;
/// Each AP's stack (debug builds keep VMCB-sized temporaries on it).
const AP_STACK_SIZE: usize = 128 * 1024;
/// INIT, then two SIPIs: the waits the SDM's MP start-up sequence asks for.
const INIT_WAIT_NS: u64 = 10_000_000;
const SIPI_WAIT_NS: u64 = 200_000;
/// How long the boot CPU waits for the APs to check in.
const CHECK_IN_NS: u64 = 100_000_000;
/// ICR values: INIT (delivery mode 5, level assert) and Start-up (mode 6)
/// to all excluding self (shorthand 3).
const ICR_ALL_BUT_SELF: u32 = 3 << 18;
const ICR_INIT: u32 = ICR_ALL_BUT_SELF | (5 << 8) | (1 << 14);
const ICR_STARTUP: u32 = ICR_ALL_BUT_SELF | (6 << 8);

core::arch::global_asm!(
    include_str!("ap_boot.s"),
    TRAMPOLINE = const TRAMPOLINE,
    MAX_CPUS = const MAX_CPUS,
    AP_STACK_SIZE = const AP_STACK_SIZE,
    options(att_syntax)
);

extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
}

/// APs that reached Rust, and those of them that switched SVM on.
static ONLINE: AtomicUsize = AtomicUsize::new(0);
static WITH_SVM: AtomicUsize = AtomicUsize::new(0);
/// Each AP's APIC ID, by CPU index (index 0, the boot CPU's, included).
static APIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(u32::MAX) }; MAX_CPUS];
/// Which CPUs have SVM on, by index.
static SVM_ON: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// Work for an AP: it runs on that CPU with the CPU's SVM.
pub type Work = Box<dyn FnOnce(&mut HostSvm) + Send>;
static WORK: [spin::Mutex<Option<Work>>; MAX_CPUS] = [const { spin::Mutex::new(None) }; MAX_CPUS];

/// The CPUs that can run guests: the boot CPU and the APs after it, in
/// index order, up to the first without SVM.
pub fn cpus_online() -> usize {
    1 + (1..MAX_CPUS)
        .take_while(|&i| SVM_ON[i].load(Ordering::Acquire))
        .count()
}

/// Have AP `index` run `work` (it wakes at once: a host IPI).
pub fn run_on(index: usize, work: Work) -> Result<(), &'static str> {
    if index == 0 || index >= MAX_CPUS || !SVM_ON[index].load(Ordering::Acquire) {
        return Err("no such CPU with SVM on");
    }
    *WORK[index].lock() = Some(work);
    host_apic::send_ipi(
        APIC_IDS[index].load(Ordering::Acquire),
        u32::from(HOST_TIMER_VECTOR),
    );
    Ok(())
}

/// How the APs came up.
#[derive(Clone, Copy, Debug)]
pub struct Started {
    /// CPUs online, the boot CPU included.
    pub cpus: usize,
    /// Of those, how many have SVM on (the boot CPU's counted by the
    /// caller).
    pub aps_with_svm: usize,
}

/// Why the APs were not started.
#[derive(Clone, Copy, Debug)]
pub enum NotStarted {
    /// The trampoline page overlaps what the loader put in low memory.
    TrampolineBusy,
    /// The APIC never finished sending an IPI.
    IpiStuck,
}

impl core::fmt::Display for NotStarted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NotStarted::TrampolineBusy => write!(
                f,
                "the AP start-up page at {TRAMPOLINE:#x} holds the loader's data"
            ),
            NotStarted::IpiStuck => write!(f, "the APIC did not send the start-up IPIs"),
        }
    }
}

fn wait(clock: &Hpet, ns: u64) {
    let start = clock.now_ns();
    while clock.now_ns() - start < ns {
        core::hint::spin_loop();
    }
}

/// Start every other CPU and wait (at most 100 ms) until each has
/// checked in. `busy` is the low memory the loader's data occupies
/// (start, end), which the trampoline must not overwrite.
pub fn start_aps(clock: &Hpet, busy: &[(u64, u64)]) -> Result<Started, NotStarted> {
    APIC_IDS[0].store(host_apic::id(), Ordering::Relaxed);
    let start = core::ptr::addr_of!(ap_trampoline_start) as u64;
    let len = core::ptr::addr_of!(ap_trampoline_end) as u64 - start;
    let page = (TRAMPOLINE, TRAMPOLINE + 0x1000);
    if len > 0x1000 || busy.iter().any(|&(a, b)| a < page.1 && page.0 < b) {
        return Err(NotStarted::TrampolineBusy);
    }
    // SAFETY: the trampoline page is RAM below 1 MiB that neither hv's
    // image (linked at 1 MiB) nor the loader's data (checked above) uses,
    // identity-mapped; the source is the trampoline's bytes in the image.
    unsafe {
        core::ptr::copy_nonoverlapping(start as *const u8, TRAMPOLINE as *mut u8, len as usize)
    };
    let vector = (TRAMPOLINE >> 12) as u32;
    if !host_apic::send_ipi(0, ICR_INIT) {
        return Err(NotStarted::IpiStuck);
    }
    wait(clock, INIT_WAIT_NS);
    for _ in 0..2 {
        if !host_apic::send_ipi(0, ICR_STARTUP | vector) {
            return Err(NotStarted::IpiStuck);
        }
        wait(clock, SIPI_WAIT_NS);
    }
    // Every AP that will come has checked in once the count stops moving.
    let deadline = clock.now_ns() + CHECK_IN_NS;
    let mut seen = usize::MAX;
    while clock.now_ns() < deadline {
        let now = ONLINE.load(Ordering::Acquire);
        if now == seen && now > 0 {
            break;
        }
        seen = now;
        wait(clock, 5_000_000);
    }
    Ok(Started {
        cpus: 1 + ONLINE.load(Ordering::Acquire),
        aps_with_svm: WITH_SVM.load(Ordering::Acquire),
    })
}

/// An AP's Rust entry (ap_boot.s), with its CPU index (1..MAX_CPUS).
#[no_mangle]
extern "C" fn x86_64_ap_main(index: u32) -> ! {
    let index = index as usize;
    interrupts::init(index);
    APIC_IDS[index].store(host_apic::id(), Ordering::Relaxed);
    // The APIC on (INIT left it software-disabled), so the boot CPU's
    // fixed IPIs reach this CPU.
    host_apic::write(host_apic::SVR, 0x100 | u32::from(SPURIOUS_VECTOR));
    let svm = HostSvm::enable(&cpu::features());
    if svm.is_ok() {
        SVM_ON[index].store(true, Ordering::Release);
        WITH_SVM.fetch_add(1, Ordering::AcqRel);
    }
    ONLINE.fetch_add(1, Ordering::AcqRel);
    let Ok(mut svm) = svm else {
        super::exit::halt()
    };
    loop {
        let work = WORK[index].lock().take();
        match work {
            Some(work) => work(&mut svm),
            // SAFETY: STI's shadow keeps an IPI that is already pending
            // from arriving before HLT starts, so the wake-up run_on sends
            // after storing the work is not lost; its handler only
            // acknowledges the APIC.
            None => unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) },
        }
    }
}
