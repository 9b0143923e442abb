//! The `vigil` command: logging set up, then the app layer's command line.

use clap::Parser;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = vigil::app::cli::Cli::parse();
    if let Err(e) = vigil::app::cli::execute(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
