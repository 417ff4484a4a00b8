//! The `meshgate` binary: installs the crypto provider, parses the command line and hands over
//! to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One crypto library (ring) for every TLS configuration in the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    meshgate::cli::run(meshgate::cli::Cli::parse())
}
