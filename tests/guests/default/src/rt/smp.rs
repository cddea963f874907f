//! Secondary CPUs: started with PSCI CPU_ON (MPIDR Aff0 = the CPU index, as
//! on QEMU `virt` and under hv), each on its own stack (boot.s), running a
//! per-CPU entry `fn(cpu)`. When the entry returns the CPU turns itself off
//! with CPU_OFF.
//!
//! There are [`ENTRY_POINTS`] distinct entry addresses; which one a CPU came
//! in through and the context ID it got are recorded, so a test can tell
//! which CPU_ON call started it.

use super::psci;
use super::report::Msg;
use super::time::wait_for;
use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Most CPUs the runtime supports.
pub const MAX_CPUS: usize = 8;
/// Stack of each secondary CPU.
pub const SECONDARY_STACK_SIZE: usize = 32 * 1024;
/// Distinct secondary entry addresses (guest_secondary_entry0..3).
pub const ENTRY_POINTS: usize = 4;

/// A CPU's entry function.
pub type Entry = fn(cpu: usize);

static ENTRY: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];
static BOOTS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
static LAST_ENTRY_POINT: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
static LAST_CONTEXT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static RUNNING: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
static OFF_REFUSED: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

extern "C" {
    fn guest_secondary_entry0();
    fn guest_secondary_entry1();
    fn guest_secondary_entry2();
    fn guest_secondary_entry3();
}

/// This CPU's index: MPIDR_EL1.Aff0.
pub fn cpu_index() -> usize {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    (mpidr & 0xff) as usize
}

/// The MPIDR PSCI calls name CPU `cpu` by.
pub const fn mpidr_of(cpu: usize) -> u64 {
    cpu as u64
}

/// Address of secondary entry point `k` (< [`ENTRY_POINTS`]).
pub fn entry_point(k: usize) -> u64 {
    let f: unsafe extern "C" fn() = match k {
        0 => guest_secondary_entry0,
        1 => guest_secondary_entry1,
        2 => guest_secondary_entry2,
        _ => guest_secondary_entry3,
    };
    f as usize as u64
}

/// Run `entry` on CPU `cpu` at its next start.
pub fn set_entry(cpu: usize, entry: Entry) {
    if let Some(e) = ENTRY.get(cpu) {
        e.store(entry as usize, Ordering::Release);
    }
}

/// CPU_ON of `cpu` at entry point `k` with `context`; the PSCI status.
pub fn cpu_on(cpu: usize, k: usize, context: u64) -> i64 {
    psci::cpu_on(mpidr_of(cpu), entry_point(k), context)
}

/// How often `cpu` has entered the runtime so far.
pub fn boots(cpu: usize) -> u32 {
    BOOTS.get(cpu).map_or(0, |b| b.load(Ordering::Acquire))
}

/// The entry point index and context ID `cpu` last started with.
pub fn last_start(cpu: usize) -> (u32, u64) {
    (
        LAST_ENTRY_POINT
            .get(cpu)
            .map_or(u32::MAX, |e| e.load(Ordering::Acquire)),
        LAST_CONTEXT
            .get(cpu)
            .map_or(u64::MAX, |c| c.load(Ordering::Acquire)),
    )
}

/// Whether `cpu` is inside its entry function.
pub fn running(cpu: usize) -> bool {
    RUNNING.get(cpu).is_some_and(|r| r.load(Ordering::Acquire))
}

/// How often `cpu`'s CPU_OFF was refused.
pub fn off_refused(cpu: usize) -> u32 {
    OFF_REFUSED
        .get(cpu)
        .map_or(0, |r| r.load(Ordering::Acquire))
}

