//! hv's benchmark guest: one compute workload per run, chosen by the
//! command line (`bench=sieve|crc32|sha256|matmul|qsort|mandel|printf`), run
//! `reps=N` times in a row (default 1), each run printing its result.
//! `size=small` runs a smaller instance of it (a few million
//! instructions), so `cargo xtask perf` can run each under callgrind in
//! seconds; sizes are const generic parameters. The same image runs on
//! plain QEMU and on hv-sim; the printed results must match, and the runs'
//! times give the simulator's speed relative to QEMU. `reps=0` boots, reads
//! the command line and powers off without running anything: the machine's
//! start-up and shut-down, measured on its own so it can be told apart
//! from the workload's time.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("guest-bench is an AArch64 guest image; `cargo xtask test` builds and boots it");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
mod guest {
    use core::cell::UnsafeCell;
    use guest_default::println;
    use guest_default::rt::psci;

    /// Working memory for the workloads (BSS), as bytes and as words. One
    /// CPU runs one workload at a time, which takes one of them and gives it
    /// back (drops the reference) when it returns.
    const ARENA: usize = 2 << 20;
    #[repr(C, align(4096))]
    struct Arena<T>(UnsafeCell<T>);
    // SAFETY: the guest is single-threaded and the workloads run one after
    // another, so at most one reference to an arena is alive at a time.
    unsafe impl<T> Sync for Arena<T> {}
    static BYTES: Arena<[u8; ARENA]> = Arena(UnsafeCell::new([0; ARENA]));
    static WORDS: Arena<[u32; ARENA / 4]> = Arena(UnsafeCell::new([0; ARENA / 4]));

