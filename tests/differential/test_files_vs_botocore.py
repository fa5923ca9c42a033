"""How the AWS files are read: credchain (through its C ABI) against botocore.

botocore reads ~/.aws/config and ~/.aws/credentials with Python's
configparser.RawConfigParser (botocore.configloader.raw_config_parse): keys
are lowercased, `=` and `:` both separate, `#`/`;` start comments only at the
start of a line (indented too), an indented line continues the previous value
(`key =` followed by an indented block becomes a sub-dictionary), duplicate
sections and keys are errors, a `[DEFAULT]` section feeds every other one, and
a section header is taken literally (`[ profile dev ]` is not `dev`). Config
sections are `[default]` and `[profile NAME]` split the way shlex splits them;
credentials-file sections are taken whole. AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE go through os.path.expandvars and expanduser; a
path that is not a regular file is as good as missing.

Each scenario is one process per client, with its own HOME (harness.Scenario).
"""

from __future__ import annotations

import pytest

from cases import (CONFIG_DEFAULT, CREDS_DEFAULT, INVALID_CONFIG, NO_CREDENTIALS, PARTIAL_CREDENTIALS,
                   PROFILE_NOT_FOUND, SOURCE_FAILED, Case, config_bytes, config_file, creds_bytes, creds_file, env,
                   run_case, steps)
from harness import Scenario

KEYS = "aws_access_key_id = AKIDGRAMMAR\naws_secret_access_key = grammar-secret\n"
OTHER = "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other-secret\n"
PARSE = "ConfigParseError"


def creds_ok(name: str, text: str, key: str = "AKIDGRAMMAR", secret: str = "grammar-secret",
             token: str | None = None, profile: str | None = None) -> Case:
    return Case(name, creds_file(text), profile, source="shared-credentials-file", access_key=key, secret=secret,
                token=token)


def config_ok(name: str, text: str, key: str = "AKIDGRAMMAR", secret: str = "grammar-secret",
              token: str | None = None, profile: str | None = None) -> Case:
    return Case(name, config_file(text), profile, source="config-file", access_key=key, secret=secret, token=token)


def parse_error(name: str, setup, which: str, profile: str | None = None) -> Case:
    """botocore: ConfigParseError for the file; credchain: INVALID_CONFIG naming the file."""
    return Case(name, setup, profile, error_code=INVALID_CONFIG, message_has=[f".aws/{which}"], boto_error=PARSE)


def not_found(name: str, setup, profile: str) -> Case:
    return Case(name, setup, profile, error_code=PROFILE_NOT_FOUND, message_has=[profile], boto_error="ProfileNotFound")


def nothing(name: str, setup, profile: str | None = None) -> Case:
    return Case(name, setup, profile, error_code=NO_CREDENTIALS, boto_error="no credentials")


