//! The workloads of the performance gate (`cargo xtask perf`): each runs one
//! core operation a fixed number of times inside a `measure_*` function,
//! which `valgrind --tool=callgrind --toggle-collect=...` counts alone
//! (set-up, checks and tear-down run outside it and are not counted).
//!
//! ```text
//! perf_drivers WORKLOAD ITERATIONS
//! perf_drivers --list
//! ```
//!
//! Every `measure_*` function is `#[inline(never)]` and keeps its name: the
//! gate finds it by that name. Results are checked after the measured loop,
//! so a workload that takes an error path fails loudly instead of being
//! measured. Everything here is deterministic (no clocks, no hashing with
//! random seeds, no threads), so callgrind counts the same instructions on
//! every run of the same binary.

use hv_core::frame::{
    BitmapFrameAllocator, FrameAllocator, FrameSize, MemoryRange, NodeId, NumaPolicy,
};
use hv_core::mem::{GuestMemory, GuestRam};
use hv_core::mmio::{AccessWidth, MmioDevice};
use hv_core::paging::aarch64::Stage2;
use hv_core::paging::{Asid, Attrs, FramePool, PageTable, Vmid};
use hv_core::tlb::{MicroTlb, Replacement, SetAssocTlb, Tlb, TlbEntry, TlbKey, TwoLevelTlb};
use hv_core::translate::asm::*;
use hv_core::translate::ir::Block;
use hv_core::{GuestAddress, PhysAddr};
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::Arc;
use virtio::blk::{
    BlockBackend, BlockConfig, MemoryBackend, VirtioBlock, VIRTIO_BLK_S_OK, VIRTIO_BLK_T_IN,
    VIRTIO_BLK_T_OUT,
};
use virtio::mmio::{MmioTransport, QUEUE_NOTIFY};
use virtio::testing::{mmio_init, write_blk_header, Buf, DriverQueue, RAM_BASE};

/// A workload: runs its measured loop `n` times, then checks the results.
type Workload = fn(u64) -> Result<(), String>;

/// The workloads: command-line name and what runs it.
const WORKLOADS: &[(&str, Workload)] = &[
    ("mem-read", mem_read),
    ("mem-write", mem_write),
    ("bulk-read-4k", bulk_read),
    ("bulk-write-4k", bulk_write),
    ("tlb-hit", tlb_hit),
    ("tlb-miss-walk", tlb_miss_walk),
    ("frame-single", frame_single),
    ("frame-batch-100", frame_batch),
    ("blk-read-4k", blk_read),
    ("blk-write-4k", blk_write),
    ("decode-ir-64", decode_ir),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [list] if list == "--list" => {
            for (name, _) in WORKLOADS {
                println!("{name}");
            }
            Ok(())
        }
        [name, n] => match (WORKLOADS.iter().find(|(w, _)| w == name), n.parse()) {
            (Some((_, run)), Ok(n)) if n > 0 => run(n),
            (None, _) => Err(format!("unknown workload `{name}` (see --list)")),
            _ => Err(format!("`{n}` is not an iteration count")),
        },
        _ => Err("usage: perf_drivers WORKLOAD ITERATIONS | --list".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf_drivers: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---- guest memory -------------------------------------------------------

const RAM: u64 = 0x4000_0000;

fn ram(size: u64) -> Result<GuestRam, String> {
    GuestRam::with_size(GuestAddress(RAM), size).map_err(|e| format!("guest RAM: {e:?}"))
}

/// Not 8-byte aligned, so the unaligned path is what gets measured (as in
/// the `memory` Criterion bench).
const TYPED_AT: GuestAddress = GuestAddress(RAM + 0x1_2345);

#[inline(never)]
fn measure_mem_read(ram: &GuestRam, n: u64) -> u64 {
    let mut acc = 0;
    for _ in 0..n {
        acc ^= ram.read_u64(black_box(TYPED_AT)).unwrap_or(u64::MAX);
    }
    acc
}

fn mem_read(n: u64) -> Result<(), String> {
    let ram = ram(1 << 20)?;
    ram.write_u64(TYPED_AT, 0x0123_4567_89ab_cdef)
        .map_err(|e| format!("{e:?}"))?;
    let acc = measure_mem_read(&ram, n);
    let want = if n % 2 == 1 { 0x0123_4567_89ab_cdef } else { 0 };
    check(acc == want, "guest reads return what was written")
}

#[inline(never)]
fn measure_mem_write(ram: &GuestRam, n: u64) -> u64 {
    let mut failed = 0;
    for i in 0..n {
        failed += u64::from(ram.write_u64(black_box(TYPED_AT), i).is_err());
    }
    failed
}

fn mem_write(n: u64) -> Result<(), String> {
    let ram = ram(1 << 20)?;
    let failed = measure_mem_write(&ram, n);
    check(failed == 0, "guest writes succeed")?;
    check(
        ram.read_u64(TYPED_AT) == Ok(n - 1),
        "the last write is kept",
    )
}

/// A page-aligned host buffer (guest RAM is page-aligned too), so the copy
/// is the same whatever malloc returns.
struct HostPage {
    buf: Vec<u8>,
    off: usize,
}

impl HostPage {
    const LEN: usize = 4096;

    fn new(fill: u8) -> Self {
        let buf = vec![fill; 2 * Self::LEN];
        let off = buf.as_ptr().align_offset(Self::LEN).min(Self::LEN);
        HostPage { buf, off }
    }
    fn get(&self) -> &[u8] {
        &self.buf[self.off..self.off + Self::LEN]
    }
    fn get_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.off..self.off + Self::LEN]
    }
}

