//! Trapped instructions at the top of the address space. With the EL1 MMU
//! on, TTBR1 maps the last page of the 64-bit address space
//! (0xffff_ffff_ffff_f000) to a code page and TTBR0 maps VA 0 to another,
//! whose first word is `ret`. Each test writes one instruction at
//! 0xffff_ffff_ffff_fffc and calls it with BLR: the PC then wraps to 0, as
//! the architecture says, and the `ret` comes back. A hypervisor that steps
//! the PC past a trapped instruction there must wrap too (hv-kernel once
//! overflowed, which panics its debug build). The instructions: an ID
//! register read (trapped with HCR_EL2.TID3), a PL011 load and store
//! (stage-2 data aborts), WFI with IRQs masked until the virtual timer fires
//! (HCR_EL2.TWI), ICC_SGI1R_EL1 = 0 (an SGI to no CPU), HVC PSCI_VERSION;
//! then exceptions taken there: UDF, and a load from a hole in the memory
//! map (a data abort hv injects), both with ELR = 0xffff_ffff_ffff_fffc.
//! Every result is checked against the same operation done at an ordinary
//! address, so the test lines are the same on plain QEMU and under hv.
#![cfg_attr(target_os = "none", no_std, no_main)]
// Failure messages are fixed buffers (no heap); see the library.
#![allow(clippy::result_large_err)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-topva is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::arch::asm;
    use core::ptr::{read_volatile, write_volatile};
    use core::sync::atomic::{AtomicU32, Ordering};
    use guest_default::rt::console::UART_FR;
    use guest_default::rt::exceptions::{expect, Taken};
    use guest_default::rt::mmu::{self, CodePage, Memory, PAGE_SIZE};
    use guest_default::rt::psci;
    use guest_default::rt::report::{Findings, Outcome, Tally};
    use guest_default::rt::timer::Timer;
    use guest_default::rt::{gic, irq, sync, time};
    use guest_default::{ensure, msg, println};

    /// The last page of the address space (TTBR1) and its last word.
    const TOP_PAGE_VA: u64 = 0xffff_ffff_ffff_f000;
    const TOP_WORD_VA: u64 = 0xffff_ffff_ffff_fffc;
    const TOP_WORD: usize = 1023;

    /// A64 encodings of the instructions the tests place.
    mod insn {
        /// `ret` (to x30).
        pub const RET: u32 = 0xd65f_03c0;
        /// `nop`.
        pub const NOP: u32 = 0xd503_201f;
        /// `mrs x0, id_aa64mmfr0_el1`.
        pub const MRS_X0_ID_AA64MMFR0: u32 = 0xd538_0700;
        /// `ldr w0, [x1]`.
        pub const LDR_W0_X1: u32 = 0xb940_0020;
        /// `str w2, [x1]`.
        pub const STR_W2_X1: u32 = 0xb900_0022;
        /// `wfi`.
        pub const WFI: u32 = 0xd503_207f;
        /// `msr icc_sgi1r_el1, xzr` (S3_0_C12_C11_5).
        pub const MSR_SGI1R_XZR: u32 = 0xd518_cbbf;
        /// `hvc #0`.
        pub const HVC_0: u32 = 0xd400_0002;
        /// `udf #0`.
        pub const UDF_0: u32 = 0x0000_0000;
    }

    /// The code page behind the top page, and the one behind VA 0.
    static TOP: CodePage = CodePage::new();
    static ZERO: CodePage = CodePage::new();

    /// The PL011's interrupt mask register and its RX bit.
    const UART_IMSC: u64 = 0x0900_0038;
    const IMSC_RXIM: u32 = 1 << 4;
    /// Below RAM, between devices: nothing there in the guest machine.
    const HOLE: u64 = 0x0c00_0000;
    /// The device region the stage-1 map covers (identity): from 2 MiB
    /// (the first 2 MiB hold VA 0's page) up to RAM.
    const DEVICES: u64 = 0x0020_0000;
    const RAM_BASE: u64 = 0x4000_0000;
    const BLOCK: u64 = 2 << 20;

    /// ESR_EL1.EC values.
    const EC_UNKNOWN: u64 = 0x00;
    const EC_DATA_ABORT_SAME_EL: u64 = 0x25;

    /// A value no test result has: what x0 holds before a call.
    const POISON: u64 = 0x5a5a_5a5a_5a5a_5a5a;

    /// When the WFI test's virtual timer fires, and when its backstop (the
    /// physical timer) does.
    const WFI_TIMER_MS: u64 = 10;
    const BACKSTOP_MS: u64 = 1000;

    static VTIMER_IRQS: AtomicU32 = AtomicU32::new(0);
    static BACKSTOP_IRQS: AtomicU32 = AtomicU32::new(0);

    fn on_timer(_cpu: usize, intid: u32) -> irq::Eoi {
        if intid == Timer::Virtual.intid() {
            Timer::Virtual.stop();
            VTIMER_IRQS.fetch_add(1, Ordering::Release);
        } else {
            Timer::Physical.stop();
            BACKSTOP_IRQS.fetch_add(1, Ordering::Release);
        }
        irq::Eoi::Complete
    }

    /// Map RAM (from the DTB) and the devices below it 1:1, VA 0 to
    /// [`ZERO`] and the top page to [`TOP`]; switch the MMU on; check the
    /// translations; put `ret` at VA 0; set up the GIC.
    fn setup(dtb: usize) -> Outcome {
        // SAFETY: the loader (QEMU or hv) passes the DTB's address in x0;
        // the parser checks the header before reading further.
        let fdt = unsafe { fdt::Fdt::from_ptr(dtb as *const u8) }
            .map_err(|e| msg!("the DTB at {dtb:#x} does not parse: {e:?}"))?;
        let regions = fdt
            .find_node("/memory")
            .and_then(|n| n.reg())
            .ok_or_else(|| msg!("the DTB has no /memory reg"))?;
        mmu::map(0, ZERO.address(), PAGE_SIZE, Memory::Normal)?;
        mmu::map(DEVICES, DEVICES, RAM_BASE - DEVICES, Memory::Device)?;
        let mut ram = 0;
        for r in regions {
            let start = r.starting_address as u64 & !(BLOCK - 1);
            let end =
                (r.starting_address as u64 + r.size.unwrap_or(0) as u64 + BLOCK - 1) & !(BLOCK - 1);
            ensure!(
                start >= RAM_BASE && end > start,
                "RAM region at {start:#x}..{end:#x} is not above {RAM_BASE:#x}"
            );
            mmu::map(start, start, end - start, Memory::Normal)?;
            ram += end - start;
        }
        ensure!(ram != 0, "the DTB lists no RAM");
        mmu::map(TOP_PAGE_VA, TOP.address(), PAGE_SIZE, Memory::Normal)?;
        mmu::enable()?;
        for (va, want) in [
            (0, ZERO.address()),
            (TOP_WORD_VA, TOP.address() + 0xffc),
            (UART_FR as u64, UART_FR as u64),
            (TOP.address(), TOP.address()),
        ] {
            match mmu::translate(va) {
                Ok(pa) if pa == want => {}
                Ok(pa) => return Err(msg!("VA {va:#x} translates to {pa:#x}, not {want:#x}")),
                Err(par) => return Err(msg!("VA {va:#x} does not translate: PAR_EL1 {par:#x}")),
            }
        }
        ZERO.write(0, &[insn::RET], 0)?;
        gic::init_distributor()?;
        gic::init_cpu()?;
        for t in [Timer::Virtual, Timer::Physical] {
            irq::register(t.intid(), on_timer);
        }
        Ok(())
    }

    /// What a call of the top word left behind.
    #[derive(Clone, Copy, Debug)]
    struct Back {
        /// x0 after the call.
        x0: u64,
        /// x30 after the call.
        lr: u64,
        /// The address of the instruction after the BLR.
        after_blr: u64,
    }

    /// Put `word` at [`TOP_WORD_VA`].
    fn place(word: u32) -> Outcome {
        TOP.write(TOP_WORD, &[word], TOP_PAGE_VA)
    }

    /// BLR to [`TOP_WORD_VA`] with x0, x1, x2 as given: the instruction
    /// there runs, the PC wraps to 0, whose `ret` comes back here.
    fn call_top(x0: u64, x1: u64, x2: u64) -> Back {
        let (r0, lr, after_blr): (u64, u64, u64);
        // SAFETY: the word at TOP_WORD_VA is one instruction a test placed
        // (it reads or writes only x0 and what the test means it to touch:
        // a system register, a PL011 register, PSCI), then VA 0 holds `ret`.
        // An exception it takes resumes at VA 0 too (the exception hook
        // returns to ELR + 4, wrapped) and the hook clobbers only
        // caller-saved registers, all declared clobbered here; x21 and the
        // target are callee-saved (the only registers left to allocate).
        unsafe {
            asm!(
                "adr x21, 2f",
                "blr {target}",
                "2:",
                target = in(reg) TOP_WORD_VA,
                inout("x0") x0 => r0,
                inout("x1") x1 => _,
                inout("x2") x2 => _,
                out("x21") after_blr,
                out("x30") lr,
                clobber_abi("C"),
            )
        };
        Back {
            x0: r0,
            lr,
            after_blr,
        }
    }

    /// The call came back to the instruction after the BLR with x30 as
    /// BLR set it.
    fn came_back(b: &Back, f: &mut Findings) {
        f.check(
            b.lr == b.after_blr,
            format_args!(
                "x30 is {:#x} after the call, the instruction after the BLR is at {:#x}",
                b.lr, b.after_blr
            ),
        );
    }

    /// A NOP (nothing traps): the wrap itself works where the test runs.
    fn nop() -> Outcome {
        place(insn::NOP)?;
        let b = call_top(POISON, 0, 0);
        let mut f = Findings::new();
        came_back(&b, &mut f);
        f.check(b.x0 == POISON, format_args!("x0 changed to {:#x}", b.x0));
        f.outcome()
    }

    fn id_aa64mmfr0() -> u64 {
        let v: u64;
        // SAFETY: reading an ID register has no side effects.
        unsafe { asm!("mrs {}, id_aa64mmfr0_el1", out(reg) v, options(nomem, nostack)) };
        v
    }

    /// MRS of ID_AA64MMFR0_EL1: the same value as read at an ordinary
    /// address, and not 0.
    fn id_register() -> Outcome {
        let want = id_aa64mmfr0();
        place(insn::MRS_X0_ID_AA64MMFR0)?;
        let b = call_top(POISON, 0, 0);
        let mut f = Findings::new();
        came_back(&b, &mut f);
        f.check(
            b.x0 == want && want != 0,
            format_args!(
                "x0 = {:#x}, ID_AA64MMFR0_EL1 reads {want:#x} elsewhere",
                b.x0
            ),
        );
        f.outcome()
    }

    fn read32(addr: u64) -> u32 {
        // SAFETY: callers pass PL011 registers (guest machine contract),
        // mapped 1:1 as device memory; 32-bit registers.
        unsafe { read_volatile(addr as *const u32) }
    }

    fn write32(addr: u64, v: u32) {
        // SAFETY: as for read32.
        unsafe { write_volatile(addr as *mut u32, v) }
    }

    /// LDR from UARTFR: x0 gets the register, zero-extended, as a load at
    /// an ordinary address reads it.
    fn mmio_load() -> Outcome {
        let want = read32(UART_FR as u64);
        place(insn::LDR_W0_X1)?;
        let b = call_top(POISON, UART_FR as u64, 0);
        let mut f = Findings::new();
        came_back(&b, &mut f);
        f.check(
            b.x0 == u64::from(want),
            format_args!("x0 = {:#x}, UARTFR reads {want:#x} elsewhere", b.x0),
        );
        f.outcome()
    }

    /// STR to UARTIMSC (the RX interrupt mask bit flipped; the UART's
    /// interrupt is not enabled at the GIC): the register reads back what
    /// was stored.
    fn mmio_store() -> Outcome {
        let old = read32(UART_IMSC);
        let new = old ^ IMSC_RXIM;
        place(insn::STR_W2_X1)?;
        let b = call_top(POISON, UART_IMSC, u64::from(new));
        let got = read32(UART_IMSC);
        write32(UART_IMSC, old);
        let mut f = Findings::new();
        came_back(&b, &mut f);
        f.check(
            got == new,
            format_args!("UARTIMSC reads {got:#x} after storing {new:#x} (was {old:#x})"),
        );
        f.outcome()
    }

    /// WFI with IRQs masked and nothing pending, the virtual timer due in
    /// [`WFI_TIMER_MS`] with its PPI enabled: nothing is pending when the
    /// WFI runs, so a hypervisor traps it (a WFI with an interrupt pending
    /// completes without trapping); the timer ends it. The physical timer
    /// is a backstop at [`BACKSTOP_MS`]. Once IRQs are unmasked, the virtual
    /// timer's interrupt is taken.
    fn wfi() -> Outcome {
        let (t, backstop) = (Timer::Virtual, Timer::Physical);
        t.stop();
        backstop.stop();
        gic::enable(t.intid());
        gic::enable(backstop.intid());
        let hppir = gic::highest_pending();
        ensure!(
            hppir == gic::SPURIOUS,
            "INTID {hppir} pending before the WFI (ICC_HPPIR1_EL1)"
        );
        place(insn::WFI)?;
        let before = VTIMER_IRQS.load(Ordering::Acquire);
        let backstops = BACKSTOP_IRQS.load(Ordering::Acquire);
        backstop.arm(time::ticks_from_ms(BACKSTOP_MS) as i32);
        let start = time::counter();
        t.arm(time::ticks_from_ms(WFI_TIMER_MS) as i32);
        let b = call_top(POISON, 0, 0);
        let took = time::ticks_to_ms(time::counter() - start);
        backstop.stop();
        let mut f = Findings::new();
        came_back(&b, &mut f);
        f.check(
            took < BACKSTOP_MS,
            format_args!("the WFI returned after {took} ms: woken by the backstop, not the timer due in {WFI_TIMER_MS} ms"),
        );
        f.check(
            VTIMER_IRQS.load(Ordering::Acquire) == before,
            format_args!("the timer interrupt was taken with IRQs masked"),
        );
        sync::enable_irqs();
        let taken = time::wait_for(
            100 + WFI_TIMER_MS,
            "the virtual timer interrupt once IRQs were unmasked",
            || VTIMER_IRQS.load(Ordering::Acquire) != before,
        );
        time::delay_ms(1);
        sync::disable_irqs();
        t.stop();
        if let Err(e) = taken {
            f.fail(format_args!("{e}"));
        }
        for intid in [t.intid(), backstop.intid()] {
            if let Err(e) = gic::disable(intid) {
                f.fail(format_args!("{e}"));
            }
        }
        let fired = BACKSTOP_IRQS.load(Ordering::Acquire) - backstops;
        f.check(
            fired == 0 || took >= BACKSTOP_MS,
            format_args!("the backstop timer fired {fired} time(s)"),
        );
        f.outcome()
    }

    /// ICC_SGI1R_EL1 = 0 (SGI 0, target list empty): no SGI becomes
    /// pending here.
    fn sgi_to_nobody() -> Outcome {
        let sgis = || gic::read32(gic::rd() + gic::gicr::ISPENDR0) & 0xffff;
        let pending = sgis();
        ensure!(pending == 0, "SGIs {pending:#x} pending before the test");
        place(insn::MSR_SGI1R_XZR)?;
        let b = call_top(POISON, 0, 0);
        time::delay_ms(2);
        let mut f = Findings::new();
        came_back(&b, &mut f);
        let pending = sgis();
        let hppir = gic::highest_pending();
        f.check(
            pending == 0 && hppir == gic::SPURIOUS,
            format_args!("SGIs {pending:#x} pending afterwards, ICC_HPPIR1_EL1 {hppir}"),
        );
        f.outcome()
    }

    /// HVC #0 with PSCI_VERSION: x0 gets the version, as a call at an
    /// ordinary address does.
    fn hvc() -> Outcome {
        let want = psci::version();
        place(insn::HVC_0)?;
        let b = call_top(psci::function::VERSION, 0, 0);
        let mut f = Findings::new();
        came_back(&b, &mut f);
        f.check(
            b.x0 == want && want >> 16 >= 1,
            format_args!("x0 = {:#x}, PSCI_VERSION is {want:#x} elsewhere", b.x0),
        );
        f.outcome()
    }

    /// An exception taken by the top word: its class, ELR and (if given)
    /// FAR, and the call still came back.
    fn exception_at_top(word: u32, x1: u64, class: u64, far: Option<u64>) -> Outcome {
        place(word)?;
        let mut back = None;
        let taken = expect(|| back = Some(call_top(POISON, x1, 0)));
        let mut f = Findings::new();
        if let Some(b) = &back {
            came_back(b, &mut f);
        }
        match taken {
            None => f.fail(format_args!("no exception")),
            Some(Taken {
                esr, elr, far: got, ..
            }) => {
                f.check(
                    esr >> 26 == class,
                    format_args!("ESR_EL1 {esr:#x}: class {:#x}, not {class:#x}", esr >> 26),
                );
                f.check(
                    elr == TOP_WORD_VA,
                    format_args!("ELR_EL1 {elr:#x}, not {TOP_WORD_VA:#x}"),
                );
                if let Some(want) = far {
                    f.check(got == want, format_args!("FAR_EL1 {got:#x}, not {want:#x}"));
                }
            }
        }
        f.outcome()
    }

    #[no_mangle]
    extern "C" fn guest_main(dtb: usize) -> ! {
        println!("guest-topva: hello from EL1");
        let mut tally = Tally::new("guest-topva");
        if !tally.check(
            "MMU on: RAM and devices 1:1, VA 0 and 0xffff_ffff_ffff_f000 mapped to code pages",
            setup(dtb),
        ) {
            tally.finish()
        }
        tally.check(
            "NOP at 0xffff_ffff_ffff_fffc runs on to VA 0 (no trap)",
            nop(),
        );
        tally.check(
            "MRS ID_AA64MMFR0_EL1 at the top (TID3 trap): value, PC wraps to 0",
            id_register(),
        );
        tally.check(
            "LDR from the PL011 at the top (stage-2 abort): value, PC wraps to 0",
            mmio_load(),
        );
        tally.check(
            "STR to the PL011 at the top (stage-2 abort): stored, PC wraps to 0",
            mmio_store(),
        );
        tally.check(
            "WFI at the top, IRQs masked, virtual timer due (TWI trap): wakes, PC wraps to 0",
            wfi(),
        );
        tally.check(
            "MSR ICC_SGI1R_EL1 = 0 at the top (trapped SGI to no CPU): nothing pending, PC wraps to 0",
            sgi_to_nobody(),
        );
        tally.check(
            "HVC PSCI_VERSION at the top: version, returns to VA 0",
            hvc(),
        );
        tally.check(
            "UDF at the top: undefined instruction with ELR 0xffff_ffff_ffff_fffc",
            exception_at_top(insn::UDF_0, 0, EC_UNKNOWN, None),
        );
        tally.check(
            "LDR from a hole at the top: data abort with ELR 0xffff_ffff_ffff_fffc",
            exception_at_top(insn::LDR_W0_X1, HOLE, EC_DATA_ABORT_SAME_EL, Some(HOLE)),
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
