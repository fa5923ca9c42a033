//! The `credchain` command: explains which source wins and why, prints
//! credentials for other tools, signs database auth tokens, serves
//! credentials to other processes, and demonstrates the refresher.
//!
//! Every command takes `--help` / `-h` and `--version` / `-V`;
//! `credchain help COMMAND` prints the same help as `credchain COMMAND
//! --help` (the texts are in `help.rs`). Exit status: 0 success, 1 the
//! command ran and failed, 2 a usage error (a short message and a `try:`
//! line on standard error); `serve --exec` exits with its command's status.

mod args;
mod demo;
mod doctor;
mod get;
mod help;
mod output;
mod serve;
mod server;
mod token;

use args::{Args, Request};

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(run(argv));
}

/// Runs the command line; returns the exit status.
fn run(argv: Vec<String>) -> i32 {
    let Some((command, rest)) = argv.split_first() else {
        eprint!("credchain: no command given\n\n{}", help::GLOBAL);
        return 2;
    };
    let rest = rest.to_vec();
    match command.as_str() {
        "help" | "--help" | "-h" => return help_command(rest),
        "version" | "--version" | "-V" => return version_command(rest),
        // The demo's fake upstream (its credential_process); not for users,
        // so it has no help.
        "__mint-fake" => return finish("__mint-fake", demo::mint_fake(Args::new(rest))),
        _ => {}
    }
    let topic = match command.as_str() {
        "token" => match rest.first().map(String::as_str) {
            Some(kind @ ("rds" | "dsql")) => format!("token {kind}"),
            _ => "token".to_owned(),
        },
        known @ ("doctor" | "get" | "demo" | "serve") => known.to_owned(),
        other => return unknown_command(other),
    };
    match args::request(&rest) {
        Some(Request::Help) => return print_page(&topic),
        Some(Request::Version) => return print_version(),
        None => {}
    }
    let args = Args::new(rest);
    let outcome = match command.as_str() {
        "doctor" => doctor::run(args),
        "get" => get::run(args),
        "token" => token::run(args),
        "demo" => demo::run(args),
        _ => serve::run(args),
    };
    finish(&topic, outcome)
}

/// The exit status of a command's outcome; a usage error is reported here.
fn finish(topic: &str, outcome: Result<i32, String>) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(problem) => usage_error(Some(topic), &problem),
    }
}

/// `credchain help [COMMAND...]`.
fn help_command(words: Vec<String>) -> i32 {
    if words.is_empty() {
        print!("{}", help::GLOBAL);
        return 0;
    }
    if let [only] = words.as_slice() {
        match args::request(std::slice::from_ref(only)) {
            Some(Request::Help) => return print_page("help"),
            Some(Request::Version) => return print_version(),
            None => {}
        }
    }
    let topic = words.join(" ");
    if help::page(&topic).is_some() {
        print_page(&topic)
    } else {
        unknown_command(&topic)
    }
}

/// `credchain version`, `--version`, `-V`.
fn version_command(rest: Vec<String>) -> i32 {
    match args::request(&rest) {
        Some(Request::Help) => print_page("version"),
        Some(Request::Version) => print_version(),
        None => match Args::new(rest).finish() {
            Ok(()) => print_version(),
            Err(problem) => usage_error(Some("version"), &problem),
        },
    }
}

fn print_page(topic: &str) -> i32 {
    match help::page(topic) {
        Some(text) => {
            print!("{text}");
            0
        }
        None => unknown_command(topic),
    }
}

fn print_version() -> i32 {
    println!("credchain {}", env!("CARGO_PKG_VERSION"));
    0
}

fn unknown_command(name: &str) -> i32 {
    let what = if name.starts_with('-') { "unknown option" } else { "unknown command" };
    usage_error(None, &format!("{what}: {name}"))
}

/// A usage error: one line saying what is wrong, one saying where the help
/// is; exit status 2.
fn usage_error(topic: Option<&str>, problem: &str) -> i32 {
    match topic.filter(|topic| help::page(topic).is_some()) {
        Some(topic) => eprintln!("credchain {topic}: {problem}\ntry: credchain help {topic}"),
        None => eprintln!("credchain: {problem}\ntry: credchain help"),
    }
    2
}