const BULK_AT: GuestAddress = GuestAddress(RAM + 0x4_0000);

#[inline(never)]
fn measure_bulk_read(ram: &GuestRam, host: &mut [u8], n: u64) -> u64 {
    let mut failed = 0;
    for _ in 0..n {
        failed += u64::from(ram.read(black_box(BULK_AT), black_box(&mut *host)).is_err());
    }
    failed
}

fn bulk_read(n: u64) -> Result<(), String> {
    let ram = ram(1 << 20)?;
    ram.write(BULK_AT, HostPage::new(0xa5).get())
        .map_err(|e| format!("{e:?}"))?;
    let mut host = HostPage::new(0);
    let failed = measure_bulk_read(&ram, host.get_mut(), n);
    check(failed == 0, "bulk reads succeed")?;
    check(host.get().iter().all(|&b| b == 0xa5), "bulk reads copy")
}

#[inline(never)]
fn measure_bulk_write(ram: &GuestRam, host: &[u8], n: u64) -> u64 {
    let mut failed = 0;
    for _ in 0..n {
        failed += u64::from(ram.write(black_box(BULK_AT), black_box(host)).is_err());
    }
    failed
}

fn bulk_write(n: u64) -> Result<(), String> {
    let ram = ram(1 << 20)?;
    let host = HostPage::new(0x3c);
    let failed = measure_bulk_write(&ram, host.get(), n);
    check(failed == 0, "bulk writes succeed")?;
    let mut back = HostPage::new(0);
    ram.read(BULK_AT, back.get_mut())
        .map_err(|e| format!("{e:?}"))?;
    check(back.get() == host.get(), "bulk writes copy")
}

// ---- TLB and page walk --------------------------------------------------

type Table = PageTable<Stage2, FramePool<GuestRam, BitmapFrameAllocator>>;
/// The vCPU TLB of hv-sim and the `tlb` bench: a 64-entry direct-mapped
/// micro-TLB in front of a 1024-entry 4-way LRU L2.
type VcpuTlb = TwoLevelTlb<MicroTlb<64>, SetAssocTlb>;

const PAGE: u64 = 4096;
const IPA: u64 = 0x4000_0000;
/// Pages the miss workload cycles through: 8x what both TLB levels hold,
/// so every lookup misses and walks.
const MISS_PAGES: u64 = 8192;

