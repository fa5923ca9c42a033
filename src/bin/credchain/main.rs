//! The `credchain` command: explains which source wins and why, prints
//! credentials for other tools, signs database auth tokens, and demonstrates
//! the refresher.

mod args;
mod get;
mod output;

use args::Args;

const USAGE: &str = "usage: credchain <command> [options]

commands:
  get [--profile P] [--format process|env|json]   print the credentials the chain resolves
  version                                         print the library version
";

fn main() {
    let mut argv = std::env::args().skip(1);
    let command = argv.next();
    let args = Args::new(argv.collect());
    let outcome = match command.as_deref() {
        Some("get") => get::run(args),
        Some("version") => {
            println!("credchain {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Some("help") | Some("--help") | Some("-h") => {
            print!("{USAGE}");
            Ok(0)
        }
        Some(other) => Err(format!("unknown command: {other}")),
        None => Err("no command given".to_owned()),
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(problem) => {
            eprintln!("credchain: {problem}\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}
