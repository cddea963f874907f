//! GDT (with a TSS giving double faults their own stack) and an IDT whose
//! 32 exception vectors lead to the fault dump, plus the host timer's
//! vector.

use super::smp::MAX_CPUS;
use core::fmt::{self, Write};
use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::control::Cr2;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::idt::InterruptDescriptorTable;
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// Registers as pushed by vectors.s, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionFrame {
    r15: u64,
    r14: u64,
    r13: u64,
    r12: u64,
    r11: u64,
    r10: u64,
    r9: u64,
    r8: u64,
    rbp: u64,
    rdi: u64,
    rsi: u64,
    rdx: u64,
    rcx: u64,
    rbx: u64,
    rax: u64,
    vector: u64,
    error_code: u64,
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

const DOUBLE_FAULT_IST: u16 = 0;
const DOUBLE_FAULT_STACK_SIZE: usize = 16 * 1024;

#[repr(align(16))]
struct Stack([u8; DOUBLE_FAULT_STACK_SIZE]);
/// One double-fault stack per CPU (the TSS of each names its own).
static DOUBLE_FAULT_STACKS: [Stack; MAX_CPUS] =
    [const { Stack([0; DOUBLE_FAULT_STACK_SIZE]) }; MAX_CPUS];

struct Selectors {
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

/// Each CPU's TSS and GDT (a TSS descriptor is marked busy once loaded,
/// so CPUs cannot share one); the IDT is the same for all.
static TSS: [Once<TaskStateSegment>; MAX_CPUS] = [const { Once::new() }; MAX_CPUS];
static GDT: [Once<(GlobalDescriptorTable, Selectors)>; MAX_CPUS] =
    [const { Once::new() }; MAX_CPUS];
static IDT: Once<InterruptDescriptorTable> = Once::new();

extern "C" {
    /// Addresses of the 32 entry stubs, from vectors.s.
    static exception_stubs: [u64; 32];
    /// The host timer's and the spurious vector's handlers, from vectors.s
    /// (only their addresses are used).
    fn host_timer_stub();
    fn host_spurious_stub();
}

/// Load CPU `cpu`'s GDT and TSS (`cpu` < MAX_CPUS: 0 is the boot CPU) and
/// the IDT.
pub fn init(cpu: usize) {
    let tss = TSS[cpu].call_once(|| {
        let mut tss = TaskStateSegment::new();
        let top = VirtAddr::from_ptr(DOUBLE_FAULT_STACKS[cpu].0.as_ptr_range().end);
        tss.interrupt_stack_table[usize::from(DOUBLE_FAULT_IST)] = top;
        tss
    });
    let (gdt, sel) = GDT[cpu].call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        (gdt, Selectors { code, data, tss })
    });
    gdt.load();
    // SAFETY: the selectors index the GDT just loaded, which is static.
    unsafe {
        CS::set_reg(sel.code);
        DS::set_reg(sel.data);
        ES::set_reg(sel.data);
        SS::set_reg(sel.data);
        load_tss(sel.tss);
    }

    let idt = IDT.call_once(|| {
        let mut idt = InterruptDescriptorTable::new();
        // SAFETY: reading a static table of addresses assembled in vectors.s.
        let stubs = unsafe { exception_stubs };
        let at = |v: usize| VirtAddr::new(stubs[v]);
        // SAFETY: for every set_handler_addr call, the address is the
        // vectors.s stub for that vector: an exception's saves the state
        // and never returns into the faulting code, the host timer's
        // acknowledges the APIC, restores what it used and returns, the
        // spurious vector's only returns; the
        // double-fault IST index names the stack set in the TSS above.
        unsafe {
            idt.divide_error.set_handler_addr(at(0));
            idt.debug.set_handler_addr(at(1));
            idt.non_maskable_interrupt.set_handler_addr(at(2));
            idt.breakpoint.set_handler_addr(at(3));
            idt.overflow.set_handler_addr(at(4));
            idt.bound_range_exceeded.set_handler_addr(at(5));
            idt.invalid_opcode.set_handler_addr(at(6));
            idt.device_not_available.set_handler_addr(at(7));
            idt.double_fault
                .set_handler_addr(at(8))
                .set_stack_index(DOUBLE_FAULT_IST);
            idt.invalid_tss.set_handler_addr(at(10));
            idt.segment_not_present.set_handler_addr(at(11));
            idt.stack_segment_fault.set_handler_addr(at(12));
            idt.general_protection_fault.set_handler_addr(at(13));
            idt.page_fault.set_handler_addr(at(14));
            idt.x87_floating_point.set_handler_addr(at(16));
            idt.alignment_check.set_handler_addr(at(17));
            idt.machine_check.set_handler_addr(at(18));
            idt.simd_floating_point.set_handler_addr(at(19));
            idt.virtualization.set_handler_addr(at(20));
            idt.cp_protection_exception.set_handler_addr(at(21));
            idt.hv_injection_exception.set_handler_addr(at(28));
            idt.vmm_communication_exception.set_handler_addr(at(29));
            idt.security_exception.set_handler_addr(at(30));
            idt[super::host_timer::HOST_TIMER_VECTOR]
                .set_handler_addr(VirtAddr::new(host_timer_stub as *const () as u64));
            idt[super::host_timer::SPURIOUS_VECTOR]
                .set_handler_addr(VirtAddr::new(host_spurious_stub as *const () as u64));
        }
        idt
    });
    idt.load();
    mask_legacy_pic();
}