# ---- 1. INI grammar ---------------------------------------------------------
GRAMMAR = [
    creds_ok("hash and semicolon full-line comments",
             "# top\n; top\n[default]\n# between\naws_access_key_id = AKIDGRAMMAR\n; between\n"
             "aws_secret_access_key = grammar-secret\n# end\n"),
    creds_ok("indented hash comment after a value is dropped",
             "[default]\naws_access_key_id = AKIDGRAMMAR\naws_secret_access_key = grammar-secret\n  # comment\n"),
    creds_ok("indented semicolon comment after a value is dropped",
             "[default]\naws_access_key_id = AKIDGRAMMAR\naws_secret_access_key = grammar-secret\n\t; comment\n"),
    creds_ok("comment between a value and its continuation",
             "[default]\naws_access_key_id = AKIDGRAMMAR\naws_secret_access_key = grammar-secret\n# c\n  more\n",
             secret="grammar-secret\nmore"),
    creds_ok("inline comments are part of the value",
             "[default]\naws_access_key_id = AKIDGRAMMAR # not a comment\naws_secret_access_key = s ; nor this\n",
             key="AKIDGRAMMAR # not a comment", secret="s ; nor this"),
    config_ok("inline comment kept in a config file token",
              "[default]\n" + KEYS + "aws_session_token = tok # tail\n", token="tok # tail"),
    creds_ok("colon separator", "[default]\naws_access_key_id: AKIDGRAMMAR\naws_secret_access_key:grammar-secret\n"),
    config_ok("colon separator in the config file",
              "[profile dev]\naws_access_key_id : AKIDGRAMMAR\naws_secret_access_key : grammar-secret\n", profile="dev"),
    creds_ok("key=value without spaces", "[default]\naws_access_key_id=AKIDGRAMMAR\naws_secret_access_key=grammar-secret\n"),
    creds_ok("tabs around the separator", "[default]\naws_access_key_id\t=\tAKIDGRAMMAR\naws_secret_access_key\t= grammar-secret\t\n"),
    creds_ok("trailing whitespace is stripped",
             "[default]\naws_access_key_id = AKIDGRAMMAR   \naws_secret_access_key =    grammar-secret \n"),
    Case("indented key continues the previous value",
         creds_file("[default]\naws_access_key_id = AKIDGRAMMAR\n  aws_secret_access_key = grammar-secret\n"),
         error_code=PARTIAL_CREDENTIALS, message_has=["aws_secret_access_key"], boto_error="aws_secret_access_key"),
    creds_ok("indented first key after the header is a key",
             "[default]\n  aws_access_key_id = AKIDGRAMMAR\naws_secret_access_key = grammar-secret\n"),
    creds_ok("indented comment before the first section", "  # c\n[default]\n" + KEYS),
    creds_ok("indented section header at the top", "  [default]\n" + KEYS),
    nothing("indented section header continues the previous value",
            creds_file("[dev]\nregion = us-west-2\n  [default]\n" + KEYS)),
    creds_ok("continuation line joins the value", "[default]\n" + KEYS + "  more\n", secret="grammar-secret\nmore"),
    creds_ok("blank line inside a continued value", "[default]\n" + KEYS + "\n  more\n", secret="grammar-secret\n\nmore"),
    config_ok("indented block after key = is a sub-section",
              "[default]\ns3 =\n  max_concurrent_requests = 10\n  addressing_style = path\n" + KEYS),
    parse_error("sub-section line without =",
                config_file("[default]\ns3 =\n  max_concurrent_requests\n" + KEYS), "config"),
    creds_ok("value with = signs", "[default]\naws_access_key_id = AKIDGRAMMAR\naws_secret_access_key = a=b==\n",
             secret="a=b=="),
    creds_ok("quotes are part of the value",
             "[default]\naws_access_key_id = \"AKIDGRAMMAR\"\naws_secret_access_key = 'grammar-secret'\n",
             key='"AKIDGRAMMAR"', secret="'grammar-secret'"),
    creds_ok("percent signs are not interpolated",
             "[default]\naws_access_key_id = AKIDGRAMMAR\naws_secret_access_key = a%(b)s%\n", secret="a%(b)s%"),
    creds_ok("uppercase keys are lowercased",
             "[default]\nAWS_ACCESS_KEY_ID = AKIDGRAMMAR\nAws_Secret_Access_Key = grammar-secret\n"),
    creds_ok("[DEFAULT] section values reach every section",
             "[DEFAULT]\naws_secret_access_key = inherited\n[dev]\naws_access_key_id = AKIDGRAMMAR\n",
             secret="inherited", profile="dev"),
    config_ok("[DEFAULT] section in the config file reaches profiles",
              "[DEFAULT]\naws_secret_access_key = inherited\n[profile dev]\naws_access_key_id = AKIDGRAMMAR\n",
              secret="inherited", profile="dev"),
    nothing("[DEFAULT] alone is not the default profile", creds_file("[DEFAULT]\n" + KEYS)),
    creds_ok("a malformed nested block in [DEFAULT] that every section overrides",
             "[DEFAULT]\naws_session_token =\n  not nested\n[default]\naws_access_key_id = AKIDGRAMMAR\n"
             "aws_secret_access_key = grammar-secret\naws_session_token = own-token\n", token="own-token"),
    parse_error("a malformed nested block in [DEFAULT] that a section reads",
                creds_file("[DEFAULT]\ns3 =\n  not nested\n" + CREDS_DEFAULT), "credentials"),
    parse_error("duplicate section in the credentials file",
                creds_file("[default]\naws_access_key_id = AKIDGRAMMAR\n[default]\naws_secret_access_key = s\n"),
                "credentials"),
    parse_error("duplicate key in a section",
                creds_file("[default]\naws_access_key_id = AKIDGRAMMAR\naws_access_key_id = AKIDTWO\n"
                           "aws_secret_access_key = s\n"), "credentials"),
    parse_error("duplicate key differing only in case",
                creds_file("[default]\naws_access_key_id = AKIDGRAMMAR\nAWS_ACCESS_KEY_ID = AKIDTWO\n"
                           "aws_secret_access_key = s\n"), "credentials"),
    parse_error("duplicate section in the config file",
                config_file("[default]\naws_access_key_id = AKIDGRAMMAR\n[default]\naws_secret_access_key = s\n"),
                "config"),
    parse_error("duplicate unrelated section breaks the whole credentials file",
                creds_file("[other]\na = 1\n[other]\nb = 2\n[default]\n" + KEYS), "credentials"),
    parse_error("duplicate section in the config file breaks credentials-file keys",
                steps(creds_file("[default]\n" + KEYS), config_file("[a]\nx = 1\n[a]\ny = 2\n")), "config"),
    parse_error("key before any section", creds_file("aws_access_key_id = AKIDEARLY\n[default]\n" + KEYS),
                "credentials"),
    parse_error("key without a separator", creds_file("[default]\n" + KEYS + "aws_session_token\n"), "credentials"),
    parse_error("key without a name", creds_file("[default]\n" + KEYS + "= value\n"), "credentials"),
    parse_error("unclosed section header", creds_file("[default\n" + KEYS), "credentials"),
    parse_error("empty section header", creds_file("[]\n" + KEYS), "credentials"),
    parse_error("byte order mark in the credentials file", creds_bytes(b"\xef\xbb\xbf[default]\n" + KEYS.encode()),
                "credentials"),
    parse_error("byte order mark in the config file", config_bytes(b"\xef\xbb\xbf[default]\n" + KEYS.encode()),
                "config"),
    parse_error("file that is not UTF-8", creds_bytes(b"[default]\n# caf\xe9\n" + KEYS.encode()), "credentials"),
    Case("CRLF line endings", creds_bytes(b"[default]\r\n" + KEYS.replace("\n", "\r\n").encode()),
         source="shared-credentials-file", access_key="AKIDGRAMMAR", secret="grammar-secret"),
    Case("empty aws_session_token is no token", creds_file("[default]\n" + KEYS + "aws_session_token =\n"),
         source="shared-credentials-file", access_key="AKIDGRAMMAR", secret="grammar-secret", token="",
         credchain=Case("credchain", None, source="shared-credentials-file", access_key="AKIDGRAMMAR",
                        secret="grammar-secret", token=None)),
    Case("empty aws_access_key_id", creds_file("[default]\naws_access_key_id =\naws_secret_access_key = s\n"),
         source="shared-credentials-file", access_key="", secret="s",
         credchain=Case("credchain", None, error_code=SOURCE_FAILED, message_has=["access key id"])),
    Case("credentials-file default without keys falls through to the config file",
         steps(creds_file("[default]\nregion = us-west-2\n"), config_file(CONFIG_DEFAULT)),
         source="config-file", access_key="AKIDCONFIG", secret="config-secret"),
]

