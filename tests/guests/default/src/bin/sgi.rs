//! SGI ping-pong between two CPUs. The receiver's handler acknowledges the
//! SGI, sets a flag, and only then ends it (EOIR); the sender sends the
//! next SGI as soon as it sees the flag. A new SGI thus becomes pending
//! while the previous activation may still sit in a hypervisor's list
//! register: the pattern that loses SGIs when a hypervisor merges or drops
//! that pending state. 65,536 round trips CPU 0 -> CPU 1, then as many the
//! other way; a round trip slower than 1 s is reported as lost.
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
    use core::sync::atomic::{AtomicU32, Ordering};
    use guest_default::rt::report::{Msg, Outcome, Tally};
    use guest_default::rt::smp::{self, MAX_CPUS};
    use guest_default::rt::time::{self, counter, ticks_from_ms, ticks_to_ns};
    use guest_default::rt::{gic, irq, sync};
    use guest_default::{ensure, msg, println};

    /// The SGI the CPUs ping each other with.
    const PING: u32 = 1;
    /// Round trips each way.
    const ROUNDS: u32 = 65_536;
    /// A round trip slower than this is a lost SGI.
    const LOST_MS: u64 = 1000;

    /// Pings each CPU received.
    static RECEIVED: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

    /// Set the flag before the dispatcher writes EOIR (Eoi::Complete).
    fn on_ping(cpu: usize, _intid: u32) -> irq::Eoi {
        RECEIVED[cpu].fetch_add(1, Ordering::Release);
        irq::Eoi::Complete
    }

    /// Mean round-trip ticks, or u64::MAX - round when `round` was lost.
    fn ping_pong(to: usize) -> Result<u64, (u32, u32)> {
        let base = RECEIVED[to].load(Ordering::Acquire);
        let lost = ticks_from_ms(LOST_MS);
        let start = counter();
        for n in 0..ROUNDS {
            let want = base.wrapping_add(n + 1);
            let sent = counter();
            gic::send_sgi(PING, to);
            while RECEIVED[to].load(Ordering::Acquire) != want {
                if counter() - sent > lost && RECEIVED[to].load(Ordering::Acquire) != want {
                    return Err((n, RECEIVED[to].load(Ordering::Acquire).wrapping_sub(base)));
                }
                core::hint::spin_loop();
            }
        }
        Ok((counter() - start) / u64::from(ROUNDS))
    }

    fn verdict(from: usize, to: usize, result: Result<u64, (u32, u32)>) -> Outcome {
        match result {
            Ok(mean) => {
                println!(
                    "sgi CPU {from} -> CPU {to}: {ROUNDS} round trips, mean {} ns",
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
            Err((round, got)) => Err(msg!(
                "SGI lost at round {round}: CPU {to} took {got} of {} within {LOST_MS} ms",
                round + 1
            )),
        }
    }

    /// Job for CPU 1: ping CPU `to`; the result packs the outcome.
    fn remote_ping(_cpu: usize, to: u64) -> u64 {
        match ping_pong(to as usize) {
            Ok(mean) => mean,
            Err((round, got)) => (1 << 63) | (u64::from(round) << 32) | u64::from(got),
        }
    }

    fn unpack(r: u64) -> Result<u64, (u32, u32)> {
        if r >> 63 == 0 {
            Ok(r)
        } else {
            Err((((r >> 32) as u32) & 0x7fff_ffff, r as u32))
        }
    }

    fn setup(dtb: usize) -> Outcome {
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
            "SGI ping-pong CPU 0 -> CPU 1, flag set before EOI",
            verdict(0, 1, ping_pong(1)),
        );
        let swapped = smp::run_on(1, remote_ping, 0, 50_000)
            .map_err(|e: Msg| e)
            .and_then(|r| verdict(1, 0, unpack(r)));
        tally.check("SGI ping-pong CPU 1 -> CPU 0, flag set before EOI", swapped);
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
