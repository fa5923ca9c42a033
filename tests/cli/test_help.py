"""`credchain --help`, `credchain COMMAND --help`, `credchain help COMMAND`
and `--version` for every command: one text per command, exit 0, a synopsis
first, every option the command accepts, exit codes, no pointer into the
repository; usage errors exit 2 with one line and a hint.

The options each command accepts are listed here, by hand, from the command's
source: the test does not learn them from the binary it checks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CREDCHAIN_BIN", ROOT / "target" / "release" / "credchain"))
VERSION = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]

HELP_FLAGS = ["--help", "-h", "--version", "-V"]
# Every command, as typed after `credchain`, and the options it accepts.
COMMANDS: dict[str, list[str]] = {
    "doctor": ["--profile", "--json", "--verify", "--all-profiles"],
    "get": ["--profile", "--format"],
    "token": ["--hostname", "--port", "--username", "--admin", "--region", "--profile", "--signing-time"],
    "token rds": ["--hostname", "--port", "--username", "--region", "--profile", "--signing-time"],
    "token dsql": ["--hostname", "--admin", "--region", "--profile", "--signing-time"],
    "demo": ["--seconds"],
    "serve": ["--profile", "--listen", "--dangerously-listen-beyond-loopback", "--token-file", "--log-level",
              "--max-connections", "--print-env", "--exec"],
    "version": [],
    "help": [],
}
# Words each page must also name (option values, variables read).
ALSO_MENTIONS: dict[str, list[str]] = {
    "doctor": ["CREDCHAIN_LOG", "CREDCHAIN_TIMEOUT_MS", "AWS_PROFILE", "schema_version", "pitfalls"],
    "get": ["json", "process", "env", "CREDCHAIN_LOG", "CREDCHAIN_TIMEOUT_MS", "AWS_PROFILE"],
    "token": ["rds", "dsql", "CREDCHAIN_TIMEOUT_MS", "AWS_REGION"],
    "token rds": ["CREDCHAIN_TIMEOUT_MS", "AWS_REGION"],
    "token dsql": ["CREDCHAIN_TIMEOUT_MS", "AWS_REGION"],
    "demo": ["CREDCHAIN_TIMEOUT_MS", "TMPDIR"],
    "serve": ["CREDCHAIN_TIMEOUT_MS", "CREDCHAIN_STATIC_RECHECK_MS", "CREDCHAIN_STATIC_REFRESH_MS",
              "CREDCHAIN_MAX_PROFILES", "SIGTERM", "AWS_CONTAINER_CREDENTIALS_FULL_URI"],
    "version": [],
    "help": ["doctor", "get", "token rds", "token dsql", "demo", "serve", "version"],
}
# The exit statuses each command's help must document.
EXIT_CODES: dict[str, list[str]] = {
    "doctor": ["0", "1", "2"], "get": ["0", "1", "2"], "token": ["0", "1", "2"], "token rds": ["0", "1", "2"],
    "token dsql": ["0", "1", "2"], "demo": ["0", "1", "2"], "serve": ["0", "N", "2"], "version": ["0", "2"],
    "help": ["0", "2"],
}
# In the global help, one line per command.
LISTED = ["doctor", "get", "token rds", "token dsql", "demo", "serve", "version", "help"]
REPOSITORY_POINTERS = ["docs/", "src/", ".md", "__mint-fake"]


def run(*args: str, cwd: Path | None = None, binary: Path = BIN) -> subprocess.CompletedProcess:
    # Nothing here resolves credentials; the environment is bare all the same.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
           "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=20, env=env, cwd=cwd)


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    if not BIN.exists():
        pytest.fail(f"missing {BIN}: run `cargo build --release` first")


def mentions(text: str, word: str) -> bool:
    """`word` stands alone: `--profile` is not found inside `--profiles`."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def check_page(text: str, what: str) -> None:
    for pointer in REPOSITORY_POINTERS:
        assert pointer not in text, f"{what} points at {pointer!r}"
    long = [line for line in text.splitlines() if len(line) > 80]
    assert not long, f"{what}: lines over 80 columns: {long}"
    assert text.endswith("\n") and not text.endswith("\n\n"), f"{what}: ends badly"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_forms_print_one_page(command: str) -> None:
    words = command.split()
    forms = [[*words, "--help"], [*words, "-h"], ["help", *words]]
    runs = {" ".join(form): run(*form) for form in forms}
    for form, done in runs.items():
        assert done.returncode == 0, f"credchain {form}: exit {done.returncode}\n{done.stderr}"
        assert done.stderr == "", f"credchain {form} wrote to stderr: {done.stderr}"
    texts = {done.stdout for done in runs.values()}
    assert len(texts) == 1, f"{command}: the forms {list(runs)} print different texts"
    text = texts.pop()
    assert text.splitlines()[0].startswith(f"usage: credchain {command}"), text.splitlines()[0]
    for option in [*COMMANDS[command], "--help"]:
        assert mentions(text, option), f"credchain {command} --help does not mention {option}"
    for word in ALSO_MENTIONS[command]:
        assert mentions(text, word), f"credchain {command} --help does not mention {word}"
    check_page(text, f"credchain {command} --help")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_documents_exit_codes(command: str) -> None:
    text = run("help", *command.split()).stdout
    section = text.split("\nexit status:\n", 1)
    assert len(section) == 2, f"credchain {command} --help has no exit status section"
    documented = re.findall(r"^  (\S+)  ", section[1].split("\n\n", 1)[0], re.M)
    assert documented == EXIT_CODES[command], f"credchain {command}: exit statuses {documented}"


