//! hv's default test guest. It finds the virtio-blk disks on the guest
//! machine's virtio-mmio slots, writes a pattern to sectors spread over the
//! first writable disk (first, last and scattered), flushes, reads it back,
//! sends bad requests (a sector past the end, a write to a read-only disk)
//! and checks the statuses, then prints a PASS/FAIL summary and powers off
//! (PASS) or resets (FAIL) through PSCI.
//!
//! It runs unchanged on plain `qemu-system-aarch64 -M virt` and under
//! hv-kernel, which is the differential check.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-default is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use guest_default::pattern_byte;
    use guest_default::println;
    use guest_default::rt::disks::{probe, Disk};
    use guest_default::rt::psci;
    use virtio_drivers::device::blk::SECTOR_SIZE;
    use virtio_drivers::Error;

    struct Tally {
        passed: u32,
        failed: u32,
    }

    impl Tally {
        fn check(&mut self, name: &str, result: Result<(), &str>) {
            match result {
                Ok(()) => {
                    self.passed += 1;
                    println!("test {name}: ok");
                }
                Err(why) => {
                    self.failed += 1;
                    println!("test {name}: FAIL ({why})");
                }
            }
        }
    }

    fn fill(sector: u64, buf: &mut [u8]) {
        for (n, chunk) in buf.chunks_mut(SECTOR_SIZE).enumerate() {
            for (i, b) in chunk.iter_mut().enumerate() {
                *b = pattern_byte(sector + n as u64, i);
            }
        }
    }

    fn matches(sector: u64, buf: &[u8]) -> bool {
        buf.chunks(SECTOR_SIZE).enumerate().all(|(n, chunk)| {
            chunk
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern_byte(sector + n as u64, i))
        })
    }

    fn disk_tests(t: &mut Tally, disk: &mut Disk) {
        let cap = disk.capacity();
        if cap < 512 {
            t.check("disk large enough", Err("fewer than 512 sectors"));
            return;
        }
        // (first sector, count): first, last, scattered, one multi-sector run.
        let runs: [(u64, usize); 6] =
            [(0, 1), (1, 1), (7, 1), (200, 8), (cap / 2, 1), (cap - 1, 1)];
        let mut buf = [0u8; 8 * SECTOR_SIZE];

        let mut write = Ok(());
        for &(sector, count) in &runs {
            let data = &mut buf[..count * SECTOR_SIZE];
            fill(sector, data);
            if disk.write_blocks(sector as usize, data).is_err() {
                write = Err("write_blocks failed");
            }
        }
        t.check("write pattern to first, last and scattered sectors", write);
        println!("wrote sectors: 0 1 7 200-207 {} {}", cap / 2, cap - 1);
        t.check("flush", disk.flush().map_err(|_| "flush failed"));

        let mut read = Ok(());
        for &(sector, count) in &runs {
            let data = &mut buf[..count * SECTOR_SIZE];
            data.fill(0);
            match disk.read_blocks(sector as usize, data) {
                Ok(()) if matches(sector, data) => {}
                Ok(()) => read = Err("data read back differs"),
                Err(_) => read = Err("read_blocks failed"),
            }
        }
        t.check("read back the pattern", read);

        let one = &mut buf[..SECTOR_SIZE];
        t.check(
            "read past the last sector is IOERR",
            match disk.read_blocks(cap as usize, one) {
                Err(Error::IoError) => Ok(()),
                Ok(()) => Err("succeeded"),
                Err(_) => Err("wrong error"),
            },
        );
        let two = &mut buf[..2 * SECTOR_SIZE];
        two.fill(0xee);
        t.check(
            "write straddling the end is IOERR",
            match disk.write_blocks((cap - 1) as usize, two) {
                Err(Error::IoError) => Ok(()),
                Ok(()) => Err("succeeded"),
                Err(_) => Err("wrong error"),
            },
        );
        let last = &mut buf[..SECTOR_SIZE];
        t.check(
            "last sector unchanged by the refused write",
            match disk.read_blocks((cap - 1) as usize, last) {
                Ok(()) if matches(cap - 1, last) => Ok(()),
                Ok(()) => Err("it changed"),
                Err(_) => Err("read failed"),
            },
        );
    }

    /// Bytes moved by the throughput measurement, in requests of `CHUNK`.
    const BENCH_BYTES: usize = 1 << 20;
    const CHUNK: usize = 64 << 10;
    /// First sector of the measured area: clear of the pattern sectors.
    const BENCH_SECTOR: usize = 1024;

    /// The request buffer; static because it is larger than is wise on the
    /// stack. One CPU, one user at a time.
    struct BenchBuf(core::cell::UnsafeCell<[u8; CHUNK]>);
    // SAFETY: the guest is single-threaded and only `throughput` uses it.
    unsafe impl Sync for BenchBuf {}
    static BENCH_BUF: BenchBuf = BenchBuf(core::cell::UnsafeCell::new([0; CHUNK]));

    fn counter() -> (u64, u64) {
        let (count, freq): (u64, u64);
        // SAFETY: reading the virtual counter and its frequency is allowed
        // at EL1 and has no side effects.
        unsafe {
            core::arch::asm!("isb; mrs {}, cntvct_el0", out(reg) count, options(nomem, nostack));
            core::arch::asm!("mrs {}, cntfrq_el0", out(reg) freq, options(nomem, nostack));
        }
        (count, freq.max(1))
    }

    /// Time writing then reading BENCH_BYTES; prints KiB/s for each.
    fn throughput(disk: &mut Disk) {
        if disk.capacity() < (BENCH_SECTOR + BENCH_BYTES / SECTOR_SIZE) as u64 * 2 {
            return;
        }
        // SAFETY: see BenchBuf: nothing else holds a reference to it.
        let buf = unsafe { &mut *BENCH_BUF.0.get() };
        buf.fill(0xa5);
        let per = CHUNK / SECTOR_SIZE;
        let mut rates = [0u64; 2];
        for (pass, rate) in rates.iter_mut().enumerate() {
            let (start, freq) = counter();
            for i in 0..BENCH_BYTES / CHUNK {
                let sector = BENCH_SECTOR + i * per;
                let ok = if pass == 0 {
                    disk.write_blocks(sector, buf).is_ok()
                } else {
                    disk.read_blocks(sector, buf).is_ok()
                };
                if !ok {
                    println!("disk throughput: request failed");
                    return;
                }
            }
            let ticks = (counter().0 - start).max(1);
            *rate = (BENCH_BYTES as u64 / 1024) * freq / ticks;
        }
        println!(
            "disk throughput: write {} KiB/s, read {} KiB/s ({} KiB in {} KiB requests)",
            rates[0],
            rates[1],
            BENCH_BYTES / 1024,
            CHUNK / 1024
        );
    }

    fn read_only_tests(t: &mut Tally, disk: &mut Disk) {
        t.check(
            "second disk is read-only",
            if disk.readonly() {
                Ok(())
            } else {
                Err("RO feature not offered")
            },
        );
        let mut buf = [0x33u8; SECTOR_SIZE];
        t.check(
            "write to the read-only disk is IOERR",
            match disk.write_blocks(0, &buf) {
                Err(Error::IoError) => Ok(()),
                Ok(()) => Err("succeeded"),
                Err(_) => Err("wrong error"),
            },
        );
        t.check(
            "read from the read-only disk works",
            disk.read_blocks(0, &mut buf).map_err(|_| "read failed"),
        );
    }

    #[no_mangle]
    extern "C" fn guest_main(_dtb: usize) -> ! {
        println!("guest-default: hello from EL1");
        let mut t = Tally {
            passed: 0,
            failed: 0,
        };
        let (first, second) = probe();
        match first {
            Some(mut disk) => {
                disk_tests(&mut t, &mut disk);
                throughput(&mut disk);
            }
            None => t.check("find a virtio-blk disk", Err("none found")),
        }
        match second {
            Some(mut disk) => read_only_tests(&mut t, &mut disk),
            None => t.check("find a second, read-only disk", Err("none found")),
        }
        println!("guest-default: {} passed, {} failed", t.passed, t.failed);
        if t.failed == 0 {
            println!("PASS");
            psci::system_off()
        } else {
            println!("FAIL");
            psci::system_reset()
        }
    }
}
