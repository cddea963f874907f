//! The emulated machine end to end, with tiny guests assembled here (raw
//! binaries, loaded 2 MiB into RAM): console output and PSCI, the
//! instruction limit, architectural exceptions for bad accesses and
//! undefined encodings, and a timer interrupt through the GIC.

use hv_core::devices::gicv3_cpuif::{ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1};
use hv_core::machine;
use hv_core::mem::GuestMemory;
use hv_core::translate::asm;
use hv_core::translate::sysreg::{CNTV_CTL_EL0, CNTV_TVAL_EL0, ESR_EL1, FAR_EL1, VBAR_EL1};
use hv_sim::console::Captured;
use hv_sim::machine::{Machine, MachineConfig, Software};
use hv_sim::run::{run, Outcome, RunConfig, RunReport};

/// Where a raw image lands.
const LOAD: u64 = machine::RAM_BASE.raw() + 0x20_0000;
/// The vector table's offset in the image (VBAR_EL1 needs 2 KiB alignment).
const VECTORS: usize = 0x800;
/// Synchronous exception, current EL with SP_ELx.
const SYNC: usize = 0x200;
/// IRQ, current EL with SP_ELx.
const IRQ: usize = 0x280;
const PSCI_VERSION: u64 = 0x8400_0000;
const SYSTEM_OFF: u64 = 0x8400_0008;

fn mov(rd: u32, value: u64) -> [u32; 4] {
    asm::mov64(rd, value)
}

/// x0 = SYSTEM_OFF; HVC #0.
fn power_off() -> Vec<u32> {
    let mut c = mov(0, SYSTEM_OFF).to_vec();
    c.push(asm::hvc(0));
    c
}