/// Start `cpu` running `entry` and wait (at most `ms`) until it runs it.
pub fn start(cpu: usize, entry: Entry, ms: u64) -> Result<(), Msg> {
    if cpu >= MAX_CPUS {
        return Err(crate::msg!("CPU {cpu}: the runtime supports {MAX_CPUS}"));
    }
    set_entry(cpu, entry);
    let before = boots(cpu);
    let status = cpu_on(cpu, 0, 0);
    if status != psci::status::SUCCESS {
        return Err(crate::msg!("CPU_ON of CPU {cpu} returned {status}"));
    }
    wait_for(ms, "a started CPU to enter its entry function", || {
        boots(cpu) != before
    })
    .map_err(|t| crate::msg!("CPU {cpu}: {t}"))?;
    Ok(())
}

/// Called by boot.s on a secondary CPU, on its own stack.
#[no_mangle]
extern "C" fn guest_secondary(cpu: usize, entry_point: u64, context: u64) -> ! {
    // cpu < MAX_CPUS: boot.s checks it before choosing the stack.
    LAST_ENTRY_POINT[cpu].store(entry_point as u32, Ordering::Release);
    LAST_CONTEXT[cpu].store(context, Ordering::Release);
    super::gic::forget(cpu);
    RUNNING[cpu].store(true, Ordering::Release);
    BOOTS[cpu].fetch_add(1, Ordering::AcqRel);
    let address = ENTRY[cpu].load(Ordering::Acquire);
    if address != 0 {
        // SAFETY: ENTRY only ever holds 0 or an `Entry` stored by set_entry.
        let entry: Entry = unsafe { core::mem::transmute::<usize, Entry>(address) };
        entry(cpu);
    }
    super::sync::disable_irqs();
    RUNNING[cpu].store(false, Ordering::Release);
    loop {
        psci::cpu_off();
        // Refused (or it came back): count it and try again later.
        OFF_REFUSED[cpu].fetch_add(1, Ordering::AcqRel);
        super::time::delay_ms(1);
    }
}

/// Number of CPUs the DTB at `dtb` lists (1 if it cannot be read), at most
/// [`MAX_CPUS`].
pub fn cpu_count(dtb: usize) -> usize {
    // SAFETY: the loader (QEMU or hv) passes the DTB's address in x0; the
    // parser checks the header before reading further.
    match unsafe { fdt::Fdt::from_ptr(dtb as *const u8) } {
        Ok(fdt) => fdt.cpus().count().clamp(1, MAX_CPUS),
        Err(_) => 1,
    }
}

/// A job for a CPU that [`serve`]s: gets the CPU index and an argument,
/// returns a result.
pub type Job = fn(cpu: usize, arg: u64) -> u64;

static JOB: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];
static JOB_ARG: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static JOB_RESULT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static JOBS_DONE: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
/// Who posted each CPU's current job (kicked when it is done).
static POSTER: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];

/// Run jobs posted for this CPU, forever (IRQs as the caller left them).
/// Between jobs a CPU whose GIC is set up waits in WFI ([`post`] kicks it),
/// so an idle CPU leaves the host's cores to the others (QEMU runs each
/// vCPU on a host thread; two spinning vCPUs on a busy 2-core host make
/// every cross-CPU round trip wait for the host scheduler).
pub fn serve(cpu: usize) -> ! {
    loop {
        let daif = super::sync::mask_irqs();
        let address = JOB[cpu].load(Ordering::Acquire);
        if address == 0 {
            if super::gic::ready(cpu) {
                // SAFETY: WFI only waits; with IRQs masked a pending
                // interrupt still ends it, and is taken just below.
                unsafe { asm!("wfi", options(nomem, nostack)) };
            } else {
                core::hint::spin_loop();
            }
            super::sync::restore_irqs(daif);
            continue;
        }
        super::sync::restore_irqs(daif);
        // SAFETY: JOB only ever holds 0 or a `Job` stored by `post`.
        let job: Job = unsafe { core::mem::transmute::<usize, Job>(address) };
        let result = job(cpu, JOB_ARG[cpu].load(Ordering::Acquire));
        JOB_RESULT[cpu].store(result, Ordering::Release);
        JOB[cpu].store(0, Ordering::Release);
        JOBS_DONE[cpu].fetch_add(1, Ordering::AcqRel);
        // The poster may be waiting in WFI.
        super::gic::kick(POSTER[cpu].load(Ordering::Acquire));
    }
}

