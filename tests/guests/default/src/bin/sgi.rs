//! SGI ping-pong between two CPUs. The receiver's handler acknowledges the
//! SGI, sets a flag, and only then ends it (EOIR); the sender sends the
//! next SGI as soon as it sees the flag. A new SGI thus becomes pending
//! while the previous activation may still sit in a hypervisor's list
//! register: the pattern that loses SGIs when a hypervisor merges or drops
//! that pending state. A round trip slower than 1 s is reported as lost.
//!
//! 1. CPU 0 -> CPU 1, 65,536 round trips, the receiver busy (spinning in
//!    a job, so the next SGI arrives while it runs guest code);
//! 2. CPU 1 -> CPU 0, the same with the roles swapped;
//! 3. CPU 0 -> CPU 1, 16,384 round trips, the receiver idle in WFI
//!    between SGIs.
//!
//! QEMU runs each vCPU on a host thread: with two spinning vCPUs, a round
//! trip on a busy host waits for the host's scheduler, so each part also
//! stops after 10 s (5 s for part 3) and says how far it got; that is not
//! a failure. The mean round trip is printed in ns.
#![cfg_attr(target_os = "none", no_std, no_main)]
// Failure messages are fixed buffers (no heap); see the library.
#![allow(clippy::result_large_err)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-sgi is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use guest_default::rt::report::{Msg, Outcome, Tally};
    use guest_default::rt::smp::{self, MAX_CPUS};
    use guest_default::rt::sync::IrqLock;
    use guest_default::rt::time::{self, counter, ticks_from_ms, ticks_to_ns, wait_for};
    use guest_default::rt::{gic, irq, sync};
    use guest_default::{ensure, msg, println};

    /// The SGI the CPUs ping each other with.
    const PING: u32 = 1;
    /// Round trips with a busy and with an idle receiver.
    const BUSY_ROUNDS: u32 = 65_536;
    const IDLE_ROUNDS: u32 = 16_384;
    /// Time limits of the parts (ms).
    const BUSY_LIMIT_MS: u64 = 10_000;
    const IDLE_LIMIT_MS: u64 = 5_000;
    /// A round trip slower than this (while the receiver runs) is a lost
    /// SGI; a receiver that does not run at all gets STALL_MS.
    const LOST_MS: u64 = 1000;
    const STALL_MS: u64 = 5_000;

    /// Pings each CPU received.
    static RECEIVED: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
    /// Ends CPU 1's busy job.
    static STOP: AtomicBool = AtomicBool::new(false);
    /// Loops of the busy receiver (shows whether it still runs).
    static HEARTBEAT: AtomicU32 = AtomicU32::new(0);
    /// The outcome of CPU 1's pings (part 2).
    static REMOTE: IrqLock<Option<PingPong>> = IrqLock::new(None);

    /// Set the flag before the dispatcher writes EOIR (Eoi::Complete).
    fn on_ping(cpu: usize, _intid: u32) -> irq::Eoi {
        RECEIVED[cpu].fetch_add(1, Ordering::Release);
        irq::Eoi::Complete
    }

    /// How a ping-pong went.
    #[derive(Clone, Copy, Debug)]
    enum PingPong {
        /// `rounds` round trips (fewer if the time limit hit), mean ticks.
        Done { rounds: u32, mean: u64 },
        /// Round `round` was not taken in time; the receiver took `got`;
        /// its GICR_ISPENDR0 and GICR_ISACTIVER0 read `pending`/`active`
        /// then; it was seen running for `ran_ms` of the `waited_ms`.
        Lost {
            round: u32,
            got: u32,
            pending: u32,
            active: u32,
            ran_ms: u64,
            waited_ms: u64,
        },
    }

    /// Ping CPU `to` `rounds` times, for at most `limit_ms`. A busy
    /// receiver counts HEARTBEAT while it spins: an SGI is lost when the
    /// receiver was seen running (its heartbeat moving) for LOST_MS in all
    /// without taking it. Time in which it did not run at all (QEMU's vCPU
    /// thread descheduled on a loaded host) does not count, up to
    /// STALL_MS. An idle receiver (in WFI) has LOST_MS from the send.
    fn ping_pong(to: usize, rounds: u32, limit_ms: u64, busy: bool) -> PingPong {
        let base = RECEIVED[to].load(Ordering::Acquire);
        let (lost, stall, sample) = (
            ticks_from_ms(LOST_MS),
            ticks_from_ms(STALL_MS),
            ticks_from_ms(1),
        );
        let start = counter();
        let end = start + ticks_from_ms(limit_ms);
        for n in 0..rounds {
            let want = base.wrapping_add(n + 1);
            let sent = counter();
            if sent > end {
                return PingPong::Done {
                    rounds: n,
                    mean: (sent - start) / u64::from(n.max(1)),
                };
            }
            gic::send_sgi(PING, to);
            let (mut ran, mut checked, mut beat) = (0, sent, HEARTBEAT.load(Ordering::Acquire));
            while RECEIVED[to].load(Ordering::Acquire) != want {
                let now = counter();
                if now - checked >= sample {
                    let b = HEARTBEAT.load(Ordering::Acquire);
                    if !busy || b != beat {
                        ran += now - checked;
                    }
                    (checked, beat) = (now, b);
                }
                if (ran > lost || now - sent > stall)
                    && RECEIVED[to].load(Ordering::Acquire) != want
                {
                    let got = RECEIVED[to].load(Ordering::Acquire).wrapping_sub(base);
                    let rd = gic::rd_of(to);
                    return PingPong::Lost {
                        round: n,
                        got,
                        pending: gic::read32(rd + gic::gicr::ISPENDR0),
                        active: gic::read32(rd + gic::gicr::ISACTIVER0),
                        ran_ms: time::ticks_to_ms(ran),
                        waited_ms: time::ticks_to_ms(now - sent),
                    };
                }
                core::hint::spin_loop();
            }
        }
        PingPong::Done {
            rounds,
            mean: (counter() - start) / u64::from(rounds),
        }
    }

    fn verdict(from: usize, to: usize, how: &str, asked: u32, result: PingPong) -> Outcome {
        match result {
            PingPong::Done { rounds, mean } => {
                let limit = if rounds < asked {
                    " (stopped by the time limit)"
                } else {
                    ""
                };
                println!(
                    "sgi CPU {from} -> CPU {to}, receiver {how}: {rounds} round trips{limit}, mean {} ns",
                    ticks_to_ns(mean)
                );
                // Nothing more may arrive: each SGI is taken exactly once.
                let before = RECEIVED[to].load(Ordering::Acquire);
                time::delay_ms(10);
                let after = RECEIVED[to].load(Ordering::Acquire);
                ensure!(
                    after == before,
                    "{} extra SGI(s) arrived after the last round",
                    after.wrapping_sub(before)
                );
                Ok(())
            }
            PingPong::Lost {
                round,
                got,
                pending,
                active,
                ran_ms,
                waited_ms,
            } => Err(msg!(
                "SGI lost at round {round}: CPU {to} took {got} of {} in {waited_ms} ms, {ran_ms} ms of them running (its GICR_ISPENDR0 {pending:#x}, GICR_ISACTIVER0 {active:#x})",
                round + 1
            )),
        }
    }

    /// Job for CPU 1: stay busy (IRQs unmasked) until STOP.
    fn spin(_cpu: usize, _arg: u64) -> u64 {
        while !STOP.load(Ordering::Acquire) {
            HEARTBEAT.fetch_add(1, Ordering::Relaxed);
            core::hint::spin_loop();
        }
        0
    }

    /// Job for CPU 1: ping CPU 0; the outcome goes to REMOTE.
    fn remote_ping(_cpu: usize, _arg: u64) -> u64 {
        let result = ping_pong(0, BUSY_ROUNDS, BUSY_LIMIT_MS, true);
        REMOTE.with(|r| *r = Some(result));
        0
    }

    /// Part 1: CPU 1 spins in a job while CPU 0 pings it.
    fn busy_receiver() -> Outcome {
        STOP.store(false, Ordering::Release);
        let ticket = smp::post(1, spin, 0)?;
        let result = ping_pong(1, BUSY_ROUNDS, BUSY_LIMIT_MS, true);
        STOP.store(true, Ordering::Release);
        smp::wait_job(1, ticket, 1000)?;
        verdict(0, 1, "busy", BUSY_ROUNDS, result)
    }

    /// Part 2: CPU 1 pings CPU 0, which spins until the job is done.
    fn swapped() -> Outcome {
        REMOTE.with(|r| *r = None);
        let ticket = smp::post(1, remote_ping, 0)?;
        wait_for(BUSY_LIMIT_MS + STALL_MS + 1000, "CPU 1's pings", || {
            HEARTBEAT.fetch_add(1, Ordering::Relaxed);
            smp::poll_job(1, ticket).is_some()
        })?;
        let result = REMOTE
            .with(|r| *r)
            .ok_or_else(|| msg!("CPU 1's job left no result"))?;
        verdict(1, 0, "busy", BUSY_ROUNDS, result)
    }

    fn setup(dtb: usize) -> Result<(), Msg> {
        let cpus = smp::cpu_count(dtb);
        ensure!(cpus >= 2, "the DTB lists {cpus} CPU(s), the test needs 2");
        gic::init_distributor()?;
        gic::init_cpu()?;
        irq::register(PING, on_ping);
        gic::enable(PING);
        sync::enable_irqs();
        smp::start_server(1, 1000)?;
        smp::run_on(
            1,
            |_, _| {
                gic::enable(PING);
                0
            },
            0,
            1000,
        )?;
        Ok(())
    }

    #[no_mangle]
    extern "C" fn guest_main(dtb: usize) -> ! {
        println!("guest-sgi: hello from EL1");
        let mut tally = Tally::new("guest-sgi");
        if !tally.check("two CPUs up with their GIC CPU interfaces", setup(dtb)) {
            tally.finish()
        }
        tally.check(
            "SGI ping-pong CPU 0 -> CPU 1, busy receiver, flag set before EOI",
            busy_receiver(),
        );
        tally.check(
            "SGI ping-pong CPU 1 -> CPU 0, busy receiver, flag set before EOI",
            swapped(),
        );
        tally.check(
            "SGI ping-pong CPU 0 -> CPU 1, receiver idle in WFI, flag set before EOI",
            verdict(
                0,
                1,
                "idle",
                IDLE_ROUNDS,
                ping_pong(1, IDLE_ROUNDS, IDLE_LIMIT_MS, false),
            ),
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