/// An image with `main` at its start, VBAR_EL1 set to its vector table
/// first, and `sync`/`irq` as the current-EL handlers.
fn image(main: &[u32], sync: &[u32], irq: &[u32]) -> Vec<u8> {
    let mut words = vec![asm::b(0); (VECTORS + 0x800) / 4];
    let mut code = mov(1, LOAD + VECTORS as u64).to_vec();
    code.push(asm::msr(VBAR_EL1, 1));
    code.push(asm::ISB);
    code.extend_from_slice(main);
    assert!(code.len() * 4 <= VECTORS, "main too long");
    words[..code.len()].copy_from_slice(&code);
    for (off, handler) in [(SYNC, sync), (IRQ, irq)] {
        assert!(handler.len() * 4 <= 0x80, "handler too long");
        let at = (VECTORS + off) / 4;
        words[at..at + handler.len()].copy_from_slice(handler);
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn boot(img: &[u8], max_insns: u64) -> (Machine, RunReport, Captured) {
    let console = Captured::new();
    let config = MachineConfig {
        ram_size: 16 << 20,
        ..MachineConfig::default()
    };
    let sw = Software {
        kernel: img,
        initrd: None,
        cmdline: "",
    };
    let mut m = Machine::new(&config, &sw, console.clone()).expect("machine");
    let report = run(
        &mut m,
        RunConfig {
            max_insns: Some(max_insns),
            trace: false,
            ..RunConfig::default()
        },
    );
    (m, report, console)
}

/// The sync handler: x21 = ESR_EL1, x22 = FAR_EL1, power off.
fn record_and_power_off() -> Vec<u32> {
    let mut c = vec![asm::mrs(21, ESR_EL1), asm::mrs(22, FAR_EL1)];
    c.extend(power_off());
    c
}

#[test]
fn hello_on_the_uart_then_power_off() {
    let mut main = mov(1, machine::UART_BASE.raw()).to_vec();
    for b in b"hello\n" {
        main.push(asm::movz(false, 2, u32::from(*b), 0));
        main.push(asm::str_imm(false, 2, 1, 0));
    }
    main.extend(mov(0, PSCI_VERSION));
    main.push(asm::hvc(0));
    main.push(asm::mov_reg(true, 20, 0));
    main.extend(power_off());
    let (m, report, console) = boot(&image(&main, &[], &[]), 100_000);
    assert_eq!(report.outcome, Outcome::PowerOff);
    assert_eq!(console.text(), "hello\n");
    assert_eq!(m.cpu.x(20), 0x1_0001, "PSCI_VERSION answers 1.1");
    assert!(report.insns > 12 && report.insns < 100, "{report}");
}

#[test]
fn dtb_address_arrives_in_x0() {
    let main = [asm::mov_reg(true, 20, 0)]
        .into_iter()
        .chain(power_off())
        .collect::<Vec<_>>();
    // No vector setup needed, but `image` sets VBAR first, clobbering only x1.
    let (m, report, _) = boot(&image(&main, &[], &[]), 10_000);
    assert_eq!(report.outcome, Outcome::PowerOff);
    assert_eq!(m.cpu.x(20), m.dtb.raw());
    let mut magic = [0u8; 4];
    m.bus.ram.read(m.dtb, &mut magic).expect("DTB in RAM");
    assert_eq!(u32::from_be_bytes(magic), 0xd00d_feed);
}

#[test]
fn a_guest_that_never_stops_hits_the_instruction_limit() {
    let main = [asm::add_imm(true, 3, 3, 1), asm::b(-4)];
    let (m, report, _) = boot(&image(&main, &[], &[]), 50_000);
    assert!(matches!(report.outcome, Outcome::InsnLimit { el: 1, .. }));
    assert_eq!(report.outcome.exit_code(), 3);
    // Checked at block boundaries: at most one block (2 instructions) over.
    assert!((50_000..50_002).contains(&report.insns), "{report}");
    assert!(m.cpu.x(3) >= 24_990);
}

#[test]
fn load_outside_ram_is_a_data_abort_in_the_guest() {
    let outside = 0x1_0000_0000;
    let mut main = mov(5, outside).to_vec();
    main.push(asm::ldr_imm(true, 6, 5, 0));
    main.extend(power_off()); // not reached
    let (m, report, _) = boot(&image(&main, &record_and_power_off(), &[]), 10_000);
    assert_eq!(report.outcome, Outcome::PowerOff);
    let esr = m.cpu.x(21);
    assert_eq!(esr >> 26, 0x25, "data abort, same EL: ESR {esr:#x}");
    assert_eq!(esr & 0x3f, 0x10, "synchronous external abort");
    assert_eq!(esr & (1 << 6), 0, "a read");
    assert_eq!(m.cpu.x(22), outside, "FAR");
}

#[test]
fn store_to_a_hole_between_devices_aborts_as_a_write() {
    let hole = 0x0c00_0000;
    let mut main = mov(5, hole).to_vec();
    main.push(asm::str_imm(true, 31, 5, 0));
    let (m, _, _) = boot(&image(&main, &record_and_power_off(), &[]), 10_000);
    let esr = m.cpu.x(21);
    assert_eq!(esr >> 26, 0x25, "ESR {esr:#x}");
    assert_ne!(esr & (1 << 6), 0, "WnR set");
    assert_eq!(m.cpu.x(22), hole);
}

#[test]
fn unaligned_load_with_the_mmu_off_is_an_alignment_fault() {
    // MMU off: data accesses are Device memory, which must be aligned.
    let addr = LOAD + 0x1001;
    let mut main = mov(5, addr).to_vec();
    main.push(asm::ldr_imm(false, 6, 5, 0));
    let (m, _, _) = boot(&image(&main, &record_and_power_off(), &[]), 10_000);
    let esr = m.cpu.x(21);
    assert_eq!(esr >> 26, 0x25, "ESR {esr:#x}");
    assert_eq!(esr & 0x3f, 0x21, "alignment fault");
    assert_eq!(m.cpu.x(22), addr);
}

#[test]
fn undefined_encoding_and_actlr_are_undefined_instructions() {
    for insn in [
        0x0000_0000u32,
        asm::mrs(7, hv_core::translate::sysreg::ACTLR_EL1),
    ] {
        let main = [insn];
        let (m, report, _) = boot(&image(&main, &record_and_power_off(), &[]), 10_000);
        assert_eq!(report.outcome, Outcome::PowerOff);
        assert_eq!(m.cpu.x(21) >> 26, 0, "EC Unknown for {insn:#x}");
        assert_eq!(m.cpu.sys.elr, LOAD + 24, "ELR at the instruction");
    }
}

#[test]
fn virtual_timer_interrupt_arrives_through_the_gic() {
    let gicr_sgi = machine::GICR_BASE.raw() + 0x1_0000;
    let mut main = Vec::new();
    // Distributor: EnableGrp1. Redistributor: awake; PPI 27 group 1, enabled.
    main.extend(mov(5, machine::GICD_BASE.raw()));
    main.push(asm::movz(false, 6, 2, 0));
    main.push(asm::str_imm(false, 6, 5, 0));
    main.extend(mov(5, gicr_sgi));
    main.extend(mov(6, 1 << 27));
    main.push(asm::str_imm(false, 6, 5, 0x80)); // IGROUPR0
    main.push(asm::str_imm(false, 6, 5, 0x100)); // ISENABLER0
                                                 // CPU interface: PMR lets everything through, group 1 on.
    main.push(asm::movz(true, 6, 0xff, 0));
    main.push(asm::msr(ICC_PMR_EL1, 6));
    main.push(asm::movz(true, 6, 1, 0));
    main.push(asm::msr(ICC_IGRPEN1_EL1, 6));
    // Virtual timer in 5000 ticks; unmask IRQs and wait.
    main.push(asm::movz(true, 6, 5000, 0));
    main.push(asm::msr(CNTV_TVAL_EL0, 6));
    main.push(asm::movz(true, 6, 1, 0));
    main.push(asm::msr(CNTV_CTL_EL0, 6));
    main.push(asm::msr_daifclr(2));
    main.push(asm::WFI);
    main.push(asm::b(-4));
    // IRQ: acknowledge (x23), mask the timer, EOI, power off.
    let mut irq = vec![
        asm::mrs(23, ICC_IAR1_EL1),
        asm::movz(true, 6, 3, 0), // ENABLE | IMASK
        asm::msr(CNTV_CTL_EL0, 6),
        asm::msr(ICC_EOIR1_EL1, 23),
        asm::mrs(24, ICC_IAR1_EL1),
    ];
    irq.extend(power_off());
    let (m, report, _) = boot(&image(&main, &record_and_power_off(), &irq), 100_000);
    assert_eq!(report.outcome, Outcome::PowerOff, "{report}");
    assert_eq!(m.cpu.x(21), 0, "no synchronous exception");
    assert_eq!(m.cpu.x(23), 27, "IAR1 names the virtual timer PPI");
    assert_eq!(m.cpu.x(24), 1023, "nothing else pending after EOI");
    // WFI skipped the counter ahead instead of spinning 5000 instructions.
    assert!(report.insns < 200, "{report}");
    assert!(m.cpu.counter() >= 5000);
}

#[test]
fn wfi_with_nothing_to_wake_it_is_reported() {
    let main = [asm::WFI, asm::b(-4)];
    let (_, report, _) = boot(&image(&main, &[], &[]), 10_000);
    assert!(matches!(report.outcome, Outcome::Hung { pc } if pc == LOAD + 28));
}

#[test]
fn mmu_on_translates_through_the_guest_tables_and_checks_permissions() {
    use hv_core::translate::sysreg::{SCTLR_EL1, SCTLR_RES1, TCR_EL1, TTBR0_EL1};
    // A 39-bit VA space (T0SZ = 25: 3 levels from level 1) of 1 GiB blocks:
    // VA 0 -> devices, VA 1 GiB -> RAM (identity), VA 2 GiB -> RAM again,
    // read-only and not executable.
    let table = LOAD + 0x10_0000;
    let alias = 0x8000_0000 + (LOAD - machine::RAM_BASE.raw());
    let block = 0x401 | (3 << 8); // valid block, AF, inner shareable
    let entries = [
        block | (1 << 2), // PA 0, AttrIndx 1: device
        machine::RAM_BASE.raw() | block,
        machine::RAM_BASE.raw() | block | (1 << 7) | (1 << 53), // RO, PXN
    ];
    let mut main = mov(1, table).to_vec();
    main.push(asm::msr(TTBR0_EL1, 1));
    main.extend(mov(1, 25 | (1 << 23))); // T0SZ 25, EPD1
    main.push(asm::msr(TCR_EL1, 1));
    main.push(asm::ISB);
    main.extend(mov(1, SCTLR_RES1 | 1));
    main.push(asm::msr(SCTLR_EL1, 1));
    main.push(asm::ISB);
    main.extend(mov(5, alias));
    main.push(asm::ldr_imm(true, 20, 5, 0)); // through the alias
    main.push(asm::str_imm(true, 20, 5, 0)); // read-only: permission fault
    main.extend(power_off()); // not reached
    let img = image(&main, &record_and_power_off(), &[]);

    let console = Captured::new();
    let config = MachineConfig {
        ram_size: 16 << 20,
        ..MachineConfig::default()
    };
    let sw = Software {
        kernel: &img,
        initrd: None,
        cmdline: "",
    };
    let mut m = Machine::new(&config, &sw, console).expect("machine");
    for (i, e) in entries.iter().enumerate() {
        m.bus
            .ram
            .write_obj(hv_core::GuestAddress(table + 8 * i as u64), *e)
            .expect("table in RAM");
    }
    let report = run(
        &mut m,
        RunConfig {
            max_insns: Some(10_000),
            trace: false,
            ..RunConfig::default()
        },
    );
    assert_eq!(report.outcome, Outcome::PowerOff);
    let first = u64::from_le_bytes(img[..8].try_into().unwrap());
    assert_eq!(m.cpu.x(20), first, "the alias reads the image");
    let esr = m.cpu.x(21);
    assert_eq!(esr >> 26, 0x25, "data abort: ESR {esr:#x}");
    assert_eq!(esr & 0x3f, 0x0d, "permission fault, level 1");
    assert_ne!(esr & (1 << 6), 0, "on a write");
    assert_eq!(m.cpu.x(22), alias, "FAR");
    assert!(m.bus.mmu.walks >= 2);
}

/// An hv guest bundle (hv-core `vm::bundle` format) of the given entries.
fn bundle(entries: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = b"HVGUEST\0".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    let mut offset = (16 + 24 * entries.len()) as u64;
    for (kind, data) in entries {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        offset += data.len() as u64;
    }
    for (_, data) in entries {
        out.extend_from_slice(data);
    }
    out
}

#[test]
fn bundle_brings_kernel_initrd_and_command_line() {
    let kernel = image(&power_off(), &[], &[]);
    let initrd: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    let cmdline = "console=ttyAMA0 hv.sim-test";
    let b = bundle(&[(1, &kernel), (2, &initrd), (3, cmdline.as_bytes())]);
    let sw = Software::from_image(&b).expect("bundle parses");
    assert_eq!(sw.kernel, &kernel[..]);
    assert_eq!(sw.initrd, Some(&initrd[..]));
    assert_eq!(sw.cmdline, cmdline);
    let config = MachineConfig {
        ram_size: 16 << 20,
        ..MachineConfig::default()
    };
    let mut m = Machine::new(&config, &sw, Captured::new()).expect("machine");
    // The initrd sits page-aligned just below the DTB.
    let start = (m.dtb.raw() - initrd.len() as u64) & !0xfff;
    let mut got = vec![0u8; initrd.len()];
    m.bus
        .ram
        .read(hv_core::GuestAddress(start), &mut got)
        .unwrap();
    assert_eq!(got, initrd);
    // The DTB carries the command line and the initrd's range.
    let mut dtb = vec![0u8; 0x4000];
    m.bus.ram.read(m.dtb, &mut dtb).unwrap();
    let has = |needle: &[u8]| dtb.windows(needle.len()).any(|w| w == needle);
    assert!(has(cmdline.as_bytes()));
    assert!(has(b"linux,initrd-start"));
    assert!(has(&start.to_be_bytes()) || has(&(start as u32).to_be_bytes()));
    let report = run(&mut m, RunConfig::default());
    assert_eq!(report.outcome, Outcome::PowerOff);
}

#[test]
fn bad_bundles_and_images_are_errors_not_panics() {
    let kernel = image(&power_off(), &[], &[]);
    let cases = [
        bundle(&[(2, b"initrd only")]),
        bundle(&[(1, &kernel), (9, b"unknown kind")]),
        b"HVGUEST\0\x01\0\0\0\x09\0\0\0".to_vec(),
    ];
    for b in cases {
        assert!(Software::from_image(&b).is_err());
    }
    // An ELF header for another machine (x86-64) without program headers.
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2;
    elf[5] = 1;
    elf[18] = 62; // x86-64
    let sw = Software::from_image(&elf).unwrap();
    assert!(Machine::new(&MachineConfig::default(), &sw, Captured::new()).is_err());
}

/// The bus window of one device, as a device (for virtio's driver helpers).
struct Window<'a>(&'a mut hv_core::mmio::MmioBus, hv_core::GuestAddress);

impl hv_core::mmio::MmioDevice for Window<'_> {
    fn read(&mut self, offset: u64, width: hv_core::mmio::AccessWidth) -> u64 {
        self.0
            .read(self.1.checked_add(offset).unwrap(), width)
            .unwrap()
    }
    fn write(&mut self, offset: u64, width: hv_core::mmio::AccessWidth, value: u64) {
        let addr = self.1.checked_add(offset).unwrap();
        self.0.write(addr, width, value).unwrap();
    }
}