/// Hand `job(arg)` to `cpu`, which must be in [`serve`]; returns a ticket
/// for [`wait_job`].
pub fn post(cpu: usize, job: Job, arg: u64) -> Result<u32, Msg> {
    let (Some(slot), Some(done)) = (JOB.get(cpu), JOBS_DONE.get(cpu)) else {
        return Err(crate::msg!("CPU {cpu}: no such CPU"));
    };
    if slot.load(Ordering::Acquire) != 0 {
        return Err(crate::msg!("CPU {cpu} is still busy with an earlier job"));
    }
    let ticket = done.load(Ordering::Acquire);
    JOB_ARG[cpu].store(arg, Ordering::Release);
    POSTER[cpu].store(cpu_index(), Ordering::Release);
    slot.store(job as usize, Ordering::Release);
    super::gic::kick(cpu);
    Ok(ticket)
}

/// Wait (at most `ms`) for the job posted with `ticket` to finish on `cpu`;
/// returns its result. Kicks `cpu` again every 10 ms while the job has not
/// been picked up (a kick may be lost by a broken interrupt controller).
pub fn wait_job(cpu: usize, ticket: u32, ms: u64) -> Result<u64, Msg> {
    let mut last_kick = super::time::counter();
    let every = super::time::ticks_from_ms(10);
    wait_for(ms, "a job on another CPU to finish", || {
        if JOB[cpu].load(Ordering::Acquire) != 0
            && JOBS_DONE[cpu].load(Ordering::Acquire) == ticket
            && super::time::counter() - last_kick > every
        {
            super::gic::kick(cpu);
            last_kick = super::time::counter();
        }
        JOBS_DONE[cpu].load(Ordering::Acquire) != ticket
    })
    .map_err(|t| crate::msg!("CPU {cpu}: {t}"))?;
    Ok(JOB_RESULT[cpu].load(Ordering::Acquire))
}

/// The result of the job posted with `ticket` on `cpu`, if it finished.
pub fn poll_job(cpu: usize, ticket: u32) -> Option<u64> {
    (JOBS_DONE.get(cpu)?.load(Ordering::Acquire) != ticket)
        .then(|| JOB_RESULT[cpu].load(Ordering::Acquire))
}

/// Run `job(arg)` on `cpu` and wait (at most `ms`) for its result.
pub fn run_on(cpu: usize, job: Job, arg: u64, ms: u64) -> Result<u64, Msg> {
    let ticket = post(cpu, job, arg)?;
    wait_job(cpu, ticket, ms)
}

/// Server state per CPU: 0 not yet, 1 ready, 2 its GIC set-up failed.
static SERVER_STATE: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

fn server_entry(cpu: usize) {
    let state = match super::gic::init_cpu() {
        Ok(()) => 1,
        Err(e) => {
            crate::println!("CPU {cpu}: GIC set-up failed: {e}");
            2
        }
    };
    SERVER_STATE[cpu].store(state, Ordering::Release);
    super::sync::enable_irqs();
    serve(cpu)
}

/// Start `cpu` with its GIC CPU interface set up and IRQs unmasked, serving
/// jobs ([`run_on`]); waits (at most `ms`) until it is ready.
pub fn start_server(cpu: usize, ms: u64) -> Result<(), Msg> {
    if let Some(s) = SERVER_STATE.get(cpu) {
        s.store(0, Ordering::Release);
    }
    start(cpu, server_entry, ms)?;
    wait_for(ms, "a started CPU to set up its GIC", || {
        SERVER_STATE[cpu].load(Ordering::Acquire) != 0
    })
    .map_err(|t| crate::msg!("CPU {cpu}: {t}"))?;
    if SERVER_STATE[cpu].load(Ordering::Acquire) != 1 {
        return Err(crate::msg!("CPU {cpu}: its GIC set-up failed"));
    }
    Ok(())
}