def test_global_help() -> None:
    runs = [run(form) for form in ("--help", "-h", "help")]
    assert all(done.returncode == 0 and done.stderr == "" for done in runs), [d.stderr for d in runs]
    assert len({done.stdout for done in runs}) == 1, "--help, -h and help print different texts"
    text = runs[0].stdout
    assert text.startswith("usage: credchain COMMAND")
    for command in LISTED:
        assert re.search(rf"^  {command}  ", text, re.M), f"the global help does not list {command}"
    assert "credchain help COMMAND" in text
    section = text.split("\nexit status:\n", 1)[1]
    assert [re.findall(r"^  (\d)  ", section, re.M)[i] for i in range(3)] == ["0", "1", "2"]
    check_page(text, "credchain --help")


@pytest.mark.parametrize("form", [["--version"], ["-V"], ["version"],
                                  *[[*c.split(), flag] for c in COMMANDS for flag in ("--version", "-V")]],
                         ids=" ".join)
def test_version(form: list[str]) -> None:
    done = run(*form)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"credchain {VERSION}\n", "")


def test_help_needs_nothing_but_the_binary(tmp_path: Path) -> None:
    lone = tmp_path / "credchain"
    shutil.copy2(BIN, lone)
    for command in ["", *COMMANDS]:
        here = run("help", *command.split(), binary=lone, cwd=tmp_path)
        assert here.returncode == 0 and here.stdout == run("help", *command.split()).stdout, command


@pytest.mark.parametrize("args, line", [pytest.param(a, line, id=" ".join(a)) for a, line in [
    (["frobnicate"], "credchain: unknown command: frobnicate"),
    (["--bogus"], "credchain: unknown option: --bogus"),
    (["help", "frobnicate"], "credchain: unknown command: frobnicate"),
    (["help", "token", "mysql"], "credchain: unknown command: token mysql"),
]])
def test_unknown_command_exits_2_with_one_line(args: list[str], line: str) -> None:
    done = run(*args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"{line}\ntry: credchain help\n")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("token", "help")])
def test_unknown_option_exits_2_with_one_line(command: str) -> None:
    done = run(*command.split(), "--bogus")
    expected = f"credchain {command}: unknown option: --bogus\ntry: credchain help {command}\n"
    assert (done.returncode, done.stdout, done.stderr) == (2, "", expected)


@pytest.mark.parametrize("args, line", [pytest.param(a, line, id=" ".join(a)) for a, line in [
    (["token"], "credchain token: the kind comes first: credchain token rds|dsql ..."),
    (["token", "mysql"], "credchain token: unknown token kind mysql: use rds or dsql"),
    (["token", "rds", "--hostname", "h"], "credchain token rds: --port is required"),
    (["get", "--format", "xml"],
     "credchain get: unknown format xml: use json, process, env, env-no-export, fish or powershell"),
    (["get", "--profile"], "credchain get: --profile needs a value"),
    (["demo", "--seconds", "x"], "credchain demo: --seconds x: not a whole number of seconds"),
    (["demo", "--seconds", "25"],
     "credchain demo: --seconds 25: the demo needs at least 26 s to show 3 rotations of credentials that live 10 s"),
    (["doctor", "extra"], "credchain doctor: unexpected argument: extra"),
]])
def test_other_usage_errors_name_the_command(args: list[str], line: str) -> None:
    done = run(*args)
    topic = re.match(r"credchain ([a-z ]+):", line).group(1)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"{line}\ntry: credchain help {topic}\n")


def test_help_stops_at_exec() -> None:
    """`--help` after `serve --exec` belongs to the command run: it is not credchain's."""
    words = ["serve", "--exec", "--", "/bin/sh", "-c", 'test "$1" = --help', "sh", "--help"]
    done = subprocess.run([str(BIN), *words], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
                               "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
                               "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    assert not done.stdout.startswith("usage:")


def test_no_command_prints_the_usage_on_stderr() -> None:
    done = run()
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "credchain: no command given\n\n" + run("--help").stdout
