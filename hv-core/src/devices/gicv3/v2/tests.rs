//! The GICv2 distributor view, driven the way Linux's `irq-gic.c` drives a
//! GIC-400 (gic_dist_init, gic_cpu_init, gic_raise_softirq,
//! gic_set_affinity), and against the register rules of IHI 0048B 4.3.

use super::super::{IrqSet, Vgic};
use crate::mmio::AccessWidth::{self, Byte, Word};

const CTLR: u64 = 0x000;
const TYPER: u64 = 0x004;
const IGROUPR: u64 = 0x080;
const ISENABLER: u64 = 0x100;
const ICENABLER: u64 = 0x180;
const ISPENDR: u64 = 0x200;
const IPRIORITYR: u64 = 0x400;
const ITARGETSR: u64 = 0x800;
const ICFGR: u64 = 0xc00;
const SGIR: u64 = 0xf00;
const CPENDSGIR: u64 = 0xf10;
const SPENDSGIR: u64 = 0xf20;
const PIDR2: u64 = 0xfe8;

fn r(g: &mut Vgic, vcpu: usize, off: u64) -> u64 {
    g.dist_v2_read(vcpu, off, Word)
}

fn w(g: &mut Vgic, vcpu: usize, off: u64, v: u64) {
    g.dist_v2_write(vcpu, off, Word, v)
}

fn has(set: IrqSet, intid: u32) -> bool {
    set & (1 << intid) != 0
}

/// What Linux does at boot on each CPU: distributor off, everything to
/// this CPU, priorities, enable; then per CPU, SGIs enabled, PPIs off.
fn linux_init(g: &mut Vgic, cpus: usize) {
    w(g, 0, CTLR, 0);
    let mask = r(g, 0, ITARGETSR) & 0xff;
    let all = mask | mask << 8 | mask << 16 | mask << 24;
    for i in (32..96).step_by(4) {
        w(g, 0, ITARGETSR + i, all);
        w(g, 0, IPRIORITYR + i, 0xa0a0_a0a0);
    }
    w(g, 0, CTLR, 1);
    for cpu in 0..cpus {
        w(g, cpu, ICENABLER, 0xffff_0000);
        w(g, cpu, ISENABLER, 0x0000_ffff);
        for i in (0..32).step_by(4) {
            w(g, cpu, IPRIORITYR + i, 0xa0a0_a0a0);
        }
    }
}

#[test]
fn identification_registers() {
    let mut g = Vgic::new(4);
    // ITLinesNumber = 2 (96 INTIDs), CPUNumber = 3 (4 CPUs).
    assert_eq!(r(&mut g, 0, TYPER), 2 | (3 << 5));
    assert_eq!(r(&mut g, 0, PIDR2) >> 4 & 0xf, 2, "ArchRev GICv2");
    w(&mut g, 0, CTLR, 0xffff_ffff);
    assert_eq!(r(&mut g, 0, CTLR), 3, "only the two group enables");
}

#[test]
fn each_cpu_reads_its_own_mask_in_the_private_itargetsr() {
    let mut g = Vgic::new(4);
    for cpu in 0..4 {
        let m = 1u64 << cpu;
        assert_eq!(r(&mut g, cpu, ITARGETSR), m | m << 8 | m << 16 | m << 24);
        assert_eq!(
            r(&mut g, cpu, ITARGETSR + 28),
            m | m << 8 | m << 16 | m << 24
        );
        // Read-only: a write changes nothing.
        w(&mut g, cpu, ITARGETSR, 0);
        assert_eq!(r(&mut g, cpu, ITARGETSR) & 0xff, m);
    }
}

#[test]
fn sgir_reaches_the_listed_cpus_only() {
    let mut g = Vgic::new(4);
    linux_init(&mut g, 4);
    // SGI 3 to CPUs 1 and 2 (filter 0, list 0b0110), sent by CPU 0.
    w(&mut g, 0, SGIR, (0b0110 << 16) | 3);
    assert!(!has(g.deliverable(0), 3));
    assert!(has(g.deliverable(1), 3));
    assert!(has(g.deliverable(2), 3));
    assert!(!has(g.deliverable(3), 3));
    // Reported pending in the target's banked view only.
    assert_eq!(r(&mut g, 1, ISPENDR) & (1 << 3), 1 << 3);
    assert_eq!(r(&mut g, 0, ISPENDR) & (1 << 3), 0);
    assert_eq!(
        r(&mut g, 2, SPENDSGIR) & 0xff00_0000,
        1 << 24,
        "byte 3 = SGI 3"
    );
}

#[test]
fn sgir_filters_others_and_self() {
    let mut g = Vgic::new(3);
    linux_init(&mut g, 3);
    w(&mut g, 1, SGIR, (1 << 24) | 5); // all but the sender
    assert!(has(g.deliverable(0), 5) && has(g.deliverable(2), 5));
    assert!(!has(g.deliverable(1), 5));
    w(&mut g, 1, SGIR, (2 << 24) | 6); // the sender only
    assert!(has(g.deliverable(1), 6));
    assert!(!has(g.deliverable(0), 6) && !has(g.deliverable(2), 6));
    // Filter 3 is reserved: nothing happens. Targets past the last CPU
    // are ignored.
    w(&mut g, 0, SGIR, (3 << 24) | 7);
    w(&mut g, 0, SGIR, (0xf8 << 16) | 8);
    for cpu in 0..3 {
        assert!(!has(g.deliverable(cpu), 7) && !has(g.deliverable(cpu), 8));
    }
}