/// Mask every line of the two 8259 PICs: the firmware may have left the
/// PIT's IRQ 0 open on vector 8 (a real-mode layout), which would arrive
/// as a double fault the moment hv runs a guest with host interrupts
/// unmasked. hv uses the APIC only.
fn mask_legacy_pic() {
    for port in [0x21u16, 0xa1] {
        // SAFETY: writing OCW1 (the interrupt mask) of a PIC only masks
        // its lines; on machines without PICs the ports are unused.
        unsafe { x86_64::instructions::port::Port::<u8>::new(port).write(0xff) };
    }
}

const NAMES: [&str; 32] = [
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 floating point",
    "alignment check",
    "machine check",
    "SIMD floating point",
    "virtualization",
    "control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "hypervisor injection",
    "VMM communication",
    "security",
    "reserved",
];

/// Print everything known about a CPU exception.
pub fn dump(out: &mut dyn Write, f: &ExceptionFrame) -> fmt::Result {
    let name = NAMES.get(f.vector as usize).copied().unwrap_or("unknown");
    writeln!(
        out,
        "\n*** hv-kernel: unexpected exception: #{} {name} ***",
        f.vector
    )?;
    writeln!(out, "error code {:#x}", f.error_code)?;
    writeln!(
        out,
        "RIP {:#018x}  CS {:#06x}  RFLAGS {:#010x}",
        f.rip, f.cs, f.rflags
    )?;
    writeln!(out, "RSP {:#018x}  SS {:#06x}", f.rsp, f.ss)?;
    if f.vector == 14 {
        writeln!(out, "CR2 {:#018x}", Cr2::read_raw())?;
    }
    writeln!(
        out,
        "RAX {:#018x}  RBX {:#018x}  RCX {:#018x}",
        f.rax, f.rbx, f.rcx
    )?;
    writeln!(
        out,
        "RDX {:#018x}  RSI {:#018x}  RDI {:#018x}",
        f.rdx, f.rsi, f.rdi
    )?;
    writeln!(
        out,
        "RBP {:#018x}  R8  {:#018x}  R9  {:#018x}",
        f.rbp, f.r8, f.r9
    )?;
    writeln!(
        out,
        "R10 {:#018x}  R11 {:#018x}  R12 {:#018x}",
        f.r10, f.r11, f.r12
    )?;
    writeln!(
        out,
        "R13 {:#018x}  R14 {:#018x}  R15 {:#018x}",
        f.r13, f.r14, f.r15
    )
}

/// Called by vectors.s with the saved registers.
#[no_mangle]
extern "C" fn x86_64_exception(frame: &ExceptionFrame) -> ! {
    super::fatal_exception(frame)
}
