//! What the vCPUs of an x86 guest share (RAM, nested paging, permission
//! maps, buses, interrupt controllers, how the guest ended), and how an
//! interrupt reaches a vCPU on another host CPU: the APICs' destination
//! rules, INIT and start-up IPIs, and the host IPI that makes a vCPU
//! leave the guest to take it.

use super::guest::{MapPage, Outcome, SharedIoApic, SharedLapic, Stats};
use super::host_apic;
use super::host_timer::HOST_TIMER_VECTOR;
use super::hpet::Hpet;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Ordering};
use hv_core::devices::acpi_pm::AcpiSleep;
use hv_core::devices::lapic::IpiDest;
use hv_core::mem::GuestRam;
use hv_core::mmio::MmioBus;
use hv_core::pio::PioBus;
use hv_core::GuestAddress;

/// The guest's interrupt controllers: a local APIC per vCPU, microvm's
/// two I/O APICs, the device lines into them, and the clock the APICs'
/// timers run on.
pub struct MachineIrq {
    pub lapics: Vec<SharedLapic>,
    pub ioapics: [SharedIoApic; 2],
    /// Device interrupt lines: the device's MMIO base and its GSI.
    pub lines: spin::Mutex<Vec<(GuestAddress, u32)>>,
    /// Port-I/O devices' interrupt lines: a port of the device and its GSI.
    pub port_lines: spin::Mutex<Vec<(u16, u32)>>,
    pub clock: Hpet,
}

/// A vCPU's place in the INIT/SIPI protocol (SDM vol. 3, 9.4).
pub const CPU_RUNNING: u8 = 0;
/// After INIT (or at power-on, for every vCPU but the first): waiting
/// for a start-up IPI.
pub const CPU_WAIT_FOR_SIPI: u8 = 1;
/// A start-up IPI arrived; `sipi_vector` says where to start.
pub const CPU_SIPI: u8 = 2;

/// The guest's console input: bytes typed on hv's console, handed to the
/// guest's UART (`deliver` says false when its FIFO is full).
pub struct ConsoleInput {
    pub deliver: Box<dyn FnMut(u8) -> bool + Send>,
    /// A byte the UART had no room for yet.
    pub held: Option<u8>,
}

/// What the other vCPUs know of one vCPU.
pub struct CpuSlot {
    pub state: AtomicU8,
    pub sipi_vector: AtomicU8,
    /// An INIT arrived while it ran.
    pub init: AtomicBool,
    /// An NMI is waiting to be injected.
    pub nmi: AtomicBool,
    /// The APIC ID of the host CPU running it (u32::MAX: none yet), for
    /// the host IPI that makes it leave the guest.
    pub host_apic: AtomicU32,
}

impl CpuSlot {
    pub fn new(state: u8) -> CpuSlot {
        CpuSlot {
            state: AtomicU8::new(state),
            sipi_vector: AtomicU8::new(0),
            init: AtomicBool::new(false),
            nmi: AtomicBool::new(false),
            host_apic: AtomicU32::new(u32::MAX),
        }
    }
}

/// What a guest's vCPUs share: RAM, nested page tables, permission maps,
/// buses, interrupt controllers, and how the guest ended.
pub struct Machine {
    pub ram: Arc<GuestRam>,
    pub ram_size: u64,
    pub npt_root: u64,
    pub iopm: Box<[MapPage]>,
    pub msrpm: Box<[MapPage]>,
    pub pio: spin::Mutex<PioBus>,
    pub mmio: spin::Mutex<MmioBus>,
    pub exited: Arc<AtomicU32>,
    pub sleep: spin::Once<Arc<spin::Mutex<AcpiSleep>>>,
    pub irq: spin::Once<MachineIrq>,
    /// Console input, polled by the first vCPU.
    pub console_in: spin::Once<spin::Mutex<ConsoleInput>>,
    pub cpus: Vec<CpuSlot>,
    /// How the guest ended, once one vCPU ended it.
    pub end: spin::Mutex<Option<Outcome>>,
    /// vCPUs that have not left their run loop (all of them from the
    /// start, so that none is taken for gone before its CPU picks it up;
    /// the boot vCPU waits for the others to leave before the guest's
    /// memory goes).
    pub running: AtomicUsize,
    /// Of those, how many wait for something only another vCPU can do
    /// (a start-up IPI, or an interrupt for an HLT with no timer armed):
    /// when all of them do, nothing can ever wake them.
    pub asleep: AtomicUsize,
    /// The other vCPUs' counters, added as each stops.
    pub ap_stats: spin::Mutex<Stats>,
}

impl Machine {
    pub fn ended(&self) -> Option<Outcome> {
        *self.end.lock()
    }

    /// Count the caller among the vCPUs only another vCPU can wake; false
    /// (and not counted) if it would be the last one awake: then nothing
    /// could ever wake any of them.
    pub fn fall_asleep(&self) -> bool {
        let asleep = self.asleep.fetch_add(1, Ordering::AcqRel) + 1;
        if asleep >= self.running.load(Ordering::Acquire) {
            self.asleep.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    pub fn wake_up(&self) {
        self.asleep.fetch_sub(1, Ordering::AcqRel);
    }

    /// End the guest with `outcome` (the first end wins) and make every
    /// other vCPU leave the guest to see it.
    pub fn end_with(&self, outcome: Outcome, me: usize) {
        self.end.lock().get_or_insert(outcome);
        for i in 0..self.cpus.len() {
            if i != me {
                self.kick(i);
            }
        }
    }

    /// Make vCPU `i` leave the guest (or its wait) soon: a host interrupt
    /// to its host CPU, which takes it as an INTR exit.
    pub fn kick(&self, i: usize) {
        let host = self.cpus[i].host_apic.load(Ordering::Acquire);
        if host != u32::MAX {
            // Fixed delivery, physical destination.
            host_apic::send_ipi(host, u32::from(HOST_TIMER_VECTOR));
        }
    }

    /// Deliver an interrupt to the vCPUs `dest` names, on vCPU `here`'s
    /// host CPU: an IPI `here` sent, or what an I/O APIC delivers (it has
    /// no self to exclude). Every target but `here` is kicked.
    pub fn deliver(&self, here: usize, mode: u8, vector: u8, level: bool, dest: IpiDest) {
        let Some(irq) = self.irq.get() else {
            return;
        };
        let targets = (0..self.cpus.len()).filter(|&i| match dest {
            IpiDest::AllIncludingSelf => true,
            IpiDest::AllExcludingSelf => i != here,
            IpiDest::Field { dest, logical } => irq.lapics[i].lock().accepts(dest, logical),
        });
        for (n, i) in targets.enumerate() {
            let slot = &self.cpus[i];
            match mode {
                // Fixed; lowest priority goes to the first target only.
                0 | 1 => {
                    if mode == 1 && n > 0 {
                        break;
                    }
                    irq.lapics[i].lock().raise(vector, level);
                }
                4 => slot.nmi.store(true, Ordering::Release),
                5 => slot.init.store(true, Ordering::Release),
                6 => {
                    // A start-up IPI counts only while waiting for one.
                    slot.sipi_vector.store(vector, Ordering::Relaxed);
                    let _ = slot.state.compare_exchange(
                        CPU_WAIT_FOR_SIPI,
                        CPU_SIPI,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                }
                _ => {
                    log::debug!("x86 guest: delivery mode {mode} ignored");
                    continue;
                }
            }
            if i != here {
                self.kick(i);
            }
        }
    }
}