/// A 3-level stage-2 table mapping `MISS_PAGES` 4 KiB pages (output
/// misaligned for blocks, so every walk goes down to the last level).
fn table() -> Result<Table, String> {
    const POOL: u64 = 0x8000_0000;
    const POOL_SIZE: u64 = 1 << 20;
    let mem = GuestRam::with_size(GuestAddress(POOL), POOL_SIZE).map_err(|e| format!("{e:?}"))?;
    let alloc = BitmapFrameAllocator::new(
        &[MemoryRange {
            base: PhysAddr(POOL),
            size_bytes: POOL_SIZE,
            node: NodeId(0),
        }],
        NumaPolicy::Local,
    )
    .map_err(|e| format!("{e:?}"))?;
    let mut pt = PageTable::new(3, FramePool { mem, alloc }).map_err(|e| format!("{e:?}"))?;
    pt.map(
        GuestAddress(IPA),
        PhysAddr(0x1_0000_1000),
        MISS_PAGES * PAGE,
        Attrs::RW,
    )
    .map_err(|e| format!("{e:?}"))?;
    Ok(pt)
}

fn vcpu_tlb() -> Result<VcpuTlb, String> {
    let l2 = SetAssocTlb::new(256, 4, Replacement::Lru).map_err(|e| format!("{e:?}"))?;
    Ok(TwoLevelTlb::new(MicroTlb::new(), l2))
}

#[inline(always)]
fn key(va: u64) -> TlbKey {
    TlbKey {
        vmid: Vmid(1),
        asid: Asid(1),
        va,
    }
}

/// What a soft MMU does: look up; on a miss walk the table and refill.
#[inline(always)]
fn translate(tlb: &mut VcpuTlb, pt: &Table, va: u64) -> Option<u64> {
    if let Some(hit) = tlb.lookup(key(va)) {
        return Some(hit.pa);
    }
    let tr = pt.translate(GuestAddress(va)).ok()?;
    tlb.insert(TlbEntry {
        vmid: Vmid(1),
        asid: Asid(1),
        va: tr.leaf.ia_base,
        pa: tr.leaf.oa_base,
        size: tr.leaf.size,
        attrs: tr.leaf.attrs,
    });
    Some(tr.oa.raw())
}

const HIT_VA: u64 = IPA + 42 * PAGE + 8;

#[inline(never)]
fn measure_tlb_hit(tlb: &mut VcpuTlb, n: u64) -> u64 {
    let mut acc = 0;
    for _ in 0..n {
        acc ^= tlb.lookup(key(black_box(HIT_VA))).map_or(1, |h| h.pa);
    }
    acc
}

fn tlb_hit(n: u64) -> Result<(), String> {
    let pt = table()?;
    let mut tlb = vcpu_tlb()?;
    let pa = translate(&mut tlb, &pt, HIT_VA).ok_or("the hit address is mapped")?;
    tlb.reset_stats();
    let acc = measure_tlb_hit(&mut tlb, n);
    check(acc == if n % 2 == 1 { pa } else { 0 }, "hits translate")?;
    check(tlb.stats().hits == n, "every lookup hits")
}

#[inline(never)]
fn measure_tlb_miss_walk(tlb: &mut VcpuTlb, pt: &Table, n: u64) -> u64 {
    let mut failed = 0;
    let mut page = 0;
    for _ in 0..n {
        failed += u64::from(translate(tlb, pt, black_box(IPA + page * PAGE)).is_none());
        page = (page + 1) % MISS_PAGES;
    }
    failed
}

fn tlb_miss_walk(n: u64) -> Result<(), String> {
    let pt = table()?;
    let mut tlb = vcpu_tlb()?;
    let failed = measure_tlb_miss_walk(&mut tlb, &pt, n);
    check(failed == 0, "every page is mapped")?;
    check(tlb.stats().hits == 0, "no lookup hits")
}

