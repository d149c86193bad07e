//! The `aad` binary (see the `aad_cli` library for the subcommands).
fn main() -> std::process::ExitCode {
    aad_cli::main()
}
