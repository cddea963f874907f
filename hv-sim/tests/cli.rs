//! The `hv-sim` binary: exit statuses, messages and the instruction report.

use hv_core::machine;
use hv_core::translate::{asm, sysreg};
use hv_core::vm::loader;
use std::path::PathBuf;
use std::process::{Command, Output};

fn hv_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hv-sim"))
        .args(args)
        .output()
        .expect("hv-sim runs")
}

/// A raw guest image in a fresh temporary file.
fn guest_file(name: &str, words: &[u32]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hv-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    std::fs::write(&path, bytes).expect("write guest");
    path
}

fn psci(function: u64) -> Vec<u32> {
    let mut c = asm::mov64(0, function).to_vec();
    c.push(asm::hvc(0));
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn console_to_stdout_and_power_off_exits_zero_with_a_report() {
    let mut code = asm::mov64(1, machine::UART_BASE.raw()).to_vec();
    for b in b"hi\n" {
        code.push(asm::movz(false, 2, u32::from(*b), 0));
        code.push(asm::str_imm(false, 2, 1, 0));
    }
    code.extend(psci(0x8400_0008));
    let img = guest_file("hello.img", &code);
    let out = hv_sim(&["run", img.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n");
    let err = text(&out.stderr);
    assert!(err.contains("hv-sim: 15 instructions in "), "{err}");
    assert!(err.contains(" MIPS)"), "{err}");
}

/// Prints `text` on the console, then loops forever.
fn print_then_spin(text: &[u8]) -> Vec<u32> {
    let mut code = asm::mov64(1, machine::UART_BASE.raw()).to_vec();
    for b in text {
        code.push(asm::movz(false, 2, u32::from(*b), 0));
        code.push(asm::str_imm(false, 2, 1, 0));
    }
    code.push(asm::b(0));
    code
}

#[test]
fn stop_at_ends_a_run_that_printed_the_marker_and_stats_count_it() {
    let img = guest_file("marker.img", &print_then_spin(b"boot\nHV up\n"));
    let stats = img.with_extension("json");
    let out = hv_sim(&[
        "run",
        img.to_str().unwrap(),
        "--stop-at",
        "HV up",
        "--stats",
        stats.to_str().unwrap(),
        "--max-insns",
        "10000000",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("console printed the marker"), "{err}");
    assert_eq!(text(&out.stdout), "boot\nHV up\n");
    let json = std::fs::read_to_string(&stats).expect("stats written");
    // The marker's slice ends at the first budget (16384 instructions):
    // 4 to set up the UART address, 2 per byte, then the loop. The default
    // engine is the JIT where there is one.
    let engine = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        "jit"
    } else {
        "interp"
    };
    assert!(
        json.starts_with(&format!(
            "{{\"engine\": \"{engine}\", \"outcome\": \"marker\", \"exit_code\": 0, \
             \"guest_insns\": 16384, \"host_seconds\": "
        )),
        "{json}"
    );
    // The JIT's counters: the guest's blocks compiled and run, and the
    // instructions handed to the interpreter (here none: the guest is
    // integer code and MMIO stores, all compiled).
    let field = |name: &str| -> Option<u64> {
        let rest = json.split(&format!("\"{name}\": ")).nth(1)?;
        rest.split([',', '}']).next()?.trim().parse().ok()
    };
    if engine == "jit" {
        assert!(
            field("jit_blocks_compiled").is_some_and(|n| n > 0),
            "{json}"
        );
        assert!(field("jit_code_entries").is_some_and(|n| n > 0), "{json}");
        assert_eq!(field("jit_blocks_declined"), Some(0), "{json}");
        assert!(field("jit_blocks_invalidated").is_some(), "{json}");
        assert!(field("jit_links").is_some_and(|n| n > 0), "{json}");
        assert!(field("jit_interpreted_insns").is_some(), "{json}");
        assert!(json.trim_end().ends_with('}'), "{json}");
    } else {
        assert_eq!(field("jit_blocks_compiled"), None, "{json}");
    }
    // Without the marker in the output, the instruction limit ends it.
    let out = hv_sim(&[
        "run",
        img.to_str().unwrap(),
        "--stop-at",
        "HV down",
        "--stats",
        stats.to_str().unwrap(),
        "--max-insns",
        "100000",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let json = std::fs::read_to_string(&stats).expect("stats written");
    assert!(
        json.contains("\"outcome\": \"insn-limit\", \"exit_code\": 3, \"guest_insns\": 100000,"),
        "{json}"
    );
}

#[test]
fn system_reset_exits_two() {
    let img = guest_file("reset.img", &psci(0x8400_0009));
    let out = hv_sim(&["run", img.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("SYSTEM_RESET"));
}

#[test]
fn max_insns_exits_three_with_a_clear_message() {
    let img = guest_file("loop.img", &[asm::b(0)]);
    let out = hv_sim(&["run", img.to_str().unwrap(), "--max-insns", "1000"]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("instruction limit reached"), "{err}");
    assert!(err.contains("hv-sim: 1000 instructions in "), "{err}");
}

#[test]
fn bad_input_is_one_error_line_and_exit_one() {
    let img = guest_file("ok.img", &psci(0x8400_0008));
    let empty = guest_file("empty.img", &[]);
    let cases: [&[&str]; 4] = [
        &["run", "/nonexistent/guest.img"],
        &[
            "run",
            img.to_str().unwrap(),
            "--disk",
            "/nonexistent/disk.img",
        ],
        &["run", img.to_str().unwrap(), "--mem", "1M"],
        &["run", empty.to_str().unwrap()],
    ];
    for args in cases {
        let out = hv_sim(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("hv-sim: error: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn help_describes_every_option() {
    let out = hv_sim(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for opt in [
        "--disk",
        "--ro-disk",
        "--mem",
        "--engine",
        "--trace",
        "--max-insns",
        "--stop-at",
        "--stats",
    ] {
        assert!(help.contains(opt), "{opt} missing from:\n{help}");
    }
}

/// `udf #0` as the whole image: the UNDEF vectors to VBAR 0 + 0x200, outside
/// RAM, where every fetch aborts again. This hung hv-sim for ever.
#[test]
fn a_fault_loop_at_a_vector_outside_ram_stops_with_status_five() {
    let img = guest_file("udf.img", &[0x0000_0000]);
    let out = hv_sim(&["run", img.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("fault loop"), "{err}");
    assert!(err.contains("vector at 0x200"), "{err}");
    assert!(err.contains("ESR 0x86000"), "an instruction abort: {err}");
    assert!(err.contains("VBAR_EL1 0x0"), "{err}");
}

/// A handler whose first instruction is UNDEF: the fault recurs at the
/// current-EL synchronous vector inside RAM.
#[test]
fn a_handler_that_faults_at_once_is_a_fault_loop_too() {
    // VBAR = image + 0x800 (ADR: the image's load address is the
    // loader's business); vector +0x200 holds UDF; then raise UNDEF.
    let mut code = vec![asm::adr(1, 0x800)];
    code.push(asm::msr(sysreg::VBAR_EL1, 1));
    code.push(asm::ISB);
    code.push(0); // udf #0
    code.resize(0x800 / 4 + 0x200 / 4, asm::NOP);
    code.push(0); // udf #0 at VBAR + 0x200
    let img = guest_file("udf-handler.img", &code);
    let out = hv_sim(&["run", img.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    let load = machine::RAM_BASE.raw() + loader::DEFAULT_TEXT_OFFSET;
    assert!(
        err.contains(&format!("vector at {:#x}", load + 0xa00)),
        "{err}"
    );
    assert!(err.contains("ESR 0x2000000"), "UNDEF, IL=1: {err}");
}

/// A fault loop still ends at --max-insns when it is not caught as one:
/// exception entries count as instructions. Here the handler makes progress
/// (one NOP) before faulting, so it is an endless loop, not a fault loop.
#[test]
fn max_insns_ends_an_endless_exception_loop() {
    let mut code = vec![asm::adr(1, 0x800)];
    code.push(asm::msr(sysreg::VBAR_EL1, 1));
    code.push(asm::ISB);
    code.push(0); // udf #0
    code.resize(0x800 / 4 + 0x200 / 4, asm::NOP);
    code.push(asm::NOP);
    code.push(0); // udf #0 at VBAR + 0x204
    let img = guest_file("udf-nop.img", &code);
    let out = hv_sim(&["run", "--max-insns", "100000", img.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
}

#[test]
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn check_engine_runs_both_engines_and_reports_agreement() {
    let mut code = asm::mov64(1, machine::UART_BASE.raw()).to_vec();
    // A loop hot enough to be compiled, then the output: 4 + 4 + 2 x
    // 10,000 + 3 x 2 + 5 instructions.
    code.extend(asm::mov64(3, 10_000));
    code.push(asm::subs_imm(true, 3, 3, 1));
    code.push(asm::b_cond(asm::NE, -4));
    for b in b"hi\n" {
        code.push(asm::movz(false, 2, u32::from(*b), 0));
        code.push(asm::str_imm(false, 2, 1, 0));
    }
    code.extend(psci(0x8400_0008));
    let img = guest_file("check.img", &code);
    let out = hv_sim(&["run", "--engine", "check", img.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(text(&out.stdout), "hi\n");
    assert!(
        err.contains("the interpreter and the JIT agree: 20019 instructions"),
        "{err}"
    );
}