// ---- frame allocation ---------------------------------------------------

/// 1 GiB of 4 KiB frames: room for every allocation below without a free.
fn allocator() -> Result<BitmapFrameAllocator, String> {
    BitmapFrameAllocator::new(
        &[MemoryRange {
            base: PhysAddr(0x1_0000_0000),
            size_bytes: 1 << 30,
            node: NodeId(0),
        }],
        NumaPolicy::Local,
    )
    .map_err(|e| format!("{e:?}"))
}

/// `rounds` times `per_round` allocations into `held` (its capacity is
/// reserved beforehand, so pushing never reallocates).
#[inline(always)]
fn allocate(a: &mut BitmapFrameAllocator, held: &mut Vec<u64>, rounds: u64, per_round: u64) {
    for _ in 0..rounds {
        for _ in 0..per_round {
            held.push(a.alloc(FrameSize::Size4K).map_or(0, |f| f.0));
        }
    }
}

#[inline(never)]
fn measure_frame_single(a: &mut BitmapFrameAllocator, held: &mut Vec<u64>, n: u64) {
    allocate(a, held, n, 1);
}

#[inline(never)]
fn measure_frame_batch(a: &mut BitmapFrameAllocator, held: &mut Vec<u64>, n: u64) {
    allocate(a, held, n, 100);
}

fn frames(n: u64, per_round: u64) -> Result<(), String> {
    let mut a = allocator()?;
    let total = n * per_round;
    check(
        total <= a.free_frames(),
        "the allocator holds enough frames",
    )?;
    let mut held = Vec::with_capacity(usize::try_from(total).map_err(|e| e.to_string())?);
    if per_round == 1 {
        measure_frame_single(&mut a, &mut held, n);
    } else {
        measure_frame_batch(&mut a, &mut held, n);
    }
    check(held.iter().all(|&f| f != 0), "every allocation succeeds")?;
    held.sort_unstable();
    held.dedup();
    check(held.len() as u64 == total, "no frame is handed out twice")
}

fn frame_single(n: u64) -> Result<(), String> {
    frames(n, 1)
}

fn frame_batch(n: u64) -> Result<(), String> {
    frames(n, 100)
}

// ---- a 4 KiB virtio-blk request through the whole queue path ------------

const BLK_RAM: u64 = 2 << 20;
const DISK: u64 = 1 << 20;
const HEADER: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_0000);
const STATUS: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_1000);
const DATA: GuestAddress = GuestAddress(RAM_BASE.0 + 0x10_0000);
/// 4 KiB = 8 sectors, at a sector that is not the disk's first.
const SECTOR: u64 = 64;

type Dev = MmioTransport<VirtioBlock<MemoryBackend>, Arc<GuestRam>>;

/// A guest driver with one prepared `header + 4 KiB + status` chain that
/// every request re-publishes.
struct BlkGuest {
    mem: Arc<GuestRam>,
    dev: Dev,
    q: DriverQueue,
    head: u16,
}

impl BlkGuest {
    fn new(ty: u32, data: Buf) -> Result<Self, String> {
        let mut disk = MemoryBackend::new(DISK);
        // Every byte of the disk written, so reads copy data, not zeroes.
        let fill: Vec<u8> = (0..DISK).map(|i| (i % 251) as u8).collect();
        disk.write_at(0, &fill).map_err(|e| format!("{e:?}"))?;
        let mem = Arc::new(GuestRam::with_size(RAM_BASE, BLK_RAM).map_err(|e| format!("{e:?}"))?);
        let blk = VirtioBlock::new(disk, BlockConfig::default()).map_err(|e| format!("{e:?}"))?;
        let mut dev = MmioTransport::new(blk, Arc::clone(&mem));
        let mut q = DriverQueue::new(&*mem, RAM_BASE, 256);
        mmio_init(&mut dev, u64::MAX, std::slice::from_ref(&q)).map_err(|e| format!("{e:?}"))?;
        write_blk_header(&*mem, HEADER, ty, SECTOR);
        let head = q.write_chain(&*mem, &[Buf::r(HEADER, 16), data, Buf::w(STATUS, 1)]);
        Ok(BlkGuest { mem, dev, q, head })
    }