# ---- 1b. section headers and profile names ------------------------------------
SECTIONS = [
    not_found("whitespace inside the brackets of a profile header", config_file("[ profile dev ]\n" + KEYS), "dev"),
    nothing("whitespace inside the brackets of [default]", config_file("[ default ]\n" + KEYS)),
    config_ok("two spaces after profile", "[profile  dev]\n" + KEYS, profile="dev"),
    config_ok("tab after profile", "[profile\tdev]\n" + KEYS, profile="dev"),
    config_ok("semicolon comment after a section header", "[profile dev] ; comment\n" + KEYS, profile="dev"),
    config_ok("hash comment after a section header", "[profile dev] # comment\n" + KEYS, profile="dev"),
    not_found("profile name with a space is not a profile", config_file("[profile my dev]\n" + KEYS), "my dev"),
    config_ok("quoted profile name with a space", '[profile "my dev"]\n' + KEYS, profile="my dev"),
    config_ok("non-ASCII profile name in the config file", "[profile développeur]\n" + KEYS, profile="développeur"),
    creds_ok("non-ASCII profile name in the credentials file", "[développeur]\n" + KEYS, profile="développeur"),
    config_ok("[profile default] after [default] wins",
              "[default]\naws_access_key_id = AKIDPLAIN\naws_secret_access_key = plain\n"
              "[profile default]\naws_access_key_id = AKIDPREFIXED\naws_secret_access_key = prefixed\n",
              key="AKIDPREFIXED", secret="prefixed"),
    config_ok("[default] after [profile default] wins",
              "[profile default]\naws_access_key_id = AKIDPREFIXED\naws_secret_access_key = prefixed\n"
              "[default]\naws_access_key_id = AKIDPLAIN\naws_secret_access_key = plain\n",
              key="AKIDPLAIN", secret="plain"),
    config_ok("[profile default] alone is the default profile", "[profile default]\n" + KEYS),
    not_found("[profile x] in the credentials file is not profile x", creds_file("[profile x]\n" + KEYS), "x"),
    creds_ok("[profile x] in the credentials file is a profile named 'profile x'", "[profile x]\n" + KEYS,
             profile="profile x"),
    not_found("bare [x] in the config file is not a profile", config_file("[x]\n" + KEYS), "x"),
    not_found("[profiledev] is not profile dev", config_file("[profiledev]\n" + KEYS), "dev"),
    not_found("[services dev] is not a profile", config_file("[services dev]\n" + KEYS), "dev"),
    nothing("[Default] is not the default profile", creds_file("[Default]\n" + KEYS)),
    not_found("profile names are case-sensitive", creds_file("[dev]\n" + KEYS), "Dev"),
    config_ok("[sso-session default] is not the default profile", "[sso-session default]\nx = 1\n[default]\n" + KEYS),
]