#[test]
fn cpendsgir_and_spendsgir_clear_and_set() {
    let mut g = Vgic::new(2);
    linux_init(&mut g, 2);
    w(&mut g, 0, SPENDSGIR, 0x0000_0100); // SGI 1, from "CPU 0"
    assert!(has(g.deliverable(0), 1));
    assert_eq!(r(&mut g, 0, CPENDSGIR) & 0xff00, 0x100);
    w(&mut g, 0, CPENDSGIR, 0x0000_ff00);
    assert!(!has(g.deliverable(0), 1));
    assert!(!has(g.deliverable(1), 1), "banked: CPU 1 never saw it");
}

#[test]
fn itargetsr_routes_an_spi_and_reads_back() {
    let mut g = Vgic::new(4);
    linux_init(&mut g, 4);
    // Linux's set_affinity writes one byte: SPI 40 to CPU 2.
    g.dist_v2_write(0, ITARGETSR + 40, Byte, 0b0100);
    assert_eq!(g.dist_v2_read(3, ITARGETSR + 40, Byte), 0b0100);
    w(&mut g, 0, ISENABLER + 4, 1 << (40 - 32));
    g.pulse(0, 40);
    assert!(has(g.deliverable(2), 40));
    assert!(!has(g.deliverable(0), 40));
    // A mask naming CPUs that do not exist keeps only the real ones.
    g.dist_v2_write(0, ITARGETSR + 41, Byte, 0xf0);
    assert_eq!(g.dist_v2_read(0, ITARGETSR + 41, Byte), 0);
}

#[test]
fn private_registers_are_banked_per_cpu() {
    let mut g = Vgic::new(2);
    w(&mut g, 0, ISENABLER, 1 << 27);
    assert_eq!(r(&mut g, 0, ISENABLER) & (1 << 27), 1 << 27);
    assert_eq!(r(&mut g, 1, ISENABLER) & (1 << 27), 0);
    w(&mut g, 1, IPRIORITYR + 24, 0x80 << 24);
    assert_eq!(r(&mut g, 1, IPRIORITYR + 24) >> 24, 0x80);
    assert_eq!(r(&mut g, 0, IPRIORITYR + 24) >> 24, 0);
    // PPI configuration (ICFGR1) is banked too; SGIs (ICFGR0) stay edge.
    w(&mut g, 0, ICFGR + 4, 0xffff_ffff);
    assert_eq!(r(&mut g, 0, ICFGR + 4), 0xaaaa_aaaa);
    assert_eq!(r(&mut g, 1, ICFGR + 4), 0);
    w(&mut g, 0, ICFGR, 0);
    assert_eq!(r(&mut g, 0, ICFGR), 0xaaaa_aaaa);
    // SPI registers are shared.
    w(&mut g, 0, IGROUPR + 4, 0xffff_ffff);
    assert_eq!(r(&mut g, 1, IGROUPR + 4), 0xffff_ffff);
}

#[test]
fn group0_interrupts_need_enablegrp0() {
    // A GICv2 guest leaves everything in group 0 (IGROUPR = 0) and turns
    // on GICD_CTLR bit 0 only.
    let mut g = Vgic::new(1);
    linux_init(&mut g, 1);
    w(&mut g, 0, SGIR, (2 << 24) | 1);
    assert!(has(g.deliverable(0), 1));
    w(&mut g, 0, CTLR, 0);
    assert!(!has(g.deliverable(0), 1));
    let e = {
        w(&mut g, 0, CTLR, 1);
        g.take_pending(0, 4)
    };
    assert_eq!(e.len(), 1);
    assert!(!e[0].group1, "listed as group 0, as the guest configured");
}

#[test]
fn bad_accesses_are_ignored_and_read_zero() {
    let mut g = Vgic::new(2);
    // Nonexistent vCPU, reserved offsets, wrong widths, past the frame.
    assert_eq!(g.dist_v2_read(5, TYPER, Word), 0);
    g.dist_v2_write(5, SGIR, Word, (2 << 24) | 1);
    assert_eq!(g.dist_v2_read(0, 0x010, Word), 0);
    assert_eq!(g.dist_v2_read(0, TYPER, AccessWidth::Half), 0);
    g.dist_v2_write(0, CTLR, Byte, 1);
    assert_eq!(r(&mut g, 0, CTLR), 0);
    g.dist_v2_write(0, SGIR, Byte, 0x01);
    assert_eq!(g.deliverable(0), 0);
    assert_eq!(g.dist_v2_read(0, 0x1_0000, Word), 0);
    g.dist_v2_write(0, u64::MAX, Word, u64::MAX);
    assert_eq!(g.dist_v2_read(0, u64::MAX - 3, Word), 0);
}

proptest::proptest! {
    /// Any sequence of accesses by any vCPU, at any offset and width,
    /// never panics, and nothing outside the implemented INTIDs ever
    /// becomes deliverable.
    #[test]
    fn random_accesses_never_panic(
        ops in proptest::collection::vec(
            (0usize..4, 0u64..0x1100, 0usize..4, proptest::prelude::any::<u64>(), proptest::prelude::any::<bool>()),
            0..200,
        )
    ) {
        let mut g = Vgic::new(3);
        let widths = [Byte, AccessWidth::Half, Word, AccessWidth::Double];
        for (vcpu, off, wi, value, write) in ops {
            if write {
                g.dist_v2_write(vcpu, off, widths[wi], value);
            } else {
                let _ = g.dist_v2_read(vcpu, off, widths[wi]);
            }
        }
        for v in 0..3 {
            proptest::prop_assert_eq!(g.deliverable(v) >> 96, 0);
        }
    }
}
