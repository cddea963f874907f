//! Exit-cost micro-benchmark. Each operation runs for about 100 ms of
//! counter time (at least 16 and at most 2^24 iterations), timed with
//! CNTVCT_EL0, and prints one line:
//!
//! ```text
//! exitbench NAME: NS ns/op (N iterations)
//! ```
//!
//! Operations: a load from RAM (the baseline, no exit), HVC (PSCI_VERSION),
//! MMIO reads of the PL011's UARTFR, of GICD_TYPER and of this CPU's
//! GICR_TYPER, an SGI round trip between two CPUs (ping-pong through a
//! shared counter) with the receiver busy (`sgi-roundtrip`: delivery to a
//! running CPU) and idle in WFI (`sgi-roundtrip-idle`: a wake-up), a
//! self-IPI (SGI to self, taken, EOI), and WFI with the virtual timer armed
//! 0 ticks ahead. The same image runs on plain QEMU and
//! under hv-kernel; `cargo xtask exitbench` prints both side by side.
//!
//! With `exitbench=insns` on the command line (DTB /chosen/bootargs) it
//! counts instructions instead of time: each single-CPU operation and an
//! SGI ping-pong (CPU 0 sends, waits in WFI, CPU 1 answers from its
//! handler and goes back to WFI) run a fixed number of times between two reads of the
//! PMU's INST_RETIRED counter (event 0x08, counting at EL1 and at EL2, so
//! an exit's instructions in hv are included), and print
//!
//! ```text
//! exitbench-insns NAME: N instructions in I iterations
//! ```
//!
//! QEMU counts instructions only with `-icount` (one global count for all
//! vCPUs: while CPU 0 measures, CPU 1 waits in WFI and executes nothing,
//! except its part of the ping-pong, which is then counted too). `cargo xtask perf` runs this mode
//! with `-icount shift=0,sleep=off` on plain QEMU and under hv-kernel.
#![cfg_attr(target_os = "none", no_std, no_main)]
// Failure messages are fixed buffers (no heap); see the library.
#![allow(clippy::result_large_err)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "guest-exitbench is an AArch64 guest image; `cargo xtask exitbench` builds and boots it"
    );
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::arch::asm;
    use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    use guest_default::rt::console::UART_FR;
    use guest_default::rt::report::Outcome;
    use guest_default::rt::smp::{self, MAX_CPUS};
    use guest_default::rt::time::{counter, frequency, ticks_from_ms, wait_for};
    use guest_default::rt::timer::Timer;
    use guest_default::rt::{gic, irq, psci, sync};
    use guest_default::{ensure, msg, println};

    /// Counter time each operation runs for.
    const RUN_MS: u64 = 100;
    const MIN_ITERS: u64 = 16;
    const MAX_ITERS: u64 = 1 << 24;
    /// The SGI of the round-trip and self-IPI benchmarks.
    const PING: u32 = 1;
    /// The SGI CPU 1 sends to bound each WFI.
    const KEEPALIVE: u32 = 15;
    /// The SGI of the ping-pong (`exitbench=insns`): CPU 1 answers it with
    /// the same SGI to CPU 0.
    const ECHO: u32 = 2;
    /// A round trip slower than this is a lost SGI.
    const LOST_MS: u64 = 1000;
    /// Iterations of each operation in `exitbench=insns` mode.
    const COUNT_ITERS: u32 = 1000;

    static RECEIVED: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
    static VTIMER_IRQS: AtomicU32 = AtomicU32::new(0);
    static KEEPALIVE_STOP: AtomicBool = AtomicBool::new(false);
    /// Ends CPU 1's busy job.
    static STOP: AtomicBool = AtomicBool::new(false);
    static RAM_WORD: AtomicU64 = AtomicU64::new(0);

    fn on_ping(cpu: usize, _intid: u32) -> irq::Eoi {
        RECEIVED[cpu].fetch_add(1, Ordering::Release);
        irq::Eoi::Complete
    }

    fn on_echo(cpu: usize, _intid: u32) -> irq::Eoi {
        RECEIVED[cpu].fetch_add(1, Ordering::Release);
        if cpu == 1 {
            gic::send_sgi(ECHO, 0);
        }
        irq::Eoi::Complete
    }

    fn on_vtimer(_cpu: usize, _intid: u32) -> irq::Eoi {
        Timer::Virtual.stop();
        VTIMER_IRQS.fetch_add(1, Ordering::Release);
        irq::Eoi::Complete
    }

    fn on_keepalive(_cpu: usize, _intid: u32) -> irq::Eoi {
        irq::Eoi::Complete
    }

    /// Run `op` for about RUN_MS; print and return ns/op.
    fn measure(name: &str, mut op: impl FnMut() -> Outcome) -> Outcome {
        for _ in 0..MIN_ITERS {
            op()?;
        }
        let budget = ticks_from_ms(RUN_MS);
        let start = counter();
        let (mut iters, mut batch) = (0u64, MIN_ITERS);
        loop {
            for _ in 0..batch {
                op()?;
            }
            iters += batch;
            let spent = counter() - start;
            if spent >= budget || iters >= MAX_ITERS {
                let ns = u128::from(spent) * 1_000_000_000
                    / (u128::from(frequency()) * u128::from(iters));
                println!("exitbench {name}: {ns} ns/op ({iters} iterations)");
                return Ok(());
            }
            // Double the batch, but not past the time that is left.
            let per_op = (spent / iters).max(1);
            let left = (budget - spent) / per_op + 1;
            batch = (batch * 2).min(left).min(MAX_ITERS - iters);
        }
    }

    /// The PMU's instruction counter: event counter 0 counting
    /// INST_RETIRED at EL1 and EL2 (not EL0).
    mod pmu {
        use core::arch::asm;
        use guest_default::ensure;
        use guest_default::rt::report::Msg;

        /// Architectural event INST_RETIRED.
        const INST_RETIRED: u64 = 0x08;
        /// PMEVTYPER<n>_EL0.U: do not count at EL0.
        const U: u64 = 1 << 30;
        /// PMEVTYPER<n>_EL0.NSH: count at EL2 (Non-secure), where hv runs.
        const NSH: u64 = 1 << 27;
        /// PMCR_EL0.E (enable) and .P (reset the event counters).
        const PMCR_E: u64 = 1 << 0;
        const PMCR_P: u64 = 1 << 1;

        macro_rules! mrs {
            ($reg:literal) => {{
                let v: u64;
                // SAFETY: reading an ID or PMU register has no side effects.
                unsafe { asm!(concat!("mrs {}, ", $reg), out(reg) v, options(nomem, nostack)) };
                v
            }};
        }

        /// Set up event counter 0, or say why the PMU cannot count
        /// instructions here.
        pub fn start() -> Result<(), Msg> {
            let version = (mrs!("id_aa64dfr0_el1") >> 8) & 0xf;
            ensure!(
                version != 0 && version != 0xf,
                "no PMUv3 (ID_AA64DFR0_EL1.PMUVer {version:#x})"
            );
            let counters = (mrs!("pmcr_el0") >> 11) & 0x1f;
            ensure!(counters >= 1, "the PMU has no event counters");
            ensure!(
                mrs!("pmceid0_el0") & (1 << INST_RETIRED) != 0,
                "the PMU does not count INST_RETIRED (QEMU needs -icount for it)"
            );
            let pmcr = mrs!("pmcr_el0");
            // SAFETY: programming this CPU's PMU counter 0; nothing else
            // uses the PMU.
            unsafe {
                asm!(
                    "msr pmevtyper0_el0, {t}",
                    "msr pmcntenset_el0, {one}",
                    "msr pmcr_el0, {pmcr}",
                    "isb",
                    t = in(reg) INST_RETIRED | U | NSH,
                    one = in(reg) 1u64,
                    pmcr = in(reg) pmcr | PMCR_E | PMCR_P,
                    options(nomem, nostack)
                )
            };
            let a = read();
            let b = read();
            ensure!(b != a, "the instruction counter does not move ({a})");
            Ok(())
        }

        /// Event counter 0 (32 bits; differences wrap).
        pub fn read() -> u32 {
            let v: u64;
            // SAFETY: reading PMEVCNTR0_EL0 has no side effects; the ISB
            // keeps it after the instructions before it.
            unsafe { asm!("isb", "mrs {}, pmevcntr0_el0", out(reg) v, options(nomem, nostack)) };
            v as u32
        }
    }

    /// Run `op` MIN_ITERS times, then COUNT_ITERS times between two reads
    /// of the instruction counter; print the count.
    fn count(name: &str, mut op: impl FnMut() -> Outcome) -> Outcome {
        for _ in 0..MIN_ITERS {
            op()?;
        }
        let start = pmu::read();
        for _ in 0..COUNT_ITERS {
            op()?;
        }
        let n = pmu::read().wrapping_sub(start);
        println!("exitbench-insns {name}: {n} instructions in {COUNT_ITERS} iterations");
        Ok(())
    }

    fn ram_load() -> Outcome {
        // SAFETY: a volatile load of a static of this image.
        let _ = unsafe { core::ptr::read_volatile(RAM_WORD.as_ptr()) };
        Ok(())
    }

    fn hvc() -> Outcome {
        let v = psci::version();
        ensure!(v >> 16 == 1, "PSCI_VERSION returned {v:#x}");
        Ok(())
    }

    fn uart_fr() -> Outcome {
        // SAFETY: UARTFR of the contract's PL011, a 32-bit register.
        let _ = unsafe { core::ptr::read_volatile(UART_FR as *const u32) };
        Ok(())
    }

    fn gicd_typer() -> Outcome {
        let _ = gic::gicd_typer();
        Ok(())
    }

    fn gicr_typer(rd: usize) -> Outcome {
        let _ = gic::read64(rd + gic::gicr::TYPER);
        Ok(())
    }

    /// Send PING to `to` and wait until it took it.
    fn ping(to: usize) -> Outcome {
        let want = RECEIVED[to].load(Ordering::Acquire).wrapping_add(1);
        gic::send_sgi(PING, to);
        let lost = ticks_from_ms(LOST_MS);
        let sent = counter();
        while RECEIVED[to].load(Ordering::Acquire) != want {
            if counter() - sent > lost && RECEIVED[to].load(Ordering::Acquire) != want {
                return Err(msg!("SGI to CPU {to} lost (not taken within {LOST_MS} ms)"));
            }
            core::hint::spin_loop();
        }
        Ok(())
    }

    /// Send ECHO to CPU 1 and wait in WFI until its answer was taken: a
    /// round trip in which neither CPU spins (with QEMU's one global
    /// instruction count, a spinning CPU would count its time slices).
    fn ping_pong() -> Outcome {
        let want = RECEIVED[0].load(Ordering::Acquire).wrapping_add(1);
        let limit = counter() + ticks_from_ms(LOST_MS);
        sync::disable_irqs();
        gic::send_sgi(ECHO, 1);
        while RECEIVED[0].load(Ordering::Acquire) != want {
            if counter() > limit {
                sync::enable_irqs();
                return Err(msg!("no answer from CPU 1 within {LOST_MS} ms"));
            }
            // SAFETY: WFI only waits; the answer (or a timer) ends it.
            unsafe { asm!("wfi", options(nomem, nostack)) };
            sync::enable_irqs();
            sync::disable_irqs();
        }
        sync::enable_irqs();
        Ok(())
    }

    /// Arm the virtual timer 0 ticks ahead and WFI (IRQs masked) until its
    /// interrupt is pending; then take it.
    fn wfi_vtimer() -> Outcome {
        let want = VTIMER_IRQS.load(Ordering::Acquire).wrapping_add(1);
        let limit = counter() + ticks_from_ms(LOST_MS);
        sync::disable_irqs();
        Timer::Virtual.arm(0);
        while VTIMER_IRQS.load(Ordering::Acquire) != want {
            if counter() > limit {
                sync::enable_irqs();
                return Err(msg!("the virtual timer did not fire within {LOST_MS} ms"));
            }
            // SAFETY: WFI only waits; CPU 1's keep-alive SGI bounds it.
            unsafe { asm!("wfi", options(nomem, nostack)) };
            sync::enable_irqs();
            sync::disable_irqs();
        }
        sync::enable_irqs();
        Ok(())
    }

    /// Job for CPU 1: stay busy (IRQs unmasked) until STOP, so SGIs reach
    /// a running CPU.
    fn spin(_cpu: usize, _arg: u64) -> u64 {
        while !STOP.load(Ordering::Acquire) {
            core::hint::spin_loop();
        }
        0
    }

    /// Job for CPU 1: send CPU 0 a keep-alive SGI every 100 ms until told
    /// to stop, so no WFI waits longer.
    fn keepalive(_cpu: usize, _arg: u64) -> u64 {
        while wait_for(100, "stop", || KEEPALIVE_STOP.load(Ordering::Acquire)).is_err() {
            gic::send_sgi(KEEPALIVE, 0);
        }
        0
    }

    fn setup(dtb: usize) -> Outcome {
        let cpus = smp::cpu_count(dtb);
        ensure!(
            cpus >= 2,
            "the DTB lists {cpus} CPU(s), the benchmark needs 2"
        );
        gic::init_distributor()?;
        gic::init_cpu()?;
        irq::register(PING, on_ping);
        irq::register(ECHO, on_echo);
        irq::register(KEEPALIVE, on_keepalive);
        irq::register(Timer::Virtual.intid(), on_vtimer);
        gic::enable(PING);
        gic::enable(ECHO);
        gic::enable(KEEPALIVE);
        gic::enable(Timer::Virtual.intid());
        sync::enable_irqs();
        smp::start_server(1, 1000)?;
        smp::run_on(
            1,
            |_, _| {
                gic::enable(PING);
                gic::enable(ECHO);
                0
            },
            0,
            1000,
        )?;
        Ok(())
    }

    /// Measure `op`; a failure is printed as `exitbench NAME: FAIL (why)`
    /// and counted, and the next operation still runs.
    fn bench(name: &str, op: impl FnMut() -> Outcome, failed: &mut u32) {
        if let Err(e) = measure(name, op) {
            println!("exitbench {name}: FAIL ({e})");
            *failed += 1;
        }
    }

    /// Every operation; returns how many failed.
    fn run() -> u32 {
        let mut failed = 0;
        println!("exitbench: counter {} Hz", frequency());
        bench("ram-load", ram_load, &mut failed);
        bench("hvc", hvc, &mut failed);
        bench("mmio-uart", uart_fr, &mut failed);
        bench("mmio-gicd", gicd_typer, &mut failed);
        let rd = gic::rd();
        bench("mmio-gicr", || gicr_typer(rd), &mut failed);
        STOP.store(false, Ordering::Release);
        match smp::post(1, spin, 0) {
            Ok(ticket) => {
                bench("sgi-roundtrip", || ping(1), &mut failed);
                STOP.store(true, Ordering::Release);
                if let Err(e) = smp::wait_job(1, ticket, 1000) {
                    println!("exitbench: FAIL (stopping CPU 1's busy job: {e})");
                    failed += 1;
                }
            }
            Err(e) => {
                println!("exitbench sgi-roundtrip: FAIL ({e})");
                failed += 1;
            }
        }
        bench("sgi-roundtrip-idle", || ping(1), &mut failed);
        bench("self-ipi", || ping(0), &mut failed);
        KEEPALIVE_STOP.store(false, Ordering::Release);
        match smp::post(1, keepalive, 0) {
            Ok(ticket) => {
                bench("wfi-vtimer", wfi_vtimer, &mut failed);
                KEEPALIVE_STOP.store(true, Ordering::Release);
                if let Err(e) = smp::wait_job(1, ticket, 1000) {
                    println!("exitbench: FAIL (stopping the keep-alive: {e})");
                    failed += 1;
                }
            }
            Err(e) => {
                println!("exitbench wfi-vtimer: FAIL ({e})");
                failed += 1;
            }
        }
        failed
    }

    /// `exitbench=insns` mode: every operation counted with the PMU;
    /// returns how many failed.
    fn run_counts() -> u32 {
        let mut failed = 0;
        if let Err(e) = pmu::start() {
            println!("exitbench-insns: FAIL ({e})");
            return 1;
        }
        let rd = gic::rd();
        let ops: [(&str, &mut dyn FnMut() -> Outcome); 7] = [
            ("ram-load", &mut ram_load),
            ("hvc", &mut hvc),
            ("mmio-uart", &mut uart_fr),
            ("mmio-gicd", &mut gicd_typer),
            ("mmio-gicr", &mut || gicr_typer(rd)),
            ("self-ipi", &mut || ping(0)),
            ("sgi-pingpong", &mut ping_pong),
        ];
        for (name, op) in ops {
            if let Err(e) = count(name, op) {
                println!("exitbench-insns {name}: FAIL ({e})");
                failed += 1;
            }
        }
        failed
    }

    /// Whether the command line (DTB /chosen/bootargs) asks for
    /// instruction counts (`exitbench=insns`).
    fn counting(dtb: usize) -> bool {
        // SAFETY: x0 held the DTB the loader left in RAM (boot protocol);
        // `from_ptr` validates its header before reading more.
        let Ok(fdt) = (unsafe { fdt::Fdt::from_ptr(dtb as *const u8) }) else {
            return false;
        };
        fdt.chosen()
            .bootargs()
            .unwrap_or("")
            .split_whitespace()
            .any(|a| a == "exitbench=insns")
    }

    #[no_mangle]
    extern "C" fn guest_main(dtb: usize) -> ! {
        println!("guest-exitbench: hello from EL1");
        let failed = match setup(dtb) {
            Ok(()) if counting(dtb) => run_counts(),
            Ok(()) => run(),
            Err(e) => {
                println!("exitbench: FAIL (set-up: {e})");
                1
            }
        };
        if failed == 0 {
            println!("PASS");
            psci::system_off()
        } else {
            println!("FAIL");
            psci::system_reset()
        }
    }
}
