//! A virtqueue flood from one vCPU while another sits in QUEUE_NOTIFY.
//!
//! A device model that serves a notification until the available ring is
//! empty never returns from it while the driver keeps publishing from
//! another CPU: the notifying vCPU (and, in a hypervisor that serves it
//! under its VM lock, every other vCPU's exits) is held for as long as the
//! publishing goes on. This guest does exactly that, with its own raw
//! virtqueue driver (`rt::rawblk`) on the first writable virtio-blk disk:
//!
//! 1. set up queue 0 with 256 entries (VERSION_1 only, no interrupts,
//!    completions polled);
//! 2. write a pattern to 64 sectors with ordinary requests (one notify
//!    each) and read two of them back;
//! 3. CPU 1 publishes K one-sector reads (K = 85: each a header, data,
//!    status chain of 3 descriptors), then keeps reaping used entries and
//!    publishing their chains again, never writing QUEUE_NOTIFY, until CPU
//!    0 raises its flag (or 2,000,000 requests / 10 s have gone by). CPU 0
//!    waits until CPU 1 has all K reads published and is seen running,
//!    writes QUEUE_NOTIFY and reads the used index as soon as the write
//!    returns: the requests completed meanwhile say how long the device
//!    kept it. It does that again (for at most 4 s) until five notifies
//!    each saw a queue's worth (256) or more complete, that is, CPU 1 kept
//!    republishing while they ran; after each of those CPU 0 watches the
//!    used ring for 20 ms (CPU 1 still publishing, nobody notifying), then
//!    CPU 1 pauses and CPU 0 spins on the used ring until the device has
//!    served what was left (kicking as in the drain below). Then CPU 0 raises the flag. The test
//!    passes if CPU 1 stopped because of the flag, not its limit, and no
//!    notify saw more than six queues' worth complete (a queue's worth in
//!    the notify itself; the rest is work left over that a hypervisor may
//!    serve at the same exit, or at the next ones if the guest is slow to
//!    read the index: under a loaded host twice or three times the queue
//!    size is seen);
//! 4. CPU 0 then waits (bounded) until every read in flight completes,
//!    spinning on the used ring. A driver that published without a notify
//!    owes the device one (the device does not suppress notifications), so
//!    after 100 ms without progress it writes QUEUE_NOTIFY and counts the
//!    kick. Every used entry must name a chain in flight (no head twice per
//!    publication, none lost), every status byte be OK, every used length
//!    513 and every sector's data the pattern;
//! 5. one more write and read with ordinary requests.
//!
//! On plain QEMU (the reference) a QUEUE_NOTIFY of virtio-mmio runs in the
//! vCPU's thread holding QEMU's big lock: the device submits what is
//! available and returns, and the reads complete afterwards in QEMU's main
//! loop, which needs that lock. So at most what was available completes
//! while a notify runs there (and only if CPU 0's thread is descheduled
//! before it reads the index), CPU 1 cannot keep a notify busy, and the
//! notify rounds run until their time limit; what the test checks (every
//! notify returns in bounded time, nothing is lost or duplicated, the data
//! is right) holds on both. Under hv-kernel the device serves requests
//! inside the notify, so CPU 1 does republish while it runs: hv serves at
//! most a queue's worth per notification and the rest at later exits and
//! from a 100 µs timer while work is left, which is what lets the notify
//! return, and the work left over be served while the guest spins on the
//! used ring (the reads CPU 1 published after the last notify the device
//! had no reason to look at, so the final drain usually kicks). A hypervisor
//! without that bound keeps CPU 0 in the notify for as long as CPU 1 keeps
//! up, which shows as a notify with thousands of completions or CPU 1
//! reaching its limit.
//!
//! CPU 1 keeps a notify busy only while its host thread runs. Under hv
//! each of the guest's reads is a request of hv's own to QEMU's disk,
//! which completes in QEMU's main loop thread; with two vCPU threads
//! spinning on a 2-core host, that thread and CPU 1's take turns, CPU 1 is
//! descheduled for a scheduler tick (about 4 ms) every few ms, and K reads
//! (at 50 us or more each) barely outlast that. So on such a host a flood
//! rarely outlasts a few hundred requests, a hypervisor without the bound
//! may get away with it, and a run may see no full notify at all (the
//! guest says so); with cores to spare CPU 1 keeps up for as long as it
//! likes.
#![cfg_attr(target_os = "none", no_std, no_main)]
// Failure messages are fixed buffers (no heap); see the library.
#![allow(clippy::result_large_err)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-vflood is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::fmt::Write;
    use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    use guest_default::rt::rawblk::{
        Blk, Kind, Notifier, RingIndices, Used, BULK_SECTORS, MAX_CHAINS, SECTOR, S_OK,
    };
    use guest_default::rt::report::{Findings, Msg, Outcome, Tally};
    use guest_default::rt::smp;
    use guest_default::rt::sync::IrqLock;
    use guest_default::rt::time::{
        counter, delay_us, ticks_from_ms, ticks_to_ms, ticks_to_ns, wait_for,
    };
    use guest_default::{ensure, msg, println};

    /// Entries of queue 0 (a notify serves at most this many under hv).
    const QUEUE: u16 = 256;
    /// The sectors the pattern is written to and the flood reads.
    const BASE: u64 = 2048;
    const SECTORS: u64 = BULK_SECTORS as u64;
    /// Sectors per ordinary write of the pattern.
    const WRITE_SECTORS: usize = 16;
    /// The sector of the write and read after the flood.
    const AFTER: u64 = BASE + SECTORS;
    /// CPU 1's limits.
    const MAX_REQUESTS: u64 = 2_000_000;
    const MAX_MS: u64 = 10_000;
    /// CPU 0 notifies until this many notifies saw a queue's worth
    /// complete, for at most NOTIFY_MS.
    const FULL_NOTIFIES: usize = 5;
    const NOTIFY_MS: u64 = 4000;
    /// How long CPU 0 watches the ring after a notify that saw a queue's
    /// worth complete.
    const WATCH_MS: u64 = 20;
    /// CPU 1 counts as running when its heartbeat moves within this long.
    const RUNNING_US: u64 = 10;
    /// Most completions one notify may see, in queues' worth.
    const NOTIFY_BOUND_QUEUES: u64 = 6;
    /// Bound on an ordinary request.
    const REQUEST_MS: u64 = 2000;
    /// Bound on waiting for the device to serve what is left, and the time
    /// without progress after which the driver kicks.
    const DRAIN_MS: u64 = 5000;
    const STALL_MS: u64 = 100;
    /// Used length of a one-sector read: data and status byte.
    const READ_LEN: u32 = SECTOR as u32 + 1;

    /// Word `w` of sector `sector` of the pattern of this run (`seed`).
    fn pattern(seed: u64, sector: u64, w: usize) -> u64 {
        // splitmix64 of the position.
        let mut z = seed
            .wrapping_add(sector.wrapping_mul(SECTOR as u64 / 8) + w as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The driver and the bookkeeping of the flood's requests; owned by
    /// CPU 1 during the flood and by CPU 0 otherwise.
    struct Flood {
        blk: Blk,
        seed: u64,
        /// Sequence number of the read each chain has in flight.
        busy: [Option<u64>; MAX_CHAINS],
        in_flight: usize,
        /// Sequence number of the next read (it reads sector BASE + seq %
        /// SECTORS).
        next_seq: u64,
        published: u64,
        completed: u64,
        bad_status: u64,
        bad_len: u64,
        bad_data: u64,
        /// Used entries whose head was not in flight: duplicated or bogus.
        stray: u64,
        first_error: Option<Msg>,
    }

    impl Flood {
        fn new(blk: Blk, seed: u64) -> Self {
            Flood {
                blk,
                seed,
                busy: [None; MAX_CHAINS],
                in_flight: 0,
                next_seq: 0,
                published: 0,
                completed: 0,
                bad_status: 0,
                bad_len: 0,
                bad_data: 0,
                stray: 0,
                first_error: None,
            }
        }

        fn note(&mut self, m: Msg) {
            if self.first_error.is_none() {
                self.first_error = Some(m);
            }
        }

        /// Publish a read on chain `chain` (idle); no notify.
        fn publish_read(&mut self, chain: usize) {
            let seq = self.next_seq;
            self.blk.prepare(chain, Kind::Read, BASE + seq % SECTORS);
            self.busy[chain] = Some(seq);
            self.in_flight += 1;
            self.blk.publish(chain);
            self.next_seq += 1;
            self.published += 1;
        }

        /// Publish a read on some idle chain, if there is one.
        fn publish_idle(&mut self) {
            if self.in_flight < self.blk.chains() {
                if let Some(c) = self.busy[..self.blk.chains()]
                    .iter()
                    .position(Option::is_none)
                {
                    self.publish_read(c);
                }
            }
        }

        /// Take the next used entry, if any, and check it: `Some(Some(c))`
        /// when it completed chain `c`'s read, `Some(None)` for a stray.
        fn reap(&mut self) -> Option<Option<usize>> {
            let Used { id, len } = self.blk.pop_used()?;
            let Some((chain, seq)) = self
                .blk
                .chain_of(id)
                .and_then(|c| self.busy[c].map(|seq| (c, seq)))
            else {
                self.stray += 1;
                self.note(msg!(
                    "used entry {} has head {id}, which is not in flight",
                    self.completed + self.stray
                ));
                return Some(None);
            };
            self.busy[chain] = None;
            self.in_flight -= 1;
            self.completed += 1;
            let sector = BASE + seq % SECTORS;
            let status = self.blk.status(chain);
            if status != S_OK {
                self.bad_status += 1;
                self.note(msg!("read {seq} (sector {sector}): status {status:#x}"));
            }
            if len != READ_LEN {
                self.bad_len += 1;
                self.note(msg!(
                    "read {seq} (sector {sector}): used length {len}, expected {READ_LEN}"
                ));
            }
            let seed = self.seed;
            if let Some((w, found, expected)) =
                self.blk.check_data(chain, |w| pattern(seed, sector, w))
            {
                self.bad_data += 1;
                self.note(msg!(
                    "read {seq} (sector {sector}): word {w} is {found:#x}, the disk holds {expected:#x}"
                ));
            }
            Some(Some(chain))
        }

        /// One request on chain 0 with a notify, waited for (nothing else
        /// in flight); returns its used entry.
        fn ordinary(&mut self, kind: Kind, sector: u64) -> Result<Used, Msg> {
            ensure!(
                self.in_flight == 0,
                "{} requests still in flight",
                self.in_flight
            );
            self.blk.prepare(0, kind, sector);
            self.blk.publish(0);
            self.blk.notifier().notify();
            let mut used = None;
            wait_for(REQUEST_MS, "a request to complete", || {
                used = self.blk.pop_used();
                used.is_some()
            })
            .map_err(|t| msg!("{kind:?} at sector {sector}: {t}"))?;
            let used = used.ok_or_else(|| msg!("no used entry"))?;
            ensure!(
                used.id == Blk::head(0),
                "{kind:?} at sector {sector}: used entry names head {}, expected {}",
                used.id,
                Blk::head(0)
            );
            let status = self.blk.status(0);
            ensure!(
                status == S_OK,
                "{kind:?} at sector {sector}: status {status:#x}"
            );
            Ok(used)
        }

        /// Ordinary one-sector read of `sector`, checked against the
        /// pattern of `seed`.
        fn read_back(&mut self, seed: u64, sector: u64) -> Outcome {
            let used = self.ordinary(Kind::Read, sector)?;
            ensure!(
                used.len == READ_LEN,
                "read of sector {sector}: used length {}, expected {READ_LEN}",
                used.len
            );
            if let Some((w, found, expected)) = self.blk.check_data(0, |w| pattern(seed, sector, w))
            {
                return Err(msg!(
                    "read of sector {sector}: word {w} is {found:#x}, expected {expected:#x}"
                ));
            }
            Ok(())
        }

        /// Ordinary write of `count` sectors at `sector` with the pattern
        /// of `seed`.
        fn write(&mut self, seed: u64, sector: u64, count: usize) -> Outcome {
            self.blk
                .fill_bulk(count, |s, w| pattern(seed, sector + s as u64, w));
            let used = self.ordinary(Kind::Write { sectors: count }, sector)?;
            ensure!(
                used.len == 1,
                "write of sectors {sector}..{}: used length {}, expected 1",
                sector + count as u64,
                used.len
            );
            Ok(())
        }
    }

    static STATE: IrqLock<Option<Flood>> = IrqLock::new(None);
    /// CPU 1 has published its first requests.
    static PUBLISHING: AtomicBool = AtomicBool::new(false);
    /// CPU 1 publishes nothing while this is not 0 (the number of CPU 0's
    /// pause request) ...
    static PAUSE: AtomicU32 = AtomicU32::new(0);
    /// ... and acknowledges each value it acts on here.
    static PAUSED: AtomicU32 = AtomicU32::new(0);
    /// CPU 0's last QUEUE_NOTIFY returned: CPU 1 stops.
    static STOP: AtomicBool = AtomicBool::new(false);
    /// Loops of CPU 1's publisher (shows that it runs).
    static HEARTBEAT: AtomicU64 = AtomicU64::new(0);
    /// Used entries CPU 1 has taken so far.
    static TAKEN: AtomicU64 = AtomicU64::new(0);
    /// CPU 1 stopped publishing; its report is in REPORT.
    static DONE: AtomicBool = AtomicBool::new(false);
    static REPORT: IrqLock<Option<Published>> = IrqLock::new(None);

    /// What CPU 1 did.
    #[derive(Clone, Copy, Debug)]
    struct Published {
        requests: u64,
        ticks: u64,
        /// It stopped because it saw STOP (not its limit).
        saw_flag: bool,
    }

    /// CPU 1: publish K reads, then reap and publish again without ever
    /// notifying, until the flag or the limit; nothing is published while
    /// CPU 0 asks for a pause.
    fn publisher(_cpu: usize) {
        let report = STATE.with(|state| {
            let f = state.as_mut()?;
            let before = f.published;
            for c in 0..f.blk.chains() {
                f.publish_read(c);
            }
            PUBLISHING.store(true, Ordering::Release);
            let start = counter();
            let limit = ticks_from_ms(MAX_MS);
            let mut beat = 0u64;
            let saw_flag = loop {
                beat += 1;
                HEARTBEAT.store(beat, Ordering::Relaxed);
                if STOP.load(Ordering::Acquire) {
                    break true;
                }
                if f.published - before >= MAX_REQUESTS || counter() - start >= limit {
                    break false;
                }
                let request = PAUSE.load(Ordering::Acquire);
                // Everything published so far is visible before the answer.
                PAUSED.store(request, Ordering::Release);
                let pause = request != 0;
                let reaped = f.reap();
                if reaped.is_some() {
                    TAKEN.store(f.completed + f.stray, Ordering::Release);
                }
                match reaped {
                    Some(Some(chain)) if !pause => f.publish_read(chain),
                    Some(_) => {}
                    None if !pause => f.publish_idle(),
                    None => {}
                }
            };
            Some(Published {
                requests: f.published - before,
                ticks: counter() - start,
                saw_flag,
            })
        });
        REPORT.with(|r| *r = report);
        DONE.store(true, Ordering::Release);
    }

    fn setup(dtb: usize) -> Outcome {
        let cpus = smp::cpu_count(dtb);
        ensure!(cpus >= 2, "the DTB lists {cpus} CPU(s), the test needs 2");
        let blk = Blk::probe(QUEUE)?;
        ensure!(
            blk.capacity() > AFTER,
            "the disk has {} sectors, the test uses sectors up to {AFTER}",
            blk.capacity()
        );
        ensure!(
            blk.queue_size() == QUEUE,
            "queue 0 takes {} entries, the test wants {QUEUE}",
            blk.queue_size()
        );
        println!(
            "vflood: virtio-blk at slot {}: {} sectors, queue size {}, {} reads in flight",
            blk.slot(),
            blk.capacity(),
            blk.queue_size(),
            blk.chains()
        );
        let seed = counter() | 1;
        STATE.with(|s| *s = Some(Flood::new(blk, seed)));
        Ok(())
    }

    /// Run `f` on the flood state (CPU 0, while CPU 1 does not hold it).
    fn with_flood(f: impl FnOnce(&mut Flood) -> Outcome) -> Outcome {
        STATE.with(|s| match s.as_mut() {
            Some(flood) => f(flood),
            None => Err(msg!("the disk was not set up")),
        })
    }

    fn write_pattern() -> Outcome {
        with_flood(|f| {
            let seed = f.seed;
            for first in (0..BULK_SECTORS).step_by(WRITE_SECTORS) {
                f.write(seed, BASE + first as u64, WRITE_SECTORS)?;
            }
            f.read_back(seed, BASE)?;
            f.read_back(seed, BASE + SECTORS - 1)
        })
    }

    /// How a wait for the device to serve everything published went.
    #[derive(Clone, Copy, Debug, Default)]
    struct Settled {
        served: u16,
        ticks: u64,
        kicks: u32,
        /// Everything published was served.
        done: bool,
    }

    /// Spin (at most DRAIN_MS) until `done()`, watching the used index:
    /// after STALL_MS without progress, kick the device as a driver that
    /// published without notifying must.
    fn settle(rings: RingIndices, notifier: Notifier, mut done: impl FnMut() -> bool) -> Settled {
        let start = counter();
        let first = rings.used();
        let (mut seen, mut progress, mut kicks) = (first, start, 0);
        loop {
            if done() {
                break;
            }
            let now = counter();
            if now - start > ticks_from_ms(DRAIN_MS) {
                break;
            }
            let used = rings.used();
            if used != seen {
                (seen, progress) = (used, now);
            } else if now - progress > ticks_from_ms(STALL_MS) {
                notifier.notify();
                kicks += 1;
                progress = now;
            }
        }
        Settled {
            served: rings.used().wrapping_sub(first),
            ticks: counter() - start,
            kicks,
            done: done(),
        }
    }

    /// One QUEUE_NOTIFY of CPU 0 while CPU 1 publishes.
    #[derive(Clone, Copy, Debug, Default)]
    struct Notify {
        /// Counter ticks the write took.
        ticks: u64,
        /// Requests completed by the time it returned.
        completed: u64,
    }

    /// Used entries the device has returned during the flood, plus a
    /// constant (the ordinary requests before it), for differences: CPU 1
    /// takes them and counts in TAKEN, and at most K are returned and not
    /// yet taken, so the 16-bit used index (which alone wraps after 65,536)
    /// says how many beyond TAKEN.
    fn used_total(rings: RingIndices) -> u64 {
        let taken = TAKEN.load(Ordering::Acquire);
        let used = rings.used();
        taken + u64::from(used.wrapping_sub(taken as u16))
    }

    /// Wait until CPU 1 has all its reads published and runs right now
    /// (its heartbeat moves within RUNNING_US), then notify once and read
    /// the used index as soon as the write returns.
    fn notify_once(notifier: Notifier, rings: RingIndices, in_flight: u16) -> Result<Notify, Msg> {
        wait_for(1000, "CPU 1 to publish all its reads again", || {
            if DONE.load(Ordering::Acquire) {
                return true;
            }
            if rings.avail().wrapping_sub(rings.used()) != in_flight {
                return false;
            }
            let beat = HEARTBEAT.load(Ordering::Acquire);
            delay_us(RUNNING_US);
            HEARTBEAT.load(Ordering::Acquire) != beat
        })?;
        ensure!(!DONE.load(Ordering::Acquire), "CPU 1 stopped early");
        let used = used_total(rings);
        let start = counter();
        notifier.notify();
        let completed = used_total(rings) - used;
        Ok(Notify {
            ticks: counter() - start,
            completed,
        })
    }

    /// Pause CPU 1 (pause request `request`, not 0) and wait until the
    /// device served everything it had.
    fn pause_and_settle(
        request: u32,
        rings: RingIndices,
        notifier: Notifier,
    ) -> Result<Settled, Msg> {
        PAUSE.store(request, Ordering::Release);
        wait_for(1000, "CPU 1 to pause", || {
            PAUSED.load(Ordering::Acquire) == request || DONE.load(Ordering::Acquire)
        })?;
        let settled = settle(rings, notifier, || rings.used() == rings.avail());
        PAUSE.store(0, Ordering::Release);
        ensure!(
            settled.done,
            "{} requests left unserved {} ms after the notify ({} kicks)",
            rings.avail().wrapping_sub(rings.used()),
            ticks_to_ms(settled.ticks),
            settled.kicks
        );
        Ok(settled)
    }

    fn flood() -> Outcome {
        let (notifier, rings, chains, queue) = STATE
            .with(|s| {
                s.as_ref().map(|f| {
                    (
                        f.blk.notifier(),
                        f.blk.indices(),
                        f.blk.chains() as u16,
                        f.blk.queue_size(),
                    )
                })
            })
            .ok_or_else(|| msg!("the disk was not set up"))?;
        smp::start(1, publisher, 1000)?;
        wait_for(2000, "CPU 1 to publish its first requests", || {
            PUBLISHING.load(Ordering::Acquire) || DONE.load(Ordering::Acquire)
        })?;
        let mut findings = Findings::new();
        let (mut notifies, mut longest, mut most) = (0u32, Notify::default(), 0u64);
        let mut full = [0u64; FULL_NOTIFIES];
        let mut fulls = 0;
        let (mut later, mut left) = (Settled::default(), Settled::default());
        let start = counter();
        while fulls < FULL_NOTIFIES && counter() - start < ticks_from_ms(NOTIFY_MS) {
            let n = match notify_once(notifier, rings, chains) {
                Ok(n) => n,
                Err(e) => {
                    findings.fail(format_args!("notify {}: {e}", notifies + 1));
                    break;
                }
            };
            notifies += 1;
            most = most.max(n.completed);
            if n.ticks > longest.ticks {
                longest = n;
            }
            if DONE.load(Ordering::Acquire) {
                break;
            }
            if n.completed >= u64::from(queue) {
                full[fulls] = n.completed;
                fulls += 1;
                // A device that left work for later goes on serving it (and
                // CPU 1 on publishing) without a notify.
                let (used, watch) = (rings.used(), counter());
                delay_us(WATCH_MS * 1000);
                later.served = later.served.wrapping_add(rings.used().wrapping_sub(used));
                later.ticks += counter() - watch;
                match pause_and_settle(fulls as u32, rings, notifier) {
                    Ok(s) => {
                        left.served = left.served.wrapping_add(s.served);
                        left.ticks += s.ticks;
                        left.kicks += s.kicks;
                    }
                    Err(e) => {
                        findings.fail(format_args!("notify {notifies}: {e}"));
                        break;
                    }
                }
            }
        }
        STOP.store(true, Ordering::Release);
        wait_for(MAX_MS + 5000, "CPU 1 to stop publishing", || {
            DONE.load(Ordering::Acquire)
        })?;
        let p = REPORT
            .with(|r| *r)
            .ok_or_else(|| msg!("CPU 1 left no report"))?;
        println!(
            "vflood: {notifies} notifies ({chains} reads in flight, queue size {queue}); the longest took {} us, {} requests completed during it",
            ticks_to_ns(longest.ticks) / 1000,
            longest.completed
        );
        let mut counts = msg!("");
        for c in &full[..fulls] {
            let _ = write!(counts, " {c}");
        }
        println!(
            "vflood: notifies that saw a queue's worth or more complete: {fulls} (completions:{counts}){}",
            if fulls == 0 {
                "; CPU 1 kept no notify busy"
            } else {
                ""
            }
        );
        if fulls > 0 {
            println!(
                "vflood: after them, with CPU 1 still publishing and no notify: {} requests completed in {} ms",
                later.served,
                ticks_to_ms(later.ticks)
            );
            println!(
                "vflood: then, CPU 1 paused, the rest: {} requests, served in {} ms while CPU 0 spun, {} kick(s)",
                left.served,
                ticks_to_ms(left.ticks),
                left.kicks
            );
        }
        println!(
            "vflood: CPU 1 published {} requests without a notify in {} ms",
            p.requests,
            ticks_to_ms(p.ticks)
        );
        findings.check(
            p.saw_flag,
            format_args!(
                "CPU 1 reached its limit before CPU 0's notifies returned: {} requests published in {} ms",
                p.requests,
                ticks_to_ms(p.ticks)
            ),
        );
        let bound = u64::from(queue) * NOTIFY_BOUND_QUEUES;
        findings.check(
            most <= bound || !p.saw_flag,
            format_args!(
                "{most} requests completed during one notify, more than {NOTIFY_BOUND_QUEUES} queues' worth ({bound})"
            ),
        );
        findings.outcome()
    }

    fn drain() -> Outcome {
        with_flood(|f| {
            let outstanding = f.in_flight;
            let (notifier, rings) = (f.blk.notifier(), f.blk.indices());
            let s = settle(rings, notifier, || {
                while f.reap().is_some() {}
                f.in_flight == 0
            });
            println!(
                "vflood: {outstanding} reads in flight after the flood; {} completed in {} ms, {} kick(s)",
                outstanding - f.in_flight,
                ticks_to_ms(s.ticks),
                s.kicks
            );
            // Nothing more may come back.
            let returned = f.completed + f.stray;
            let _ = wait_for(10, "(quiet)", || f.reap().is_some());
            let late = f.completed + f.stray - returned;
            let mut findings = Findings::new();
            findings.check(
                f.in_flight == 0,
                format_args!(
                    "{} of {outstanding} reads still in flight after {} ms",
                    f.in_flight,
                    ticks_to_ms(s.ticks)
                ),
            );
            findings.check(
                f.completed == f.published,
                format_args!("{} reads published, {} completed", f.published, f.completed),
            );
            findings.check(
                late == 0,
                format_args!("{late} more used entries came back afterwards"),
            );
            findings.check(
                f.stray == 0,
                format_args!("{} used entries named a head not in flight", f.stray),
            );
            findings.check(
                f.bad_status == 0,
                format_args!("{} bad status bytes", f.bad_status),
            );
            findings.check(
                f.bad_len == 0,
                format_args!("{} bad used lengths", f.bad_len),
            );
            findings.check(
                f.bad_data == 0,
                format_args!("{} reads with wrong data", f.bad_data),
            );
            if let Some(first) = f.first_error {
                findings.fail(format_args!("first: {first}"));
            }
            findings.outcome()
        })
    }

    fn after_flood() -> Outcome {
        with_flood(|f| {
            let seed = f.seed.rotate_left(17) ^ 0xa5a5_a5a5_a5a5_a5a5;
            f.write(seed, AFTER, 1)?;
            f.read_back(seed, AFTER)
        })
    }

    #[no_mangle]
    extern "C" fn guest_main(dtb: usize) -> ! {
        println!("guest-vflood: hello from EL1");
        let mut tally = Tally::new("guest-vflood");
        if !tally.check(
            "first writable virtio-blk disk, queue 0 set up with VERSION_1 only",
            setup(dtb),
        ) {
            tally.finish()
        }
        if !tally.check(
            "pattern written with ordinary requests (a notify each) and read back",
            write_pattern(),
        ) {
            tally.finish()
        }
        tally.check(
            "CPU 1 republishes reads without notifying; CPU 0's QUEUE_NOTIFY returns, bounded, before CPU 1's limit",
            flood(),
        );
        if !DONE.load(Ordering::Acquire) {
            tally.finish()
        }
        tally.check(
            "after the flood every read completes once per publication, status OK, data as on disk",
            drain(),
        );
        tally.check(
            "the device serves a write and a read after the flood",
            after_flood(),
        );
        tally.finish()
    }
}
