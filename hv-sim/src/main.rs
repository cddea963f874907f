//! `hv-sim` command line; see `hv-sim --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    hv_sim::cli::main()
}
