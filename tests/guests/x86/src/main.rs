//! hv's x86_64 test guest. Entered through PVH (QEMU's `-kernel` on
//! `-M microvm`, or hv-kernel), it goes to long mode with the same boot
//! code as hv-kernel, then:
//!
//! * prints through COM1 with the `uart_16550` crate (hv's 16550 model
//!   against a driver nobody here wrote);
//! * reads the identification registers of the first virtio-mmio slot
//!   (MMIO from a paged 64-bit guest: under hv each read is a nested page
//!   fault hv emulates by decoding the instruction);
//! * reads an address and a port nothing decodes (0 and all ones, as on
//!   microvm), and an MSR no CPU has (#GP under hv, as the SDM says,
//!   caught by its handler; QEMU TCG returns 0 instead);
//! * runs its local APIC's timer periodically and waits for ten of its
//!   interrupts in HLT, then for ten more spinning with interrupts on
//!   (no exits: hv must stop the guest when its timer is due);
//! * finds the virtio-blk disk on the virtio-mmio transports with the
//!   `virtio-drivers` crate (polling, no interrupts), writes the AArch64
//!   guests' pattern to its first, eighth and last sectors, reads them
//!   back, and checks that a read past the end fails; then routes the
//!   disk's interrupt through the I/O APIC and takes a completion
//!   interrupt;
//! * powers off as an OS does: RSDP from the PVH start_info, XSDT, FADT,
//!   SLP_TYP 5 with SLP_EN to the sleep control register (QEMU's microvm
//!   and hv build different tables for the same registers); a FAIL ends
//!   through the isa-debug-exit port (0xf4) instead.
//!
//! Its output is the same on both, which is the differential check.
//!
//! With `hostile` on its command line (hv gives it one from a guest
//! bundle) it instead does what hv must survive: an ADD on a device
//! register (an instruction form hv's MMIO emulator does not carry out:
//! the guest must get #UD), a jump to an address outside RAM (#UD: nothing
//! to execute there), a store and a load where nothing is mapped (ignored,
//! reads 0), and finally a triple fault (an empty IDT, then UD2), after
//! which hv must report the guest's reset and end the run itself.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-x86 is an x86_64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::cell::UnsafeCell;
    use core::fmt::Write;
    use core::ptr::NonNull;
    use core::sync::atomic::{AtomicU64, Ordering};
    use guest_default::dma::GuestHal;
    use guest_default::pattern_byte;
    use uart_16550::SerialPort;
    use virtio_drivers::device::blk::{VirtIOBlk, SECTOR_SIZE};
    use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
    use virtio_drivers::transport::{DeviceType, Transport};
    use x86_64::instructions::port::Port;
    use x86_64::structures::idt::InterruptDescriptorTable;
    use x86_64::VirtAddr;

    const BOOT_STACK_SIZE: usize = 64 * 1024;
    /// QEMU microvm's first virtio-mmio transport (hv's x86 machine puts
    /// its first slot there too), and the transports probed for a disk.
    const VIRTIO_MMIO_SLOT0: u64 = 0xfeb0_0000;
    const VIRTIO_MMIO_SIZE: usize = 0x200;
    const VIRTIO_MMIO_PROBED: usize = 24;
    /// isa-debug-exit: a write of v ends QEMU with status (v << 1) | 1.
    const DEBUG_EXIT_PORT: u16 = 0xf4;
    const DEBUG_EXIT_PASS: u32 = 0x10;
    /// An address no device decodes on microvm (between the virtio-mmio
    /// transports and the IOAPIC).
    const UNMAPPED: u64 = 0xfebf_0000;
    /// A port nothing decodes on microvm (COM2's, absent there).
    const UNCLAIMED_PORT: u16 = 0x2f8;

    // The PVH note, 32-bit entry, identity map of the low 4 GiB and the
    // switch to long mode: hv-kernel's own, calling x86_64_main below.
    core::arch::global_asm!(
        include_str!("../../../../hv-kernel/src/arch/x86_64/boot.s"),
        BOOT_STACK_SIZE = const BOOT_STACK_SIZE,
        options(att_syntax)
    );

    /// A 32-bit device register.
    fn mmio_read32(addr: u64) -> u32 {
        // SAFETY: the boot tables identity-map the low 4 GiB, and `addr`
        // is a virtio-mmio register (a read has no side effect).
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }

    /// An MSR no CPU has: RDMSR of it raises #GP.
    const MISSING_MSR: u32 = 0x1234_5678;
    /// The local APIC (xAPIC) and the vector of its timer here.
    const LAPIC: u64 = 0xfee0_0000;
    const TIMER_VECTOR: u8 = 0x40;
    /// Timer interrupts the test waits for.
    const TICKS_WANTED: u64 = 10;

    /// The vector the disk's interrupt is routed to.
    const DISK_VECTOR: u8 = 0x41;
    /// microvm's I/O APICs: GSIs 0-23 and 24-47.
    const IOAPIC0: u64 = 0xfec0_0000;
    const IOAPIC1: u64 = 0xfec1_0000;
    /// microvm's virtio-mmio transport n interrupts on GSI 24 + n (its
    /// second I/O APIC's inputs; found by routing GSIs one by one).
    const VIRTIO_GSI_BASE: u64 = 24;

    /// #GPs taken by the #GP stub.
    static GP_COUNT: AtomicU64 = AtomicU64::new(0);
    /// #UDs taken by the #UD stub, and where it resumes.
    static UD_COUNT: AtomicU64 = AtomicU64::new(0);
    static UD_RESUME: AtomicU64 = AtomicU64::new(0);
    /// The disk transport's registers, for the disk interrupt stub.
    static DISK_MMIO: AtomicU64 = AtomicU64::new(0);
    /// Disk interrupts taken.
    static DISK_IRQS: AtomicU64 = AtomicU64::new(0);
    /// Timer interrupts taken by the timer stub.
    static TICKS: AtomicU64 = AtomicU64::new(0);

    // The #GP handler of the MSR test: count, step RIP over the 2-byte
    // RDMSR that faulted, return. The timer handler: count, EOI, return.
    core::arch::global_asm!(
        ".section .text.guest_stubs, \"ax\"",
        ".code64",
        ".global guest_gp_stub",
        "guest_gp_stub:",
        "    add $8, %rsp",
        "    addq $2, (%rsp)",
        "    lock incq {gp}(%rip)",
        "    iretq",
        // #UD (hostile mode): count, resume at UD_RESUME.
        ".global guest_ud_stub",
        "guest_ud_stub:",
        "    push %rax",
        "    mov {ud_resume}(%rip), %rax",
        "    mov %rax, 8(%rsp)",
        "    pop %rax",
        "    lock incq {ud}(%rip)",
        "    iretq",
        ".global guest_timer_stub",
        "guest_timer_stub:",
        "    lock incq {ticks}(%rip)",
        "    push %rax",
        "    mov ${eoi}, %eax",
        "    movl $0, (%rax)",
        "    pop %rax",
        "    iretq",
        // The disk's interrupt: acknowledge the transport (InterruptStatus
        // to InterruptACK), count, EOI.
        ".global guest_disk_stub",
        "guest_disk_stub:",
        "    push %rax",
        "    push %rcx",
        "    mov {disk}(%rip), %rax",
        "    mov 0x60(%rax), %ecx",
        "    mov %ecx, 0x64(%rax)",
        "    lock incq {disk_irqs}(%rip)",
        "    mov ${eoi}, %eax",
        "    movl $0, (%rax)",
        "    pop %rcx",
        "    pop %rax",
        "    iretq",
        gp = sym GP_COUNT,
        ud = sym UD_COUNT,
        ud_resume = sym UD_RESUME,
        ticks = sym TICKS,
        disk = sym DISK_MMIO,
        disk_irqs = sym DISK_IRQS,
        eoi = const LAPIC + 0xb0,
        options(att_syntax)
    );

    extern "C" {
        /// The stubs above (never called from Rust: only their addresses).
        fn guest_gp_stub();
        fn guest_ud_stub();
        fn guest_timer_stub();
        fn guest_disk_stub();
    }

    struct Idt(UnsafeCell<InterruptDescriptorTable>);

    // SAFETY: written once, by the one CPU, before it is loaded.
    unsafe impl Sync for Idt {}

    static IDT: Idt = Idt(UnsafeCell::new(InterruptDescriptorTable::new()));

    /// Load an IDT with the #GP and timer stubs.
    fn install_idt() {
        // SAFETY: IDT is static and only set up here, once, before it is
        // loaded; each stub handles its vector and returns.
        unsafe {
            let idt = &mut *IDT.0.get();
            idt.general_protection_fault
                .set_handler_addr(VirtAddr::new(guest_gp_stub as *const () as u64));
            idt.invalid_opcode
                .set_handler_addr(VirtAddr::new(guest_ud_stub as *const () as u64));
            idt[TIMER_VECTOR].set_handler_addr(VirtAddr::new(guest_timer_stub as *const () as u64));
            idt[DISK_VECTOR].set_handler_addr(VirtAddr::new(guest_disk_stub as *const () as u64));
            idt.load_unsafe();
        }
    }

    fn lapic_write(offset: u64, v: u32) {
        // SAFETY: the boot tables identity-map the LAPIC's page; this is
        // one of its registers.
        unsafe { core::ptr::write_volatile((LAPIC + offset) as *mut u32, v) }
    }

    /// Run the LAPIC timer periodically and wait for its interrupts in
    /// HLT; returns how many arrived (at most 1,000 halts).
    fn lapic_timer_ticks() -> u64 {
        lapic_write(0xf0, 0x1ff); // SVR: enabled, spurious vector 0xff
        lapic_write(0x3e0, 0xb); // divide by 1
        lapic_write(0x320, (1 << 17) | u32::from(TIMER_VECTOR)); // periodic
        lapic_write(0x380, 200_000); // initial count
        for _ in 0..1_000 {
            if TICKS.load(Ordering::SeqCst) >= TICKS_WANTED {
                break;
            }
            // SAFETY: the timer stub handles the interrupt this waits for;
            // STI's shadow covers HLT, so none is lost in between.
            unsafe { core::arch::asm!("sti", "hlt", "cli", options(nostack)) };
        }
        lapic_write(0x320, 1 << 16); // masked
        lapic_write(0x380, 0);
        TICKS.load(Ordering::SeqCst)
    }

    /// The timer again, its interrupts awaited spinning with interrupts on
    /// (no HLT, no exits): under hv they arrive only if hv stops the
    /// running guest when its timer is due. Returns how many arrived
    /// within a bounded spin.
    fn lapic_timer_ticks_spinning() -> u64 {
        TICKS.store(0, Ordering::SeqCst);
        lapic_write(0x320, (1 << 17) | u32::from(TIMER_VECTOR));
        lapic_write(0x380, 200_000);
        // SAFETY: the timer stub handles the interrupts this enables.
        unsafe { core::arch::asm!("sti", options(nomem, nostack)) };
        let mut spins = 0u64;
        while TICKS.load(Ordering::SeqCst) < TICKS_WANTED && spins < 500_000_000 {
            core::hint::spin_loop();
            spins += 1;
        }
        // SAFETY: interrupts off again.
        unsafe { core::arch::asm!("cli", options(nomem, nostack)) };
        lapic_write(0x320, 1 << 16);
        lapic_write(0x380, 0);
        TICKS.load(Ordering::SeqCst)
    }

    /// Whether RDMSR of `msr` raised #GP (and came back past it).
    fn rdmsr_faults(msr: u32) -> bool {
        let before = GP_COUNT.load(Ordering::SeqCst);
        // SAFETY: RDMSR reads an MSR or faults; the fault is handled above.
        unsafe {
            core::arch::asm!("rdmsr", in("ecx") msr, out("eax") _, out("edx") _, options(nostack));
        }
        GP_COUNT.load(Ordering::SeqCst) == before + 1
    }

    type Disk = VirtIOBlk<GuestHal, MmioTransport<'static>>;

    /// Route GSI `gsi` through its I/O APIC to `vector` on APIC 0,
    /// level-triggered, active high (as the DSDT describes virtio), or
    /// mask it.
    fn route_gsi(gsi: u64, vector: u8, masked: bool) {
        let (ioapic, pin) = if gsi < 24 {
            (IOAPIC0, gsi)
        } else {
            (IOAPIC1, gsi - 24)
        };
        let low = u32::from(vector) | (1 << 15) | (u32::from(masked) << 16);
        for (index, value) in [(0x11 + 2 * pin, 0), (0x10 + 2 * pin, low)] {
            // SAFETY: the boot tables identity-map the I/O APICs' pages;
            // IOREGSEL and IOWIN are their 32-bit registers.
            unsafe {
                core::ptr::write_volatile(ioapic as *mut u32, index as u32);
                core::ptr::write_volatile((ioapic + 0x10) as *mut u32, value);
            }
        }
    }

    /// The first virtio-blk device on the probed transports (QEMU and hv
    /// may put it on different ones), with its transport's index.
    fn find_disk() -> Option<(Disk, usize)> {
        (0..VIRTIO_MMIO_PROBED).find_map(|slot| {
            let addr = VIRTIO_MMIO_SLOT0 as usize + slot * VIRTIO_MMIO_SIZE;
            let header = NonNull::new(addr as *mut VirtIOHeader)?;
            // SAFETY: microvm (and hv's x86 machine) has a virtio-mmio
            // register block of 0x200 bytes at each probed address, which
            // this guest uses through this transport only.
            let transport = unsafe { MmioTransport::new(header, VIRTIO_MMIO_SIZE) }.ok()?;
            if transport.device_type() != DeviceType::Block {
                return None;
            }
            VirtIOBlk::<GuestHal, _>::new(transport)
                .ok()
                .map(|d| (d, slot))
        })
    }

    /// Write the pattern to sectors 0, 7 and the last, read them back;
    /// then a read past the end must fail.
    fn disk_test(out: &mut SerialPort) -> bool {
        let Some((mut disk, slot)) = find_disk() else {
            let _ = writeln!(out, "x86 guest: no virtio-blk disk");
            return false;
        };
        let sectors = disk.capacity();
        let _ = writeln!(
            out,
            "x86 guest: virtio-blk: {sectors} sectors, {}",
            if disk.readonly() {
                "read-only"
            } else {
                "read-write"
            }
        );
        let mut buf = [0u8; SECTOR_SIZE];
        let mut ok = true;
        for sector in [0, 7, sectors - 1] {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = pattern_byte(sector, i);
            }
            if disk.write_blocks(sector as usize, &buf).is_err() {
                ok = false;
            }
            buf.fill(0);
            let read_ok = disk.read_blocks(sector as usize, &mut buf).is_ok();
            let same = buf
                .iter()
                .enumerate()
                .all(|(i, b)| *b == pattern_byte(sector, i));
            ok &= read_ok && same;
        }
        let _ = writeln!(
            out,
            "x86 guest: disk: sectors 0, 7 and {} written and read back: {}",
            sectors - 1,
            if ok { "ok" } else { "MISMATCH" }
        );
        let refused = disk.read_blocks(sectors as usize, &mut buf).is_err();
        let _ = writeln!(
            out,
            "x86 guest: disk: a read past the end {}",
            if refused { "is refused" } else { "SUCCEEDED" }
        );
        // The completion interrupt: through the I/O APIC to the local
        // APIC, taken while the driver polls.
        DISK_MMIO.store(
            VIRTIO_MMIO_SLOT0 + (slot * VIRTIO_MMIO_SIZE) as u64,
            Ordering::SeqCst,
        );
        let gsi = VIRTIO_GSI_BASE + slot as u64;
        route_gsi(gsi, DISK_VECTOR, false);
        disk.enable_interrupts();
        // SAFETY: the disk stub handles the interrupt this enables.
        unsafe { core::arch::asm!("sti", options(nomem, nostack)) };
        let read = disk.read_blocks(0, &mut buf).is_ok();
        let mut spins = 0u32;
        while DISK_IRQS.load(Ordering::SeqCst) == 0 && spins < 10_000_000 {
            core::hint::spin_loop();
            spins += 1;
        }
        // SAFETY: interrupts off again.
        unsafe { core::arch::asm!("cli", options(nomem, nostack)) };
        route_gsi(gsi, DISK_VECTOR, true);
        let irq = read && DISK_IRQS.load(Ordering::SeqCst) > 0;
        let _ = writeln!(
            out,
            "x86 guest: disk: completion interrupt through the I/O APIC: {}",
            if irq { "taken" } else { "MISSING" }
        );
        ok && refused && irq
    }

    fn read_u64(addr: u64) -> u64 {
        // SAFETY: the boot tables identity-map the low 4 GiB, where the
        // firmware (QEMU's or hv's) put the ACPI tables; reads only.
        unsafe { core::ptr::read_unaligned(addr as *const u64) }
    }

    /// Power off as an OS does on a hardware-reduced ACPI machine: the
    /// RSDP from the PVH start_info, its XSDT, the FADT, and SLP_TYP 5 with
    /// SLP_EN written to the sleep control register (an I/O port). Returns
    /// only if some table or the register is missing.
    fn acpi_power_off(start_info: u64, out: &mut SerialPort) {
        let rsdp = read_u64(start_info + 32);
        if rsdp == 0 || read_u64(rsdp) != u64::from_le_bytes(*b"RSD PTR ") {
            let _ = writeln!(out, "x86 guest: no ACPI RSDP");
            return;
        }
        let xsdt = read_u64(rsdp + 24);
        let len = read_u64(xsdt + 4) as u32 as u64;
        let fadt = (0..len.saturating_sub(36) / 8)
            .map(|i| read_u64(xsdt + 36 + 8 * i))
            .find(|&t| read_u64(t) as u32 == u32::from_le_bytes(*b"FACP"));
        let Some(fadt) = fadt else {
            let _ = writeln!(out, "x86 guest: no FADT");
            return;
        };
        // SLEEP_CONTROL_REG: a GAS at 244 (address space at +0, address
        // at +4): system memory (QEMU's microvm puts it in its ACPI GED's
        // MMIO window) or system I/O (hv's).
        let space = read_u64(fadt + 244) as u8;
        let addr = read_u64(fadt + 248);
        let value: u8 = (5 << 2) | (1 << 5);
        match space {
            0 if addr != 0 && addr < 1 << 32 => {
                let _ = writeln!(out, "x86 guest: powering off through ACPI S5");
                // SAFETY: the FADT names this byte as the sleep control
                // register; the boot tables identity-map the low 4 GiB.
                unsafe { core::ptr::write_volatile(addr as *mut u8, value) };
            }
            1 if addr != 0 && addr <= 0xffff => {
                let _ = writeln!(out, "x86 guest: powering off through ACPI S5");
                // SAFETY: the FADT names this port as the sleep control
                // register.
                unsafe { Port::<u8>::new(addr as u16).write(value) };
            }
            _ => {
                let _ = writeln!(out, "x86 guest: no sleep control register");
                return;
            }
        }
        loop {
            x86_64::instructions::interrupts::disable();
            x86_64::instructions::hlt();
        }
    }

    fn power_off(code: u32) -> ! {
        // SAFETY: port 0xf4 is isa-debug-exit under QEMU and hv; elsewhere
        // an unused port.
        unsafe { Port::<u32>::new(DEBUG_EXIT_PORT).write(code) };
        loop {
            x86_64::instructions::interrupts::disable();
            x86_64::instructions::hlt();
        }
    }

    /// Whether the PVH start_info's command line holds `word`.
    fn cmdline_has(start_info: u64, word: &[u8]) -> bool {
        let at = read_u64(start_info + 24);
        if at == 0 {
            return false;
        }
        // SAFETY: the boot tables identity-map the low 4 GiB; the loader
        // put a NUL-terminated command line at `at` (at most 4 KiB read).
        let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, 4096) };
        let line = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
        line.split(|&b| b == b' ').any(|w| w == word)
    }

    /// An address in the guest's identity map that is neither RAM nor a
    /// device on microvm or hv's machine.
    const NOTHING: u64 = 0xc000_0000;

    /// Hostile mode (see the crate's doc): each line says what the guest
    /// got; the triple fault at the end never returns.
    fn hostile(out: &mut SerialPort) -> ! {
        install_idt();
        let ud = || UD_COUNT.load(Ordering::SeqCst);
        let before = ud();
        // SAFETY: ADD on a virtio-mmio register of slot 0 (QueueNum, which
        // the device ignores before a queue is selected); if it faults,
        // the #UD stub resumes at 2:.
        unsafe {
            core::arch::asm!(
                "lea 2f(%rip), %rax",
                "mov %rax, {resume}(%rip)",
                "addl $1, (%rcx)",
                "2:",
                resume = sym UD_RESUME,
                in("rcx") VIRTIO_MMIO_SLOT0 + 0x38,
                out("rax") _,
                options(att_syntax, nostack)
            );
        }
        let _ = writeln!(
            out,
            "x86 guest: hostile: ADD on a device register: {}",
            if ud() == before + 1 {
                "#UD"
            } else {
                "no fault"
            }
        );
        let before = ud();
        // SAFETY: a jump to NOTHING, which holds no code; the #UD stub
        // resumes at 2: with the stack as it was.
        unsafe {
            core::arch::asm!(
                "lea 2f(%rip), %rax",
                "mov %rax, {resume}(%rip)",
                "jmp *%rcx",
                "2:",
                resume = sym UD_RESUME,
                in("rcx") NOTHING,
                out("rax") _,
                options(att_syntax, nostack)
            );
        }
        let _ = writeln!(
            out,
            "x86 guest: hostile: jump to {NOTHING:#x}, outside RAM: {}",
            if ud() == before + 1 {
                "#UD"
            } else {
                "no fault"
            }
        );
        // SAFETY: NOTHING is identity-mapped and decoded by no device: the
        // store goes nowhere, the load reads what nothing drives.
        let back = unsafe {
            core::ptr::write_volatile(NOTHING as *mut u32, 0xdead_beef);
            core::ptr::read_volatile(NOTHING as *const u32)
        };
        let _ = writeln!(
            out,
            "x86 guest: hostile: store and load at {NOTHING:#x}: reads {back:#x}"
        );
        let _ = writeln!(out, "x86 guest: hostile: triple fault next");
        // SAFETY: deliberately fatal: with an empty IDT, UD2's #UD becomes
        // #GP, then #DF, then a shutdown; nothing after it runs.
        unsafe {
            let empty = x86_64::structures::DescriptorTablePointer {
                limit: 0,
                base: VirtAddr::new(0),
            };
            x86_64::instructions::tables::lidt(&empty);
            core::arch::asm!("ud2", options(noreturn));
        }
    }

    #[no_mangle]
    extern "C" fn x86_64_main(start_info: u64) -> ! {
        // SAFETY: COM1 is the PC's first 16550 at port 0x3f8, on QEMU
        // microvm and on hv's x86 machine; nothing else drives it.
        let mut com1 = unsafe { SerialPort::new(0x3f8) };
        com1.init();
        let _ = writeln!(com1, "x86 guest: hello from long mode");
        if cmdline_has(start_info, b"hostile") {
            hostile(&mut com1);
        }
        let magic = mmio_read32(VIRTIO_MMIO_SLOT0);
        let version = mmio_read32(VIRTIO_MMIO_SLOT0 + 4);
        let _ = writeln!(
            com1,
            "x86 guest: virtio-mmio slot 0: magic {magic:#x}, version {version}"
        );
        let hole = mmio_read32(UNMAPPED);
        // SAFETY: reading a port nothing decodes on microvm has no effect.
        let port: u8 = unsafe { Port::new(UNCLAIMED_PORT).read() };
        let _ = writeln!(
            com1,
            "x86 guest: unmapped {UNMAPPED:#x} reads {hole:#x}, unclaimed port {UNCLAIMED_PORT:#x} reads {port:#x}"
        );
        // The SDM (and KVM, and hv) raise #GP; QEMU TCG returns 0, so
        // this line is machine-specific and not part of the verdict.
        install_idt();
        let gp = rdmsr_faults(MISSING_MSR);
        let _ = writeln!(
            com1,
            "x86 guest: RDMSR of missing MSR {MISSING_MSR:#x}: {}",
            if gp { "#GP" } else { "no fault" }
        );
        let ticks = lapic_timer_ticks();
        let _ = writeln!(
            com1,
            "x86 guest: LAPIC timer: {} interrupts on vector {TIMER_VECTOR:#x}",
            ticks.min(TICKS_WANTED)
        );
        let spun = lapic_timer_ticks_spinning();
        let _ = writeln!(
            com1,
            "x86 guest: LAPIC timer while spinning: {} interrupts",
            spun.min(TICKS_WANTED)
        );
        let disk_ok = disk_test(&mut com1);
        let ok = magic == 0x7472_6976 && disk_ok && ticks >= TICKS_WANTED && spun >= TICKS_WANTED;
        let _ = writeln!(com1, "x86 guest: {}", if ok { "PASS" } else { "FAIL" });
        if ok {
            acpi_power_off(start_info, &mut com1);
        }
        power_off(if ok { DEBUG_EXIT_PASS } else { 0x1 })
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        // SAFETY: as in x86_64_main; a panic ends the guest anyway.
        let mut com1 = unsafe { SerialPort::new(0x3f8) };
        let _ = writeln!(com1, "x86 guest: panic: {info}");
        power_off(0x1)
    }
}
