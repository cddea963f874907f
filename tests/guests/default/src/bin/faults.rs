//! hv's second test guest: it does what a hypervisor must survive and
//! checks the guest sees the architectural exception each time. It loads
//! and stores outside its memory map (hv injects a data abort), reads
//! ACTLR_EL1 (trapped by hv, which injects an undefined instruction), and
//! executes UDF (undefined at EL1 without hv's help). Then it prints
//! PASS/FAIL and powers off, showing hv stayed up.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-faults is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::arch::asm;
    use guest_default::println;
    use guest_default::rt::exceptions::{expect, Taken};
    use guest_default::rt::psci;

    /// ESR_EL1.EC values.
    const EC_UNKNOWN: u64 = 0x00;
    const EC_DATA_ABORT_SAME_EL: u64 = 0x25;
    /// Far above the guest's RAM and devices.
    const OUTSIDE: u64 = 0x1_0000_0000;
    /// Below RAM, between devices: nothing there in the guest machine.
    const HOLE: u64 = 0x0c00_0000;

    fn check(name: &str, taken: Option<Taken>, class: u64, far: Option<u64>, failed: &mut u32) {
        let verdict = match taken {
            None => Err("no exception"),
            Some(t) if t.class() != class => Err("wrong exception class"),
            Some(t) if far.is_some_and(|f| f != t.far) => Err("wrong fault address"),
            Some(_) => Ok(()),
        };
        match (verdict, taken) {
            (Ok(()), _) => println!("test {name}: ok"),
            (Err(why), t) => {
                *failed += 1;
                println!("test {name}: FAIL ({why}: {t:?})");
            }
        }
    }

    fn load(addr: u64) -> Option<Taken> {
        expect(|| {
            // SAFETY: the load is meant to fault; the exception hook resumes
            // after it, and every caller-saved register is declared clobbered
            // because the handler does not preserve them.
            unsafe { asm!("ldr x9, [{a}]", a = in(reg) addr, out("x9") _, clobber_abi("C")) }
        })
    }

    fn store(addr: u64) -> Option<Taken> {
        expect(|| {
            // SAFETY: as for `load`.
            unsafe { asm!("str xzr, [{a}]", a = in(reg) addr, clobber_abi("C")) }
        })
    }

    #[no_mangle]
    extern "C" fn guest_main(_dtb: usize) -> ! {
        println!("guest-faults: hello from EL1");
        let mut failed = 0;
        check(
            "load outside the memory map aborts",
            load(OUTSIDE),
            EC_DATA_ABORT_SAME_EL,
            Some(OUTSIDE),
            &mut failed,
        );
        check(
            "store outside the memory map aborts",
            store(OUTSIDE),
            EC_DATA_ABORT_SAME_EL,
            Some(OUTSIDE),
            &mut failed,
        );
        check(
            "load from a hole below RAM aborts",
            load(HOLE),
            EC_DATA_ABORT_SAME_EL,
            Some(HOLE),
            &mut failed,
        );
        let actlr = expect(|| {
            // SAFETY: reads a system register; hv traps it (HCR_EL2.TACR) and
            // injects UNDEF, after which the hook resumes past it.
            unsafe { asm!("mrs x9, actlr_el1", out("x9") _, clobber_abi("C")) }
        });
        check(
            "ACTLR_EL1 trapped by hv is undefined",
            actlr,
            EC_UNKNOWN,
            None,
            &mut failed,
        );
        let udf = expect(|| {
            // SAFETY: UDF is permanently undefined; the hook resumes past it.
            unsafe { asm!("udf #0x42", clobber_abi("C")) }
        });
        check("UDF is undefined", udf, EC_UNKNOWN, None, &mut failed);
        // Hostile PSCI/SMCCC calls get the spec's error codes.
        let calls: [(&str, [u64; 4], i64); 4] = [
            (
                "an unknown function is NOT_SUPPORTED",
                [0xdead_beef, 0, 0, 0],
                -1,
            ),
            (
                "CPU_ON of a CPU that does not exist is INVALID_PARAMETERS",
                [0xc400_0003, 0xff, 0x4020_0000, 0],
                -2,
            ),
            (
                "AFFINITY_INFO above level 0 is INVALID_PARAMETERS",
                [0xc400_0004, 0, 3, 0],
                -2,
            ),
            (
                "CPU_ON of the running CPU is ALREADY_ON",
                [0xc400_0003, 0, 0x4020_0000, 0],
                -4,
            ),
        ];
        for (name, [f, a1, a2, a3], want) in calls {
            let got = psci::raw_call(f, a1, a2, a3) as i64;
            if got == want {
                println!("test {name}: ok");
            } else {
                failed += 1;
                println!("test {name}: FAIL (got {got})");
            }
        }
        println!("guest-faults: still running after the faults, {failed} failed");
        if failed == 0 {
            println!("PASS");
            psci::system_off()
        } else {
            println!("FAIL");
            psci::system_reset()
        }
    }
}
