//! Generic timers and the GIC's pending/active state, each a test line:
//!
//! * the EL1 physical timer (PPI 30) interrupts, with CNTP_CTL.ISTATUS set;
//! * WFI returns for the physical timer, and for the virtual timer (PPI
//!   27), with nothing else armed. WFI runs with PSTATE.I masked, as in
//!   Linux's idle loop: the pending interrupt must end the WFI, then it is
//!   taken when IRQs are unmasked. CPU 1 is a watchdog that sends CPU 0 an
//!   SGI after 2 s, so a timer that never fires is reported instead of
//!   leaving CPU 0 in WFI forever;
//! * the virtual timer's interrupt, disabled at the redistributor, reads
//!   pending in GICR_ISPENDR0, CNTV_CTL_EL0 reads back what the guest wrote
//!   after a few hypervisor exits, and enabling the PPI delivers it;
//! * an SGI made active with GICR_ISACTIVER0 is not taken while active,
//!   reads active and pending, and is taken once GICR_ICACTIVER0 clears it;
//! * an SGI taken with EOImode 1 and only priority-dropped reads active
//!   until GICR_ICACTIVER0 clears it, after which the next one is taken.
#![cfg_attr(target_os = "none", no_std, no_main)]
// Failure messages are fixed buffers (no heap); see the library.
#![allow(clippy::result_large_err)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-timers is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::arch::asm;
    use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    use guest_default::rt::exceptions::expect;
    use guest_default::rt::report::{Findings, Outcome, Tally};
    use guest_default::rt::time::{self, counter, ticks_from_ms, ticks_to_ms, wait_for};
    use guest_default::rt::timer::{Timer, CTL_ENABLE, CTL_IMASK, CTL_ISTATUS};
    use guest_default::rt::{gic, irq, psci, smp, sync};
    use guest_default::{ensure, msg, println};

    /// SGI the watchdog CPU wakes CPU 0 with.
    const WATCHDOG_SGI: u32 = 15;
    /// SGIs of the active-state tests.
    const ACTIVE_SGI: u32 = 3;
    const TAKEN_SGI: u32 = 4;
    /// How long the watchdog waits before it wakes CPU 0.
    const WATCHDOG_MS: u64 = 2000;

    /// Timer interrupts taken per timer (index: PPI - 27, so 0 and 3).
    static TIMER_IRQS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
    /// CNTx_CTL_EL0 as the last timer handler found it.
    static TIMER_CTL: AtomicU64 = AtomicU64::new(0);
    /// The counter when the last timer handler ran.
    static TIMER_AT: AtomicU64 = AtomicU64::new(0);
    /// The INTID the last timer handler was called for.
    static TIMER_INTID: AtomicU32 = AtomicU32::new(0);
    static WATCHDOG_CANCEL: AtomicBool = AtomicBool::new(false);
    static WATCHDOG_TAKEN: AtomicU32 = AtomicU32::new(0);
    static SGI_TAKEN: [AtomicU32; 16] = [const { AtomicU32::new(0) }; 16];

    fn timer_of(intid: u32) -> Timer {
        if intid == Timer::Physical.intid() {
            Timer::Physical
        } else {
            Timer::Virtual
        }
    }

    fn timer_irqs(t: Timer) -> u32 {
        TIMER_IRQS[(t.intid() - 27) as usize].load(Ordering::Acquire)
    }

    /// A timer fired: note what its control register said, then switch it
    /// off so its (level) output drops before the EOI.
    fn on_timer(_cpu: usize, intid: u32) -> irq::Eoi {
        let t = timer_of(intid);
        TIMER_CTL.store(t.ctl(), Ordering::Relaxed);
        TIMER_AT.store(t.count(), Ordering::Relaxed);
        TIMER_INTID.store(intid, Ordering::Relaxed);
        t.stop();
        TIMER_IRQS[(intid - 27) as usize].fetch_add(1, Ordering::Release);
        irq::Eoi::Complete
    }

    fn on_watchdog(_cpu: usize, _intid: u32) -> irq::Eoi {
        WATCHDOG_TAKEN.fetch_add(1, Ordering::Release);
        irq::Eoi::Complete
    }

    fn on_sgi(_cpu: usize, intid: u32) -> irq::Eoi {
        SGI_TAKEN[intid as usize & 15].fetch_add(1, Ordering::Release);
        irq::Eoi::Complete
    }

    fn on_sgi_drop_only(_cpu: usize, intid: u32) -> irq::Eoi {
        SGI_TAKEN[intid as usize & 15].fetch_add(1, Ordering::Release);
        irq::Eoi::DropOnly
    }

    /// Job for CPU 1: after WATCHDOG_MS, unless cancelled, send CPU 0 the
    /// watchdog SGI. Returns 1 if it fired.
    fn watchdog(_cpu: usize, _arg: u64) -> u64 {
        let fired = wait_for(WATCHDOG_MS, "cancel", || {
            WATCHDOG_CANCEL.load(Ordering::Acquire)
        })
        .is_err();
        if fired {
            gic::send_sgi(WATCHDOG_SGI, 0);
        }
        u64::from(fired)
    }

    /// Whether this CPU may program the EL1 physical timer (a hypervisor
    /// may trap it; the trap would come back as an exception).
    fn physical_timer_usable() -> Outcome {
        let taken = expect(|| {
            // SAFETY: reads CNTP_CTL_EL0; if it traps, the exception hook
            // resumes after it, and every caller-saved register is declared
            // clobbered because the hook does not preserve them.
            unsafe { asm!("mrs x9, cntp_ctl_el0", out("x9") _, clobber_abi("C")) }
        });
        match taken {
            None => Ok(()),
            Some(t) => Err(msg!(
                "reading CNTP_CTL_EL0 raised an exception (ESR {:#x})",
                t.esr
            )),
        }
    }

    /// The timer interrupts within a bounded time, from IAR with its own
    /// INTID, not before its compare value, with ISTATUS set.
    fn timer_fires(t: Timer) -> Outcome {
        if t == Timer::Physical {
            physical_timer_usable()?;
        }
        Timer::Virtual.stop();
        Timer::Physical.stop();
        gic::enable(t.intid());
        let before = timer_irqs(t);
        t.arm(ticks_from_ms(5) as i32);
        let cval = t.cval();
        let waited = wait_for(500, "the timer interrupt", || timer_irqs(t) != before);
        t.stop();
        waited?;
        let intid = TIMER_INTID.load(Ordering::Relaxed);
        ensure!(intid == t.intid(), "IAR gave INTID {intid}");
        let ctl = TIMER_CTL.load(Ordering::Relaxed);
        ensure!(
            ctl & CTL_ISTATUS != 0,
            "CNT{}_CTL_EL0 was {ctl:#x} in the handler: ISTATUS clear",
            if t == Timer::Virtual { "V" } else { "P" }
        );
        let at = TIMER_AT.load(Ordering::Relaxed);
        ensure!(
            at >= cval,
            "taken at count {at}, before the compare value {cval}"
        );
        Ok(())
    }

    /// WFI with only timer `t` armed (the other off, its PPI enabled, no
    /// other interrupt pending, PSTATE.I masked) returns, and the timer's
    /// interrupt is taken once IRQs are unmasked.
    fn wfi_wakes(t: Timer) -> Outcome {
        if t == Timer::Physical {
            physical_timer_usable()?;
        }
        Timer::Virtual.stop();
        Timer::Physical.stop();
        gic::enable(t.intid());
        let pending = gic::highest_pending();
        ensure!(
            pending == gic::SPURIOUS,
            "INTID {pending} is pending before the WFI (ICC_HPPIR1_EL1)"
        );
        WATCHDOG_CANCEL.store(false, Ordering::Release);
        let watchdog_before = WATCHDOG_TAKEN.load(Ordering::Acquire);
        let ticket = smp::post(1, watchdog, 0)?;
        let before = timer_irqs(t);
        let start = counter();
        let limit = start + ticks_from_ms(WATCHDOG_MS + 1000);
        let mut wakes = 0u32;
        sync::disable_irqs();
        t.arm(ticks_from_ms(10) as i32);
        let result = loop {
            if timer_irqs(t) != before {
                break Ok(());
            }
            if WATCHDOG_TAKEN.load(Ordering::Acquire) != watchdog_before {
                break Err(msg!(
                    "the {} timer never woke WFI: CPU 1's watchdog SGI did after {} ms ({wakes} WFI returns)",
                    t.name(),
                    ticks_to_ms(counter() - start)
                ));
            }
            if counter() > limit {
                break Err(msg!(
                    "no timer interrupt within {} ms ({wakes} WFI returns)",
                    ticks_to_ms(limit - start)
                ));
            }
            // SAFETY: WFI waits for an interrupt (masked ones wake it too).
            unsafe { asm!("wfi", options(nomem, nostack)) };
            wakes += 1;
            sync::enable_irqs();
            sync::disable_irqs();
        };
        sync::enable_irqs();
        t.stop();
        WATCHDOG_CANCEL.store(true, Ordering::Release);
        smp::wait_job(1, ticket, WATCHDOG_MS + 1000)?;
        result?;
        println!(
            "wfi: the {} timer woke CPU 0 after {} ms, {wakes} WFI return(s)",
            t.name(),
            ticks_to_ms(counter() - start)
        );
        Ok(())
    }

    /// Some hypervisor exits: distributor reads and a PSCI call.
    fn force_exits() {
        for _ in 0..4 {
            let _ = gic::gicd_typer();
        }
        let _ = psci::version();
        let _ = gic::gicd_typer();
        let _ = psci::version();
    }

    /// The virtual timer's condition met with PPI 27 disabled: the PPI reads
    /// pending, CNTV_CTL_EL0 keeps what the guest wrote through hypervisor
    /// exits, and enabling the PPI delivers the interrupt. Every step is
    /// checked and all failures are reported.
    fn vtimer_pending_while_disabled() -> Outcome {
        let t = Timer::Virtual;
        let want = CTL_ENABLE | CTL_ISTATUS;
        let bits = CTL_ENABLE | CTL_IMASK | CTL_ISTATUS;
        t.stop();
        Timer::Physical.stop();
        gic::disable(t.intid())?;
        gic::clear_pending(t.intid());
        let before = timer_irqs(t);
        let mut f = Findings::new();
        t.set_cval(t.count());
        t.set_ctl(CTL_ENABLE);
        let ctl = t.ctl();
        f.check(
            ctl & bits == want,
            format_args!("CNTV_CTL_EL0 reads {ctl:#x} right after writing 0x1 (CVAL in the past: expected 0x5)"),
        );
        let pending = wait_for(10, "GICR_ISPENDR0 bit 27", || gic::is_pending(t.intid()));
        f.check(
            pending.is_ok(),
            format_args!(
                "GICR_ISPENDR0 reads {:#x}: PPI 27 not pending",
                gic::read32(gic::rd() + gic::gicr::ISPENDR0)
            ),
        );
        force_exits();
        time::delay_ms(5);
        force_exits();
        let ctl = t.ctl();
        f.check(
            ctl & bits == want,
            format_args!("CNTV_CTL_EL0 reads {ctl:#x} after a few exits (expected 0x5)"),
        );
        f.check(
            timer_irqs(t) == before,
            format_args!("the interrupt was taken while PPI 27 was disabled"),
        );
        gic::enable(t.intid());
        let taken = wait_for(
            100,
            "the virtual timer interrupt after enabling PPI 27",
            || timer_irqs(t) != before,
        );
        t.stop();
        if let Err(e) = taken {
            f.fail(format_args!("{e}"));
        }
        f.outcome()
    }

    /// An SGI made active by GICR_ISACTIVER0 is held back while active.
    fn active_sgi_not_taken() -> Outcome {
        let sgi = ACTIVE_SGI;
        irq::register(sgi, on_sgi);
        gic::enable(sgi);
        let taken = || SGI_TAKEN[sgi as usize].load(Ordering::Acquire);
        ensure!(
            !gic::is_active(sgi) && !gic::is_pending(sgi),
            "SGI {sgi} is active or pending before the test"
        );
        let mut f = Findings::new();
        gic::set_active(sgi);
        f.check(
            gic::is_active(sgi),
            format_args!("GICR_ISACTIVER0 does not read bit {sgi} after setting it"),
        );
        gic::send_sgi(sgi, smp::cpu_index());
        time::delay_ms(5);
        let early = taken();
        let (active, pending) = (gic::is_active(sgi), gic::is_pending(sgi));
        gic::clear_active(sgi);
        f.check(
            early == 0,
            format_args!("the SGI was taken while it was active"),
        );
        f.check(
            early != 0 || (active && pending),
            format_args!(
                "while active and sent again, SGI {sgi} reads active {active}, pending {pending}"
            ),
        );
        if let Err(e) = wait_for(
            100,
            "the SGI after GICR_ICACTIVER0 cleared its active state",
            || taken() != 0,
        ) {
            f.fail(format_args!("{e}"));
        }
        time::delay_ms(1);
        f.check(taken() <= 1, format_args!("taken {} times", taken()));
        f.check(
            !gic::is_active(sgi) && !gic::is_pending(sgi),
            format_args!(
                "SGI {sgi} still active ({}) or pending ({}) after its handler",
                gic::is_active(sgi),
                gic::is_pending(sgi)
            ),
        );
        f.outcome()
    }

    /// With EOImode 1 the handler only drops priority: the SGI reads active
    /// until GICR_ICACTIVER0 clears it; then it can be taken again.
    fn taken_sgi_reads_active() -> Outcome {
        let sgi = TAKEN_SGI;
        irq::register(sgi, on_sgi_drop_only);
        gic::enable(sgi);
        let taken = || SGI_TAKEN[sgi as usize].load(Ordering::Acquire);
        let mut f = Findings::new();
        gic::set_eoi_mode(true);
        gic::send_sgi(sgi, smp::cpu_index());
        if let Err(e) = wait_for(100, "the SGI sent to self", || taken() == 1) {
            f.fail(format_args!("{e}"));
        }
        f.check(
            gic::is_active(sgi),
            format_args!(
                "GICR_ISACTIVER0 reads {:#x} after the SGI was taken and not deactivated",
                gic::read32(gic::rd() + gic::gicr::ISACTIVER0)
            ),
        );
        gic::clear_active(sgi);
        f.check(
            !gic::is_active(sgi),
            format_args!("GICR_ISACTIVER0 still reads bit {sgi} after GICR_ICACTIVER0"),
        );
        gic::send_sgi(sgi, smp::cpu_index());
        if let Err(e) = wait_for(100, "the next SGI after GICR_ICACTIVER0", || taken() == 2) {
            f.fail(format_args!("{e}"));
        }
        // Whatever happened: deactivate it and go back to EOImode 0.
        gic::deactivate(sgi);
        gic::set_eoi_mode(false);
        f.check(
            !gic::is_active(sgi),
            format_args!("SGI {sgi} still reads active after DIR"),
        );
        f.outcome()
    }

    fn setup(dtb: usize) -> Outcome {
        let cpus = smp::cpu_count(dtb);
        ensure!(cpus >= 2, "the DTB lists {cpus} CPU(s), the test needs 2");
        gic::init_distributor()?;
        gic::init_cpu()?;
        for t in [Timer::Virtual, Timer::Physical] {
            irq::register(t.intid(), on_timer);
        }
        irq::register(WATCHDOG_SGI, on_watchdog);
        gic::enable(WATCHDOG_SGI);
        sync::enable_irqs();
        smp::start_server(1, 1000)
    }

    #[no_mangle]
    extern "C" fn guest_main(dtb: usize) -> ! {
        println!("guest-timers: hello from EL1");
        println!("counter frequency {} Hz", time::frequency());
        let mut tally = Tally::new("guest-timers");
        if !tally.check("two CPUs up with their GIC CPU interfaces", setup(dtb)) {
            tally.finish()
        }
        tally.check(
            "EL1 physical timer interrupts (PPI 30, ISTATUS set)",
            timer_fires(Timer::Physical),
        );
        tally.check(
            "EL1 virtual timer interrupts (PPI 27, ISTATUS set)",
            timer_fires(Timer::Virtual),
        );
        tally.check(
            "WFI returns for the physical timer alone (IRQs masked)",
            wfi_wakes(Timer::Physical),
        );
        tally.check(
            "WFI returns for the virtual timer alone (IRQs masked)",
            wfi_wakes(Timer::Virtual),
        );
        tally.check(
            "virtual timer with PPI 27 disabled: pending, CNTV_CTL kept, delivered once enabled",
            vtimer_pending_while_disabled(),
        );
        tally.check(
            "an SGI made active is not taken until GICR_ICACTIVER0",
            active_sgi_not_taken(),
        );
        tally.check(
            "a taken SGI reads active until GICR_ICACTIVER0 (EOImode 1)",
            taken_sgi_reads_active(),
        );
        let (n, last) = irq::unexpected();
        tally.check(
            "no interrupt without a handler",
            if n == 0 {
                Ok(())
            } else {
                Err(msg!("{n} taken, the last INTID {last}"))
            },
        );
        tally.finish()
    }
}
