use clap::Parser;
use rollcall::cli::{self, Cli, Exit};
use std::process::ExitCode;

fn main() -> ExitCode {
    cli::init_logging();
    match cli::run(Cli::parse()) {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Refused) => ExitCode::from(1),
        Err(e) => {
            eprintln!("rollcall: {e:#}");
            ExitCode::from(2)
        }
    }
}