    /// One request: publish, notify (the device serves it), reap.
    #[inline(always)]
    fn request(&mut self) -> u32 {
        self.q.publish(&*self.mem, self.head);
        self.dev.write(QUEUE_NOTIFY, AccessWidth::Word, 0);
        self.q.pop_used(&*self.mem).map_or(0, |(_, len)| len)
    }

    fn status(&self) -> u8 {
        self.mem.read_u8(STATUS).unwrap_or(0xff)
    }
}

/// Runs `n` requests; returns how many completed with `used` bytes.
#[inline(never)]
fn measure_blk_request(g: &mut BlkGuest, used: u32, n: u64) -> u64 {
    let mut ok = 0;
    for _ in 0..n {
        ok += u64::from(g.request() == used);
    }
    ok
}

fn blk(n: u64, write: bool) -> Result<(), String> {
    let (ty, data, used) = if write {
        (VIRTIO_BLK_T_OUT, Buf::r(DATA, 4096), 1)
    } else {
        (VIRTIO_BLK_T_IN, Buf::w(DATA, 4096), 4097)
    };
    let mut g = BlkGuest::new(ty, data)?;
    let ok = measure_blk_request(&mut g, used, n);
    check(ok == n, "every request completes")?;
    check(g.status() == VIRTIO_BLK_S_OK, "requests succeed")?;
    if !write {
        let mut got = vec![0u8; 4096];
        g.mem.read(DATA, &mut got).map_err(|e| format!("{e:?}"))?;
        let off = SECTOR * 512;
        let want = (off..off + 4096).map(|i| (i % 251) as u8);
        check(got.iter().copied().eq(want), "reads return the disk's data")?;
    }
    Ok(())
}

fn blk_read(n: u64) -> Result<(), String> {
    blk(n, false)
}

fn blk_write(n: u64) -> Result<(), String> {
    blk(n, true)
}

// ---- decode + IR of a block ---------------------------------------------

/// Instructions in the translated block.
const BLOCK_LEN: usize = 64;

/// Straight-line code of the kind compilers emit (no block-ending
/// instruction): arithmetic, logic, moves, loads and stores, compares.
fn block_words() -> Vec<u32> {
    let mix = [
        movz(true, 1, 0x40, 1),
        add_imm(true, 2, 1, 24),
        ldr_imm(true, 3, 2, 16),
        subs_imm(true, 4, 3, 1),
        csel(true, 0, 0, 3, NE, 4, 5),
        logic_reg(true, 0, false, 0, 5, 0, 3, 6),
        str_imm(true, 6, 2, 8),
        ldst_pair(2, false, 2, true, 2, 4, 2, 5),
        bitfield(true, 2, 3, 15, 6, 7),
        dp3(true, 0, 0, 7, 31, 4, 8),
        addsub_reg(true, 1, true, 0, 8, 0, 7, 31),
        ccmp(true, 1, true, 2, EQ, 8, 4),
        logic_imm(true, 0, true, 0, 15, 8, 9),
        adrp(10, 1),
        movk(true, 10, 0xbeef, 0),
        ldst_reg(3, false, 1, 10, 3, true, 0, 11),
    ];
    mix.iter().copied().cycle().take(BLOCK_LEN).collect()
}

#[inline(never)]
fn measure_decode_ir(words: &[u32], n: u64) -> usize {
    let mut total = 0;
    for _ in 0..n {
        total += Block::from_words(RAM, black_box(words), BLOCK_LEN).len();
    }
    total
}

fn decode_ir(n: u64) -> Result<(), String> {
    let words = block_words();
    let total = measure_decode_ir(&words, n);
    check(
        total as u64 == n * BLOCK_LEN as u64,
        "blocks hold every word",
    )
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}