#[test]
fn disk_work_left_at_the_budget_is_polled_and_wfi_does_not_sleep_on_it() {
    use hv_core::GuestAddress;
    use virtio::testing::{mmio_init, wr, write_blk_header, Buf, DriverQueue};

    let dir = std::env::temp_dir().join(format!("hv-sim-poll-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("disk.img");
    let content: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let config = MachineConfig {
        ram_size: 16 << 20,
        disks: vec![hv_sim::machine::DiskSpec {
            path: path.clone(),
            read_only: true,
        }],
        ..MachineConfig::default()
    };
    // The guest only waits for interrupts; it never set up its GIC, so
    // nothing wakes it once the disk is done.
    let img = image(&[asm::WFI, asm::b(-4)], &[], &[]);
    let sw = Software {
        kernel: &img,
        initrd: None,
        cmdline: "",
    };
    let mut m = Machine::new(&config, &sw, Captured::new()).expect("machine");
    let base = m.bus.devices.work().slots()[0].base;
    m.bus.devices.work().set_chain_budget(Some(1));

    // The driver's side, played from here: three reads of sectors 0..3.
    let ram = std::sync::Arc::clone(&m.bus.ram);
    let area = machine::RAM_BASE.raw() + (8 << 20);
    let at = |off: u64| GuestAddress(area + off);
    let mut q = DriverQueue::new(&*ram, at(0), 16);
    let wanted = virtio::device::VIRTIO_F_VERSION_1;
    mmio_init(
        &mut Window(&mut m.bus.devices.bus, base),
        wanted,
        std::slice::from_ref(&q),
    )
    .unwrap();
    for i in 0..3u64 {
        let header = at(0x1_0000 + 16 * i);
        write_blk_header(&*ram, header, virtio::blk::VIRTIO_BLK_T_IN, i);
        q.add_chain(
            &*ram,
            &[
                Buf::r(header, 16),
                Buf::w(at(0x2_0000 + 512 * i), 512),
                Buf::w(at(0x1_8000 + i), 1),
            ],
        );
    }
    wr(
        &mut Window(&mut m.bus.devices.bus, base),
        virtio::mmio::QUEUE_NOTIFY,
        0,
    );
    assert_eq!(q.used_idx(&*ram), 1, "a budget of one chain");
    assert!(m.bus.devices.work().has_deferred_work());

    let report = run(
        &mut m,
        RunConfig {
            max_insns: Some(100_000),
            trace: false,
            ..RunConfig::default()
        },
    );
    assert!(
        matches!(report.outcome, Outcome::Hung { .. }),
        "{}",
        report.outcome
    );
    assert!(!m.bus.devices.work().has_deferred_work());
    let mut done = Vec::new();
    while let Some(u) = q.pop_used(&*ram) {
        done.push(u);
    }
    assert_eq!(done, [(0, 513), (3, 513), (6, 513)]);
    let mut data = vec![0u8; 3 * 512];
    ram.read(at(0x2_0000), &mut data).unwrap();
    assert_eq!(data, content[..3 * 512]);
    std::fs::remove_dir_all(&dir).unwrap();
}