    /// The byte arena; the caller must drop the reference before the next
    /// call (each workload calls it once and returns).
    fn bytes() -> &'static mut [u8; ARENA] {
        // SAFETY: see Arena: one CPU, one workload at a time, one call each.
        unsafe { &mut *BYTES.0.get() }
    }

    /// The word arena; same rule as [`bytes`].
    fn words() -> &'static mut [u32; ARENA / 4] {
        // SAFETY: see Arena: one CPU, one workload at a time, one call each.
        unsafe { &mut *WORDS.0.get() }
    }

    /// A small deterministic generator (xorshift32).
    struct Rng(u32);
    impl Rng {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0
        }
    }

    fn sieve<const N: usize>() {
        let composite = &mut bytes()[..N];
        // Zero again: an earlier repetition left its marks.
        composite.fill(0);
        let mut count = 0;
        for i in 2..N {
            if composite[i] == 0 {
                count += 1;
                let mut j = i * i;
                while j < N {
                    composite[j] = 1;
                    j += i;
                }
            }
        }
        println!("bench sieve: {count} primes below {N}");
    }

    fn crc32<const LEN: usize>() {
        let data = &mut bytes()[..LEN];
        let mut rng = Rng(0x1234_5678);
        for b in data.iter_mut() {
            *b = rng.next() as u8;
        }
        let mut crc = !0u32;
        for &b in data.iter() {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
            }
        }
        println!("bench crc32: {:08x} over {} bytes", !crc, data.len());
    }

    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    fn sha256_block(h: &mut [u32; 8], block: &[u8]) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate().take(16) {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = *h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }

    /// SHA-256 of `data` (length a multiple of 64 plus one padding block).
    fn sha256(data: &[u8]) -> [u32; 8] {
        let mut h = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        let full = data.len() / 64 * 64;
        for block in data[..full].chunks_exact(64) {
            sha256_block(&mut h, block);
        }
        let rest = &data[full..];
        let mut tail = [0u8; 128];
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()] = 0x80;
        let tail_len = if rest.len() < 56 { 64 } else { 128 };
        let bits = (data.len() as u64) * 8;
        tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
        for block in tail[..tail_len].chunks_exact(64) {
            sha256_block(&mut h, block);
        }
        h
    }

    fn sha256_bench<const LEN: usize>() {
        // The known answer first: SHA-256("abc").
        let abc = sha256(b"abc");
        let ok = abc[0] == 0xba7816bf && abc[7] == 0xf20015ad;
        let data = &mut bytes()[..LEN];
        let mut rng = Rng(0xdead_beef);
        for b in data.iter_mut() {
            *b = rng.next() as u8;
        }
        let h = sha256(data);
        println!(
            "bench sha256: {:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x} over {} bytes (abc {})",
            h[0],
            h[1],
            h[2],
            h[3],
            h[4],
            h[5],
            h[6],
            h[7],
            data.len(),
            if ok { "ok" } else { "WRONG" }
        );
    }

    fn matmul<const N: usize>() {
        let mem = words();
        let (a, rest) = mem.split_at_mut(N * N);
        let (b, rest) = rest.split_at_mut(N * N);
        let c = &mut rest[..N * N];
        let mut rng = Rng(42);
        for (x, y) in a.iter_mut().zip(b.iter_mut()) {
            *x = rng.next() % 1000;
            *y = rng.next() % 1000;
        }
        for i in 0..N {
            for j in 0..N {
                let mut sum = 0u32;
                for k in 0..N {
                    sum = sum.wrapping_add(a[i * N + k].wrapping_mul(b[k * N + j]));
                }
                c[i * N + j] = sum;
            }
        }
        let digest = c.iter().fold(0u32, |d, &x| d.rotate_left(5) ^ x);
        println!("bench matmul: {N}x{N} digest {digest:08x}");
    }

    fn qsort(v: &mut [u32]) {
        // Iterative on the larger half, recursive on the smaller: bounded stack.
        let mut v = v;
        while v.len() > 16 {
            let pivot = v[v.len() / 2];
            let (mut i, mut j) = (0, v.len() - 1);
            loop {
                while v[i] < pivot {
                    i += 1;
                }
                while v[j] > pivot {
                    j -= 1;
                }
                if i >= j {
                    break;
                }
                v.swap(i, j);
                i += 1;
                j -= 1;
            }
            let (left, right) = v.split_at_mut(j + 1);
            if left.len() < right.len() {
                qsort(left);
                v = right;
            } else {
                qsort(right);
                v = left;
            }
        }
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && v[j - 1] > v[j] {
                v.swap(j - 1, j);
                j -= 1;
            }
        }
    }

    fn qsort_bench<const N: usize>() {
        let v = &mut words()[..N];
        let mut rng = Rng(7);
        for x in v.iter_mut() {
            *x = rng.next();
        }
        qsort(v);
        let sorted = v.windows(2).all(|w| w[0] <= w[1]);
        let digest = v
            .iter()
            .fold(0u32, |d, &x| d.wrapping_mul(31).wrapping_add(x));
        println!("bench qsort: {N} values, sorted {sorted}, digest {digest:08x}");
    }

    /// Floating point: the Mandelbrot set on an N x N grid over
    /// [-2, 1] x [-1.5, 1.5], at most 256 iterations a point (f64 multiply,
    /// add, subtract and compare; no fused multiply-add, so every IEEE
    /// machine gets the same counts).
    fn mandel<const N: usize>() {
        let mut total = 0u64;
        let mut digest = 0u32;
        for py in 0..N {
            let y0 = -1.5 + 3.0 * (py as f64) / (N as f64);
            for px in 0..N {
                let x0 = -2.0 + 3.0 * (px as f64) / (N as f64);
                let (mut x, mut y, mut i) = (0.0f64, 0.0f64, 0u32);
                while i < 256 && x * x + y * y <= 4.0 {
                    let xt = x * x - y * y + x0;
                    y = 2.0 * x * y + y0;
                    x = xt;
                    i += 1;
                }
                total += u64::from(i);
                digest = digest.rotate_left(5) ^ i;
            }
        }
        println!("bench mandel: {N}x{N} iterations {total} digest {digest:08x}");
    }

    fn printf_bench<const LINES: u32>() {
        let mut rng = Rng(99);
        let mut sum = 0u64;
        for i in 0..LINES {
            let x = rng.next();
            sum = sum.wrapping_add(u64::from(x));
            println!(
                "line {i:5}: {x:#010x} {:>11} {:<6}|{:+}",
                x / 7,
                i % 97,
                i as i32 - 1500
            );
        }
        println!("bench printf: {LINES} lines, sum {sum}");
    }

    /// Run the workload named by `bench=` in the DTB's /chosen/bootargs
    /// (the small instance with `size=small`), `reps=` times (default 1);
    /// false if there is none, it is unknown or `reps` is not a number.
    fn run_workload(dtb: usize) -> bool {
        // SAFETY: x0 holds the DTB the loader left in RAM (boot protocol);
        // `from_ptr` validates its header before reading more.
        let Ok(fdt) = (unsafe { fdt::Fdt::from_ptr(dtb as *const u8) }) else {
            println!("guest-bench: no valid DTB in x0");
            return false;
        };
        let args = fdt.chosen().bootargs().unwrap_or("");
        let arg = |key: &str| args.split_whitespace().find_map(|a| a.strip_prefix(key));
        let name = arg("bench=").unwrap_or("");
        let small = args.split_whitespace().any(|a| a == "size=small");
        let Ok(reps) = arg("reps=").unwrap_or("1").parse::<u32>() else {
            println!("guest-bench: reps= takes a number");
            return false;
        };
        let workload: fn() = match (name, small) {
            ("sieve", false) => sieve::<2_000_000>,
            ("sieve", true) => sieve::<200_000>,
            ("crc32", false) => crc32::<{ 1 << 20 }>,
            ("crc32", true) => crc32::<{ 64 << 10 }>,
            ("sha256", false) => sha256_bench::<{ 1 << 20 }>,
            ("sha256", true) => sha256_bench::<{ 64 << 10 }>,
            ("matmul", false) => matmul::<160>,
            ("matmul", true) => matmul::<64>,
            ("qsort", false) => qsort_bench::<200_000>,
            ("qsort", true) => qsort_bench::<20_000>,
            ("mandel", false) => mandel::<240>,
            ("mandel", true) => mandel::<64>,
            ("printf", false) => printf_bench::<3000>,
            ("printf", true) => printf_bench::<300>,
            _ => {
                println!("guest-bench: unknown workload {name:?} (bench=sieve|crc32|sha256|matmul|qsort|mandel|printf)");
                return false;
            }
        };
        for _ in 0..reps {
            workload();
        }
        println!("bench {name}: {reps} reps");
        true
    }

    #[no_mangle]
    extern "C" fn guest_main(dtb: usize) -> ! {
        if !run_workload(dtb) {
            println!("FAIL");
            psci::system_reset()
        }
        println!("PASS");
        psci::system_off()
    }
}
