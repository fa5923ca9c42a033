//! The help texts: `credchain help [COMMAND]`, `credchain COMMAND --help`.
//!
//! Each page is complete on its own (synopsis, description, every option
//! with its default, exit status, environment, examples) and names nothing
//! a user without the repository could not read. Lines stay within 80
//! columns, so the output reads as a man page in a terminal.

/// The chain's own variables, as every command that resolves credentials
/// reads them (shared by several pages).
macro_rules! chain_environment {
    () => {
        "  AWS_DEFAULT_PROFILE, AWS_PROFILE
                     the profile when --profile is not given (in that order,
                     as botocore; else \"default\")
  AWS_CONFIG_FILE    the shared config file (default: ~/.aws/config)
  AWS_SHARED_CREDENTIALS_FILE
                     the shared credentials file (default: ~/.aws/credentials)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  AWS_CREDENTIAL_EXPIRATION, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
  AWS_ROLE_SESSION_NAME, AWS_CONTAINER_CREDENTIALS_FULL_URI,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, AWS_EC2_METADATA_DISABLED,
  AWS_REGION, BOTO_CONFIG, HOME, ...
                     the chain's sources, read as botocore reads them
  CREDCHAIN_TIMEOUT_MS
                     the longest a call waits for a source, in milliseconds
                     (default: 10000)
"
    };
}

/// `CREDCHAIN_LOG`, for the commands that leave the library's logging alone.
macro_rules! log_environment {
    () => {
        "  CREDCHAIN_LOG      error, warn, info, debug or trace: the library's log
                     messages on standard error (default: none)
"
    };
}

/// The `--profile` option of the one-shot commands.
macro_rules! profile_option {
    ($what:literal) => {
        concat!(
            "  --profile P        ",
            $what,
            "
                     (default: AWS_DEFAULT_PROFILE, else AWS_PROFILE, else
                     \"default\")
"
        )
    };
}

/// The options every command takes.
macro_rules! help_option {
    () => {
        "  -h, --help         print this help and exit
  -V, --version      print \"credchain VERSION\" and exit
"
    };
}

/// The options `token rds` and `token dsql` share.
macro_rules! token_common_options {
    () => {
        concat!(
            "  --region R         the region to sign for (default: the one in the host
                     name, else AWS_REGION, else AWS_DEFAULT_REGION, else the
                     profile's region)
",
            profile_option!("the profile whose credentials sign"),
            "  --signing-time T   sign as of Unix time T, in seconds, for a reproducible
                     token (default: 0, meaning now)
",
            help_option!()
        )
    };
}

macro_rules! token_exit_status {
    () => {
        "exit status:
  0  the token was printed
  1  no token: no credentials, no region found, or a host name or user the
     signer refuses; the reason is on standard error
  2  usage error: an unknown option, a required option missing, a port or
     time that is not a number
"
    };
}

macro_rules! token_environment {
    () => {
        concat!(
            "environment:\n",
            chain_environment!(),
            log_environment!(),
            "  AWS_REGION, AWS_DEFAULT_REGION, and the profile's region setting choose the
  region when neither --region nor the host name does.
"
        )
    };
}

/// `credchain help`, `credchain --help`.
pub const GLOBAL: &str = "usage: credchain COMMAND [OPTIONS]
       credchain help [COMMAND]
       credchain --version

credchain resolves AWS credentials as botocore does (the same sources, in the
same order), caches them and refreshes them before they expire, and hands them
to tools and processes that do not load its library.

commands:
  doctor             explain which credential source wins, why, and every
                     pitfall found
  get                print the credentials the chain resolves (JSON,
                     credential_process output, or shell exports)
  token rds          print an IAM auth token for an RDS or Aurora database
  token dsql         print an IAM auth token for an Aurora DSQL cluster
  demo               watch the refresher rotate short-lived fake credentials,
                     offline
  serve              serve credentials to other processes on the
                     container-credentials protocol
  version            print the version
  help               print this help, or a command's

options of every command:
  -h, --help         print the command's help and exit
  -V, --version      print \"credchain VERSION\" and exit

exit status:
  0  success
  1  the command ran and failed: no credentials, an error-level pitfall, a
     token that could not be signed, a demo that did not pass
  2  usage error: an unknown command or option, an option without its value
     or with a bad one; also a server that cannot start
  serve --exec exits with the status of its command.

Each command's help lists its options with their defaults, its exit status,
the environment variables it reads, and examples:

  credchain help COMMAND    (or: credchain COMMAND --help)
";

/// `credchain help doctor`.
pub const DOCTOR: &str = concat!(
    "usage: credchain doctor [--profile P] [--json] [--verify]
       credchain doctor --all-profiles [--json]

Explains the credential chain for one profile: every source in botocore's
order, which one wins and why the others do not, when the credentials expire
and whether they refresh by themselves, and every pitfall found (pasted
temporary keys, a missing profile, files others can write, a
credential_process that would run credchain for itself, ...), each with what
to do instead.

The environment and the shared files are read once; every source is decided
without the network; only the first source that applies is asked for
credentials. No cache is used or changed: the report shows what the chain
finds now. Nothing printed is secret: the access key id is masked but for its
last four characters, secret keys and session tokens are only said to be
present or absent, credential_process commands are never copied.

options:
",
    profile_option!("the profile to diagnose"),
    "  --json             print one JSON document (below) instead of the table
  --verify           then ask STS GetCallerIdentity with the credentials (the
                     one call that uses them), at the endpoint the chain's STS
                     calls use, and show the account and ARN, or STS's refusal
  --all-profiles     instead, list every profile of the two files (sorted),
                     like aws configure list-profiles, with the source the
                     chain would use when it is named and the configuration
                     error it would stop at; decided without the network (no
                     fetch, no process run); with --json: {config_file,
                     credentials_file, profiles: [{name, in_config_file,
                     in_credentials_file, source, error}], error}
",
    help_option!(),
    "
the JSON document (--json), schema version 1:
  Fields may be added, never removed, renamed or retyped; ignore unknown ones.
  schema_version     1
  credchain_version  \"MAJOR.MINOR.PATCH\"
  ok                 true exactly when the exit status is 0
  profile            {name, origin, in_config_file, in_credentials_file,
                     region, region_from, role_chain, sso}: origin is caller
                     (--profile), AWS_DEFAULT_PROFILE, AWS_PROFILE or
                     default; the two booleans are null when the shared
                     files could not be read; role_chain and sso are null
                     unless the profile assumes a role or logs in with SSO
  files              {config, credentials}, each {path, exists}
  sources            the twelve sources in the chain's order, each {position,
                     name, configured, status, reason,
                     refreshes_automatically}; name is env, assume-role,
                     assume-role-with-web-identity, sso,
                     shared-credentials-file, login, custom-process,
                     config-file, ec2-credentials-file, boto-config,
                     container-role or iam-role; status is used, skipped or
                     failed; reason says why (null for used)
  winner             the name of the source used, or null
  credentials        null, or the winner's {source, access_key_id (masked),
                     session_token (true or false), account_id, expiration
                     (RFC 3339 UTC, or null: never), expires_in_seconds,
                     refreshes_automatically}
  error              null, or why there are no credentials: {code, number,
                     message, source}; code is no-credentials,
                     profile-not-found, partial-credentials, source-failed,
                     timeout, invalid-config or internal; number is the same
                     code in the C library's result numbers
  pitfalls           a list of {code, severity, source, message}; severity
                     is error, warning or info, errors first
  verification       with --verify only: {ok, endpoint, account, arn,
                     user_id, error}
  When the diagnosis itself cannot run, the document is only
  {\"error\": {code, number, message, source}}.

exit status:
  0  credentials resolve, no pitfall has severity error and, with --verify,
     STS accepted them (\"ok\": true)
  1  no credentials, an error-level pitfall, STS refused them (\"ok\":
     false), or the diagnosis could not run
  2  usage error: an unknown option, --profile without a value,
     --all-profiles with --profile or --verify
  With --all-profiles: 0 when the files could be read, 1 otherwise.

environment:
",
    chain_environment!(),
    log_environment!(),
    "
examples:
  credchain doctor
  credchain doctor --all-profiles
  credchain doctor --profile prod --json | jq -r '.pitfalls[].code'
  credchain doctor --profile prod --verify
"
);

/// `credchain help get`.
pub const GET: &str = concat!(
    "usage: credchain get [--profile P] [--format F]

Prints the credentials the chain resolves for a profile, in a form another
tool can use. The output holds the secret key: mind where it goes.

options:
",
    profile_option!("the profile to resolve"),
    "  --format F         the output format (default: json):
                       json     one object: source, access_key_id,
                                secret_access_key, session_token (or null),
                                account_id (or null), expiration (RFC 3339
                                UTC, or null when they never expire)
                       process  credential_process output: Version 1,
                                AccessKeyId, SecretAccessKey, SessionToken,
                                Expiration (RFC 3339) and AccountId when
                                known, so that any AWS SDK or the aws CLI can
                                run credchain as its credential_process
                       env      lines for a POSIX shell (eval): export
                                AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                                AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION;
                                unset those the credentials do not have (and
                                AWS_SECURITY_TOKEN), so no older token stays
                       env-no-export
                                NAME=VALUE lines of the variables that are
                                set, for an environment file (systemd
                                EnvironmentFile=, docker --env-file, set -a)
                       fish     set -gx / set -e lines for fish
                       powershell
                                $Env:NAME = '...' / Remove-Item Env:NAME lines
",
    help_option!(),
    "
A profile whose credential_process runs credchain get for that same profile
is refused (exit status 1) instead of looping; credchain doctor reports it as
the pitfall credential-process-loop.

exit status:
  0  the credentials were printed
  1  the chain has no credentials; the reason is on standard error as
     \"credchain: MESSAGE (CODE)\", or, with --format json, on standard output
     as {\"error\": {code, number, message, source}}
  2  usage error: an unknown option or format, an option without its value

environment:
",
    chain_environment!(),
    log_environment!(),
    "
examples:
  eval \"$(credchain get --profile prod --format env)\"
  credchain get --profile prod --format fish | source
  credchain get --profile prod --format powershell | Invoke-Expression
  credchain get --format env-no-export > /run/app/aws.env
  credchain get --format json | jq -r .source

  In ~/.aws/config, for a tool that cannot load credchain:
    [profile shared]
    credential_process = credchain get --profile prod --format process
"
);

/// `credchain help token`.
pub const TOKEN: &str = concat!(
    "usage: credchain token rds --hostname H --port N --username U [OPTIONS]
       credchain token dsql --hostname H [--admin] [OPTIONS]

Prints an IAM database authentication token and a newline, as the aws CLI's
rds generate-db-auth-token and dsql generate-db-connect[-admin]-auth-token
do: pass it as the database password. It is signed with the credentials the
chain resolves and is accepted for 15 minutes.

  rds                an RDS or Aurora database (MySQL, PostgreSQL)
  dsql               an Aurora DSQL cluster

options:
  --hostname H       the database or cluster endpoint (required)
  --port N           rds: the database port, such as 5432 or 3306 (required)
  --username U       rds: the database user (required)
  --admin            dsql: a token for the admin role (default: a token for a
                     custom database role)
",
    token_common_options!(),
    "
",
    token_exit_status!(),
    "
",
    token_environment!(),
    "
examples:
  credchain token rds --hostname db.abc123.eu-west-1.rds.amazonaws.com \\
      --port 5432 --username app
  credchain token dsql --hostname abc123.dsql.us-east-1.on.aws --admin

See credchain help token rds, credchain help token dsql.
"
);

/// `credchain help token rds`.
pub const TOKEN_RDS: &str = concat!(
    "usage: credchain token rds --hostname H --port N --username U [--region R]
                           [--profile P] [--signing-time T]

Prints an IAM authentication token for an RDS or Aurora database (MySQL or
PostgreSQL) and a newline, as aws rds generate-db-auth-token does: pass it as
the password. It is signed with the credentials the chain resolves and is
accepted for 15 minutes.

options:
  --hostname H       the database endpoint's host name (required)
  --port N           the database port, such as 5432 or 3306 (required)
  --username U       the database user (required)
",
    token_common_options!(),
    "
",
    token_exit_status!(),
    "
",
    token_environment!(),
    "
examples:
  PGPASSWORD=\"$(credchain token rds --port 5432 --username app \\
      --hostname db.abc123.eu-west-1.rds.amazonaws.com)\" psql ...
  credchain token rds --hostname db.example.internal --region eu-west-1 \\
      --port 3306 --username app --profile prod
"
);

/// `credchain help token dsql`.
pub const TOKEN_DSQL: &str = concat!(
    "usage: credchain token dsql --hostname H [--admin] [--region R] [--profile P]
                            [--signing-time T]

Prints an IAM authentication token for an Aurora DSQL cluster and a newline,
as aws dsql generate-db-connect-auth-token (with --admin:
generate-db-connect-admin-auth-token) does: pass it as the password. It is
signed with the credentials the chain resolves and is accepted for 15
minutes.

options:
  --hostname H       the cluster endpoint (required)
  --admin            a token for the admin role (default: a token for a
                     custom database role)
",
    token_common_options!(),
    "
",
    token_exit_status!(),
    "
",
    token_environment!(),
    "
examples:
  credchain token dsql --hostname abc123.dsql.us-east-1.on.aws --admin
  credchain token dsql --hostname abc123.dsql.us-east-1.on.aws --profile app
"
);

/// `credchain help demo`.
pub const DEMO: &str = concat!(
    "usage: credchain demo [--seconds N]

Shows the refresher at work with no AWS account and without the network. It
makes a throw-away HOME, in a new private folder under the temporary
directory that is removed at the end, whose default profile's
credential_process is credchain itself, minting fake credentials that live
10 seconds. Four threads then read credentials through the library as fast as
a busy driver would. Every rotation is printed as it happens (keys masked),
with the library's log messages, then a summary, what credchain doctor says
about that configuration, and last the demo's own result.

The demo ignores the caller's AWS_* variables, BOTO_CONFIG and ~/.aws files,
and never asks the instance metadata service.

options:
  --seconds N        how long the threads read, in whole seconds, at least 26
                     (the time three rotations take; default: 35)
",
    help_option!(),
    "
exit status:
  0  at least three rotations were seen, each new key cost exactly one
     upstream fetch, and no call failed
  1  otherwise (the summary says which)
  2  usage error (an unknown option, --seconds not a number or under 26), or
     the throw-away folder could not be made

environment:
  TMPDIR             where the throw-away folder goes (default: /tmp)
  CREDCHAIN_TIMEOUT_MS
                     the longest a call waits for the fake upstream, in
                     milliseconds (default: 10000)
  CREDCHAIN_LOG has no effect: the demo prints the library's messages at
  level info itself.

examples:
  credchain demo
  credchain demo --seconds 60
"
);

/// `credchain help serve`.
pub const SERVE: &str = concat!(
    "usage: credchain serve [--profile P]... [--listen ADDRESS:PORT]
                       [--token-file PATH] [--log-level L] [--max-connections N]
                       [--print-env | --exec [--] COMMAND [ARGS...]]

Serves the credentials credchain resolves, from its cache, on the
container-credentials protocol that every AWS SDK's default chain speaks
(AWS_CONTAINER_CREDENTIALS_FULL_URI with
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE): processes that do not load
credchain share its one chain and its one refresh, and their SDKs come back
on their own before the served expiry.

Without --profile the default chain is served at /credentials; each
--profile P is served at /credentials/P (percent-encoded). /health answers
without the token. Every other request must carry the token, which each start
draws anew (256 random bits) and writes to the token file, and must name a
loopback Host. Each profile is resolved once at start; one that cannot be
served is named in the log. Long-term keys (no session token) are refused
with status 503 and the reason: the protocol cannot carry them to every SDK,
so serve a profile that assumes a role, or SSO. Credentials that never expire
are served with an expiry 20 minutes ahead.

options:
  --profile P        serve profile P at /credentials/P; repeat it to serve
                     several (default: the default chain, at /credentials)
  --listen A:P       the address and port to listen on, loopback only
                     (default: 127.0.0.1:0, a free port)
  --dangerously-listen-beyond-loopback
                     accept a --listen address that is not loopback: anyone
                     who can reach the port may try the token (default: off)
  --token-file PATH  where to write the token, mode 0600 (default: a new
                     private folder under XDG_RUNTIME_DIR, TMPDIR or /tmp,
                     removed at exit); an existing file is reused only if it
                     is a regular file of this user that nobody else may read
                     or write, and never through a symbolic link
  --log-level L      error, warn, info, debug, trace or off (default: info);
                     messages go to standard error as
                     \"credchain serve LEVEL: MESSAGE\"
  --max-connections N
                     at most N open connections (default: 256); a new one
                     closes the oldest open one that has not carried the
                     token, and is closed at once only when every open
                     one has
  --print-env        print the shell lines a client needs (export
                     AWS_CONTAINER_CREDENTIALS_FULL_URI and
                     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, unset the
                     variables that would shadow them), then keep serving
  --exec [--] COMMAND [ARGS...]
                     run COMMAND with those two variables set and the ones
                     that would shadow them removed (AWS_ACCESS_KEY_ID,
                     AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
                     AWS_SECURITY_TOKEN, AWS_PROFILE, AWS_DEFAULT_PROFILE,
                     AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
                     AWS_ROLE_SESSION_NAME,
                     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
                     AWS_CONTAINER_AUTHORIZATION_TOKEN; standard error names
                     each one removed), and stop when it exits. Everything
                     after --exec belongs to COMMAND. Not with --print-env
",
    help_option!(),
    "
Without --exec the server runs until SIGTERM or SIGINT; SIGHUP is logged and
ignored. With --exec, SIGTERM, SIGINT and SIGHUP are passed on to COMMAND.

exit status:
  0  stopped by SIGTERM or SIGINT (without --exec)
  N  with --exec: the exit status of COMMAND, or 128 + S when signal S ended
     it
  2  usage error (an unknown option, a bad value, a profile given twice,
     --print-env with --exec), or the server could not start: a --listen
     address beyond loopback, a token file refused or not writable, an
     address in use, a COMMAND that cannot be run

environment:
",
    chain_environment!(),
    "  CREDCHAIN_STATIC_RECHECK_MS
                     how often static credentials' files and variables are
                     checked for a change, in milliseconds (default: 5000)
  CREDCHAIN_STATIC_REFRESH_MS
                     static credentials are resolved again this often even
                     when nothing seems changed (default: 300000)
  CREDCHAIN_MAX_PROFILES
                     the most profiles held (default: 1024)
  XDG_RUNTIME_DIR, TMPDIR
                     where the default token file goes
  CREDCHAIN_LOG has no effect: --log-level decides.

examples:
  credchain serve --exec -- node app.js
  credchain serve --profile prod --exec -- aws sts get-caller-identity
  credchain serve --listen 127.0.0.1:9911 --token-file /run/credchain/token \\
      --print-env
"
);

/// `credchain help version`.
pub const VERSION: &str = concat!(
    "usage: credchain version
       credchain --version | -V

Prints \"credchain VERSION\" (MAJOR.MINOR.PATCH): the version of the command
and of the library built into it.

options:
",
    help_option!(),
    "
exit status:
  0  the version was printed
  2  usage error (an unknown option or argument)

examples:
  credchain --version
"
);

/// `credchain help help`.
pub const HELP: &str = "usage: credchain help [COMMAND]
       credchain --help | -h

Prints the help of COMMAND: doctor, get, token, token rds, token dsql, demo,
serve, version or help. Without COMMAND, prints the list of commands. The
same text as credchain COMMAND --help.

exit status:
  0  the help was printed
  2  COMMAND is not a command

examples:
  credchain help serve
  credchain help token rds
";

/// The page for `topic` (the command's words, such as `token rds`).
pub fn page(topic: &str) -> Option<&'static str> {
    Some(match topic {
        "doctor" => DOCTOR,
        "get" => GET,
        "token" => TOKEN,
        "token rds" => TOKEN_RDS,
        "token dsql" => TOKEN_DSQL,
        "demo" => DEMO,
        "serve" => SERVE,
        "version" => VERSION,
        "help" => HELP,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPICS: [&str; 9] = ["doctor", "get", "token", "token rds", "token dsql", "demo", "serve", "version", "help"];

    #[test]
    fn every_page_starts_with_its_synopsis_and_fits_80_columns() {
        for topic in TOPICS {
            let text = page(topic).unwrap();
            assert!(text.starts_with(&format!("usage: credchain {topic}")), "{topic}");
            for line in text.lines().chain(GLOBAL.lines()) {
                assert!(line.chars().count() <= 80, "{topic}: {line}");
            }
        }
        assert!(GLOBAL.starts_with("usage: credchain COMMAND"));
    }

    #[test]
    fn no_page_points_into_the_repository_or_names_the_hidden_command() {
        for text in TOPICS.iter().map(|t| page(t).unwrap()).chain([GLOBAL]) {
            for pointer in ["docs/", "src/", ".md", "__mint-fake"] {
                assert!(!text.contains(pointer), "{pointer} in:\n{text}");
            }
        }
    }
}
