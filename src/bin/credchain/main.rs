//! The `credchain` command: explains which source wins and why, prints
//! credentials for other tools, signs database auth tokens, and demonstrates
//! the refresher.

mod args;
mod demo;
mod doctor;
mod get;
mod output;
mod serve;
mod token;

use args::Args;

const USAGE: &str = "usage: credchain <command> [options]

commands:
  doctor [--profile P] [--json]                   explain which source wins, why, and every pitfall found
                                                  (exit 0: credentials resolve, no error-level pitfall; 1 otherwise;
                                                  JSON schema: docs/doctor-json.md)
  demo [--seconds N]                              watch the refresher rotate short-lived fake credentials
                                                  (offline, throw-away HOME; default 35 s)
  get [--profile P] [--format process|env|json]   print the credentials the chain resolves
  token rds --hostname H --port N --username U [--region R] [--profile P] [--signing-time T]
  token dsql --hostname H [--admin] [--region R] [--profile P] [--signing-time T]
                                                  print an IAM database auth token (as the aws CLI does)
  serve [--profile P]... [--listen 127.0.0.1:PORT] [--token-file PATH] [--log-level L]
        [--max-connections N] [--print-env | --exec -- COMMAND ARGS...]
                                                  serve credentials on the container-credentials protocol
                                                  (AWS_CONTAINER_CREDENTIALS_FULL_URI) to other processes
  version                                         print the library version
";

fn main() {
    let mut argv = std::env::args().skip(1);
    let command = argv.next();
    let args = Args::new(argv.collect());
    let outcome = match command.as_deref() {
        Some("get") => get::run(args),
        Some("doctor") => doctor::run(args),
        Some("demo") => demo::run(args),
        Some("token") => token::run(args),
        Some("serve") => serve::run(args),
        // The demo's fake upstream (its credential_process); not for users.
        Some("__mint-fake") => demo::mint_fake(args),
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
