//! A data access that spans two pages and faults only in the second must
//! report the second page in FAR_EL1: otherwise a guest's fault handler
//! (Linux demand paging, copy-on-write) fixes the first page, which needs
//! nothing, and the access faults forever.

use hv_core::mem::{GuestMemory, GuestRam};
use hv_core::mmio::MmioBus;
use hv_core::translate::asm;
use hv_core::translate::sysreg::SCTLR_M;
use hv_core::translate::{Cpu, CpuBus, CpuConfig, Exit, Fault, FaultKind, FlatBus};
use hv_core::GuestAddress;

const RAM: u64 = 0x4000_0000;
/// Accesses at or above this page fault (a page the guest has not yet
/// made writable/readable).
const BOUNDARY: u64 = RAM + 0x2000;

/// RAM where everything from BOUNDARY up faults with a permission fault.
struct HalfFaulting(FlatBus<GuestRam>);

const PERMISSION: Fault = Fault {
    kind: FaultKind::Permission,
    level: 3,
};

impl CpuBus for HalfFaulting {
    fn load(&mut self, va: u64, size: u8, el: u8) -> Result<u64, Fault> {
        if va + u64::from(size) > BOUNDARY && va >= BOUNDARY {
            return Err(PERMISSION);
        }
        self.0.load(va, size, el)
    }
    fn store(&mut self, va: u64, size: u8, value: u64, el: u8) -> Result<u64, Fault> {
        if va >= BOUNDARY {
            return Err(PERMISSION);
        }
        self.0.store(va, size, value, el)
    }
    fn fetch_pa(&mut self, va: u64, el: u8) -> Result<u64, Fault> {
        self.0.fetch_pa(va, el)
    }
    fn fetch_word(&mut self, pa: u64) -> Result<u32, Fault> {
        self.0.fetch_word(pa)
    }
}

/// Run `insn` with x0 = `addr` (MMU "on" so unaligned accesses are
/// allowed); returns (ESR_EL1, FAR_EL1) of the exception it took.
fn fault_of(insn: u32, addr: u64) -> (u64, u64) {
    let ram = GuestRam::with_size(GuestAddress(RAM), 0x4000).unwrap();
    ram.write_u32(GuestAddress(RAM), insn).unwrap();
    let mut bus = HalfFaulting(FlatBus::new(ram, MmioBus::new()));
    let mut cpu = Cpu::new(CpuConfig {
        exit_on_exception: true,
        ..CpuConfig::default()
    })
    .unwrap();
    cpu.reset(RAM);
    cpu.sys.sctlr |= SCTLR_M;
    cpu.sys.cpacr = 3 << 20;
    cpu.set_x(0, addr);
    match cpu.run(&mut bus, 10) {
        Exit::Exception { esr, .. } => (esr, cpu.sys.far),
        other => panic!("no exception: {other:?}"),
    }
}

#[test]
fn sixteen_byte_store_faulting_in_its_second_half() {
    // STR Q0, [X0]
    let (esr, far) = fault_of(asm::ldst_uimm(0, true, 2, 0, 0, 0), BOUNDARY - 8);
    assert_eq!(esr >> 26, 0x25);
    assert_eq!(esr & 0x3f, 0x0f, "permission fault, level 3");
    assert_eq!(far, BOUNDARY);
}

#[test]
fn pair_store_faulting_in_its_second_register() {
    // STP X1, X2, [X0]
    let (_, far) = fault_of(asm::ldst_pair(2, false, 2, false, 0, 2, 0, 1), BOUNDARY - 8);
    assert_eq!(far, BOUNDARY);
}

#[test]
fn unaligned_accesses_across_the_page_boundary() {
    let (esr, far) = fault_of(asm::str_imm(true, 1, 0, 0), BOUNDARY - 4);
    assert_ne!(esr & (1 << 6), 0, "a write");
    assert_eq!(far, BOUNDARY);
    let (esr, far) = fault_of(asm::ldr_imm(false, 1, 0, 0), BOUNDARY - 2);
    assert_eq!(esr & (1 << 6), 0, "a read");
    assert_eq!(far, BOUNDARY);
}

#[test]
fn accesses_within_one_page_still_work() {
    let ram = GuestRam::with_size(GuestAddress(RAM), 0x4000).unwrap();
    // STR X1, [X0]; LDR X2, [X0]; HVC #0 with X0 unaligned, one page.
    for (i, w) in [
        asm::str_imm(true, 1, 0, 0),
        asm::ldr_imm(true, 2, 0, 0),
        asm::hvc(0),
    ]
    .iter()
    .enumerate()
    {
        ram.write_u32(GuestAddress(RAM + 4 * i as u64), *w).unwrap();
    }
    let mut bus = HalfFaulting(FlatBus::new(ram, MmioBus::new()));
    let mut cpu = Cpu::new(CpuConfig::default()).unwrap();
    cpu.reset(RAM);
    cpu.sys.sctlr |= SCTLR_M;
    cpu.set_x(0, BOUNDARY - 0x100 + 3);
    cpu.set_x(1, 0x1122_3344_5566_7788);
    assert_eq!(cpu.run(&mut bus, 10), Exit::Hvc { imm: 0 });
    assert_eq!(cpu.x(2), 0x1122_3344_5566_7788);
}
