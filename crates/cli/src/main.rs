//! The `aad` binary (see the `aad_cli` library for the subcommands).
fn main() -> std::process::ExitCode {
    // A reader that stops early (`aad explain ... | head`) ends the command quietly, as it
    // ends `cat`. Rust ignores SIGPIPE, so every print to the closed pipe would fail and
    // `println!` would panic.
    sigpipe::reset();
    aad_cli::main()
}