# ---- 2. paths -----------------------------------------------------------------
def alt_file(rel: str, var: str, value: str, text: str = CREDS_DEFAULT, **extra: str):
    def apply(scn: Scenario) -> None:
        scn.write(rel, text)
        scn.env.update({k: v.replace("@HOME", str(scn.home)) for k, v in extra.items()})
        scn.env[var] = value.replace("@HOME", str(scn.home))
    return apply


def directory_as(var: str):
    def apply(scn: Scenario) -> None:
        (scn.home / "a-directory").mkdir()
        scn.env[var] = str(scn.home / "a-directory")
    return apply


def symlink_loop_as(var: str):
    def apply(scn: Scenario) -> None:
        (scn.home / "a-loop").symlink_to(scn.home / "a-loop")
        scn.env[var] = str(scn.home / "a-loop")
    return apply


def unset(*names: str):
    def apply(scn: Scenario) -> None:
        for name in names:
            scn.env.pop(name, None)
    return apply


CREDS = dict(source="shared-credentials-file", access_key="AKIDCREDS", secret="creds-secret")
CONFIG = dict(source="config-file", access_key="AKIDCONFIG", secret="config-secret")
PATHS = [
    Case("~ in AWS_SHARED_CREDENTIALS_FILE", alt_file("alt/creds", "AWS_SHARED_CREDENTIALS_FILE", "~/alt/creds"), **CREDS),
    Case("~ in AWS_CONFIG_FILE", alt_file("alt/cfg", "AWS_CONFIG_FILE", "~/alt/cfg", CONFIG_DEFAULT), **CONFIG),
    Case("$HOME in AWS_SHARED_CREDENTIALS_FILE", alt_file("alt/creds", "AWS_SHARED_CREDENTIALS_FILE", "$HOME/alt/creds"),
         **CREDS),
    Case("$HOME in AWS_CONFIG_FILE", alt_file("alt/cfg", "AWS_CONFIG_FILE", "$HOME/alt/cfg", CONFIG_DEFAULT), **CONFIG),
    Case("${VAR} in AWS_SHARED_CREDENTIALS_FILE",
         alt_file("alt/creds", "AWS_SHARED_CREDENTIALS_FILE", "${CREDS_DIR}/creds", CREDS_DIR="@HOME/alt"), **CREDS),
    Case("${VAR} in AWS_CONFIG_FILE",
         alt_file("alt/cfg", "AWS_CONFIG_FILE", "${CFG_DIR}/cfg", CONFIG_DEFAULT, CFG_DIR="@HOME/alt"), **CONFIG),
    Case("~ and $VAR together", alt_file("alt/creds", "AWS_SHARED_CREDENTIALS_FILE", "~/$SUB/creds", SUB="alt"),
         **CREDS),
    nothing("unset $VAR stays literal", alt_file("alt/creds", "AWS_SHARED_CREDENTIALS_FILE", "$CREDCHAIN_UNSET_VAR/creds")),
    nothing("~user of an unknown user stays literal",
            alt_file("alt/creds", "AWS_SHARED_CREDENTIALS_FILE", "~credchain-no-such-user/alt/creds")),
    Case("missing credentials file", steps(env(AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credchain/credentials"),
                                           config_file(CONFIG_DEFAULT)), **CONFIG),
    Case("missing config file", steps(env(AWS_CONFIG_FILE="/nonexistent/credchain/config"),
                                      creds_file(CREDS_DEFAULT)), **CREDS),
    not_found("missing config file and a named profile",
              steps(env(AWS_CONFIG_FILE="/nonexistent/credchain/config"), creds_file(CREDS_DEFAULT)), "dev"),
    Case("directory as the credentials file", steps(directory_as("AWS_SHARED_CREDENTIALS_FILE"),
                                                    config_file(CONFIG_DEFAULT)), **CONFIG, credchain=Case("credchain", None, error_code=8, message_has=["is not a regular file (it is a directory)"])),
    Case("symbolic-link loop as the credentials file", steps(symlink_loop_as("AWS_SHARED_CREDENTIALS_FILE"),
                                                             config_file(CONFIG_DEFAULT)), **CONFIG,
         credchain=Case("credchain", None, error_code=8,
                        message_has=["cannot be opened (Too many levels of symbolic links (os error 40))"])),
    Case("directory as the config file", steps(directory_as("AWS_CONFIG_FILE"), creds_file(CREDS_DEFAULT)), **CREDS,
         credchain=Case("credchain", None, error_code=8, message_has=["is not a regular file (it is a directory)"])),
    Case("directory as the config file, profile in the credentials file",
         steps(directory_as("AWS_CONFIG_FILE"), creds_file("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = d\n")),
         "dev", source="shared-credentials-file", access_key="AKIDDEV", secret="d", credchain=Case("credchain", None, error_code=8, message_has=["is not a regular file (it is a directory)"])),
    nothing("empty AWS_SHARED_CREDENTIALS_FILE is a path that does not exist",
            steps(creds_file(CREDS_DEFAULT), env(AWS_SHARED_CREDENTIALS_FILE=""))),
    Case("default paths under HOME", steps(creds_file(CREDS_DEFAULT),
                                           unset("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")), **CREDS),
]

CASES = GRAMMAR + SECTIONS + PATHS


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_files_agree_with_botocore(scn: Scenario, case: Case, request: pytest.FixtureRequest) -> None:
    if case.deviation:
        request.node.user_properties.append(("deviation", case.name))
    run_case(scn, case)
