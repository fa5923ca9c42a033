package dev.credchain;

import static dev.credchain.ChainSourcesTest.ENV_KEY;
import static dev.credchain.ChainSourcesTest.ENV_SECRET;
import static dev.credchain.ChainSourcesTest.FILE_KEY;
import static dev.credchain.ChainSourcesTest.FILE_SECRET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CredChain#rdsAuthToken} and {@link CredChain#dsqlAuthToken}, through Java in child JVMs
 * (the credentials and the region come from the environment). Tokens leave a child only as a
 * digest and with their signature and session token redacted; equal digests mean equal strings.
 */
class AuthTokenTest {
  @TempDir Path home;

  /** 2024-08-26T22:00:00Z, the signing time of the published vector and most botocore ones. */
  static final long AUG_26_2024 = 1724709600L;
  /** 2030-01-01T00:00:00Z. */
  static final long JAN_1_2030 = 1893456000L;

  /** The AWS SDKs' published RDS vector: key {@code akid}, secret {@code secret}. */
  static final String PUBLISHED = "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect"
      + "&DBUser=peccy&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=akid%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request"
      + "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Signature=dd0cba843009474347af724090233265628ace491ea17ce3eb3da098b983ad89";

  // The vectors below were produced by botocore 1.43.11 itself (benches/token/gen_vectors.py,
  // which calls the rds client's generate_db_auth_token and the dsql client's
  // generate_db_connect[_admin]_auth_token with the signing clock pinned); they are copied from
  // the generated block of src/token/tests.rs, not from this library's output.

  static final String SESSION_KEY = "ASIAEXAMPLE123456789";
  static final String EXAMPLE_KEY = "AKIDEXAMPLE";
  static final String EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  static final String SESSION_TOKEN =
      "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/def+ghi==";
  static final String ENCODED_SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F"
      + "wEaCXVzLWVhc3QtMSJHMEUCIQ%2Babc%2Fdef%2Bghi%3D%3D";

  /** botocore "session_token_cluster_pg": SESSION_KEY with SESSION_TOKEN, us-west-2, port 5432. */
  static final String BOTOCORE_RDS_SESSION_CLUSTER =
      "mydb.cluster-c1a2b3c4d5e6.us-west-2.rds.amazonaws.com:5432/?Action=connect&DBUser=iam_user"
      + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=ASIAEXAMPLE123456789%2F20240826%2Fus-west-2%2Frds-db%2Faws4_request"
      + "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Security-Token=" + ENCODED_SESSION_TOKEN
      + "&X-Amz-Signature=2526fba50f064b31b32178a013d2ed3b7b6690c52a5005ae96095db8b2ae33f5";

  /** botocore "port_max_reserved_chars_user": EXAMPLE_KEY with SESSION_TOKEN, port 65535. */
  static final String RESERVED_USER = "!*'();:@&=+$,/?#[]% ~-._";
  static final String BOTOCORE_RDS_PORT_MAX =
      "mydb.c1a2b3c4d5e6.eu-central-1.rds.amazonaws.com:65535/?Action=connect"
      + "&DBUser=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25%20~-._"
      + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=AKIDEXAMPLE%2F20240826%2Feu-central-1%2Frds-db%2Faws4_request"
      + "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Security-Token=" + ENCODED_SESSION_TOKEN
      + "&X-Amz-Signature=0b34ddbc66557a9c97e121fb0a4a0abd28fa3f6cb81517847e27c59890219e7e";

  /** botocore "other_time_unicode_user": SESSION_KEY with SESSION_TOKEN, 2030, user José_日本. */
  static final String UNICODE_USER = "Jos\u00e9_\u65e5\u672c";
  static final String BOTOCORE_RDS_UNICODE_2030 =
      "shard.shardgrp-c1a2b3c4d5e6.sa-east-1.rds.amazonaws.com:5432/?Action=connect"
      + "&DBUser=Jos%C3%A9_%E6%97%A5%E6%9C%AC&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=ASIAEXAMPLE123456789%2F20300101%2Fsa-east-1%2Frds-db%2Faws4_request"
      + "&X-Amz-Date=20300101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Security-Token=" + ENCODED_SESSION_TOKEN
      + "&X-Amz-Signature=795543f4f4073c88ec73516ed8bc2064e58299340d07036b1e6a2e4c1a9972f2";

  /** botocore "dsql_admin_session_token": SESSION_KEY with SESSION_TOKEN, 2030, admin. */
  static final String BOTOCORE_DSQL_ADMIN_SESSION_2030 =
      "zyxwvutsrqponmlkjihgfedcba.dsql.eu-west-2.on.aws/?Action=DbConnectAdmin"
      + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=ASIAEXAMPLE123456789%2F20300101%2Feu-west-2%2Fdsql%2Faws4_request"
      + "&X-Amz-Date=20300101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Security-Token=" + ENCODED_SESSION_TOKEN
      + "&X-Amz-Signature=dbfe5fac435b3afc5d707bac0967a434492e57fb904eec1ecee32a50e367499b";

  /** botocore "dsql_connect_session_token": SESSION_KEY with SESSION_TOKEN, not admin. */
  static final String BOTOCORE_DSQL_CONNECT_SESSION =
      "zyxwvutsrqponmlkjihgfedcba.dsql.eu-west-2.on.aws/?Action=DbConnect"
      + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=ASIAEXAMPLE123456789%2F20240826%2Feu-west-2%2Fdsql%2Faws4_request"
      + "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Security-Token=" + ENCODED_SESSION_TOKEN
      + "&X-Amz-Signature=ac1be6730fc6da135772e13412d79a73f7514e42710887bfaa6ef295560687d7";

  /** botocore "dsql_admin": EXAMPLE_KEY without a session token, admin. */
  static final String BOTOCORE_DSQL_ADMIN =
      "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws/?Action=DbConnectAdmin"
      + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=AKIDEXAMPLE%2F20240826%2Fus-east-1%2Fdsql%2Faws4_request"
      + "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Signature=1e4893952c10406470531b6e7ea266fe7661a6c67336a1e905d1672e276300cd";

  /** botocore "dsql_connect": EXAMPLE_KEY without a session token, not admin. */
  static final String BOTOCORE_DSQL_CONNECT =
      "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws/?Action=DbConnect"
      + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=AKIDEXAMPLE%2F20240826%2Fus-east-1%2Fdsql%2Faws4_request"
      + "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Signature=107d329fae9080b91176d08d82bc075d79253e335b830ee09cf7da3c5c0f9949";

  /** botocore "user_with_at_reader": EXAMPLE_KEY without a session token, reader endpoint. */
  static final String BOTOCORE_RDS_READER =
      "mydb.cluster-ro-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:3306/?Action=connect"
      + "&DBUser=user%40x&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=AKIDEXAMPLE%2F20240826%2Feu-west-1%2Frds-db%2Faws4_request"
      + "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
      + "&X-Amz-Signature=060ffe24bc07a156e3144a8bcf571fd0cfd484ca25381e93ef09316d579ed337";

  static final String NO_REGION_MESSAGE = "no region: hostname 'db.example.com' names none and "
      + "neither AWS_REGION, AWS_DEFAULT_REGION nor the profile sets one; pass a region";

  /** The command line of ChildMain's {@code tokens} command. */
  static final class Calls {
    final List<String> args = new ArrayList<>();

    Calls() {
      args.add("tokens");
    }

    Calls rds(String label, String host, int port, String user, String region, String profile,
        long signingTime) {
      add("rds", label, ChildMain.hex(host), String.valueOf(port), ChildMain.hex(user),
          ChildMain.hex(region), ChildMain.hex(profile), String.valueOf(signingTime));
      return this;
    }

    Calls rdsNow(String label, String host, int port, String user) {
      add("rds-now", label, ChildMain.hex(host), String.valueOf(port), ChildMain.hex(user));
      return this;
    }

    Calls dsql(String label, String host, boolean admin, String region, String profile,
        long signingTime) {
      add("dsql", label, ChildMain.hex(host), String.valueOf(admin), ChildMain.hex(region),
          ChildMain.hex(profile), String.valueOf(signingTime));
      return this;
    }

    Calls dsqlNow(String label, String host, boolean admin) {
      add("dsql-now", label, ChildMain.hex(host), String.valueOf(admin));
      return this;
    }

    private void add(String... a) {
      for (String s : a) {
        args.add(s);
      }
    }

    ChildJvm.Result run(ChildJvm child) throws Exception {
      ChildJvm.Result r = child.run(args.toArray(new String[0]));
      assertEquals("ok", r.get("result"));
      return r;
    }
  }

  ChildJvm child(String key, String secret, String token) {
    return new ChildJvm(home)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_SESSION_TOKEN", token);
  }

  /** The child's token equals {@code expected} (digest), and shows the same shape (redacted). */
  static void assertToken(ChildJvm.Result r, String label, String expected) {
    assertEquals("ok", r.get(label + ".result"), () -> label + ": " + r.values.get(label + ".code")
        + ": " + r.values.get(label + ".message"));
    assertEquals(ChildMain.redactToken(expected), r.get(label + ".token_redacted"), label);
    assertEquals(ChildMain.digest(expected), r.get(label + ".token_sha"),
        label + ": the signature or the session token differs");
  }

  static void assertTokenError(ChildJvm.Result r, String label, CredChainException.Code code,
      String message) {
    assertEquals("error", r.get(label + ".result"), () -> label + ": " + r.values);
    assertEquals(code.name(), r.get(label + ".code"), () -> r.get(label + ".message"));
    assertEquals(message, r.get(label + ".message"));
  }

  @Test
  void theSdksPublishedVector() throws Exception {
    // region null: us-east-1 comes from the host name (no AWS_REGION in the child)
    ChildJvm.Result r = new Calls()
        .rds("published", "prod-instance.us-east-1.rds.amazonaws.com", 3306, "peccy", null, null,
            AUG_26_2024)
        .run(child("akid", "secret", null));
    assertToken(r, "published", PUBLISHED);
  }

  @Test
  void botocoreVectorsWithASessionToken() throws Exception {
    ChildJvm.Result r = new Calls()
        .rds("cluster", "mydb.cluster-c1a2b3c4d5e6.us-west-2.rds.amazonaws.com", 5432, "iam_user",
            null, null, AUG_26_2024)
        .rds("unicode", "shard.shardgrp-c1a2b3c4d5e6.sa-east-1.rds.amazonaws.com", 5432,
            UNICODE_USER, "sa-east-1", null, JAN_1_2030)
        .dsql("dsql_admin", "zyxwvutsrqponmlkjihgfedcba.dsql.eu-west-2.on.aws", true, null, null,
            JAN_1_2030)
        .dsql("dsql_connect", "zyxwvutsrqponmlkjihgfedcba.dsql.eu-west-2.on.aws", false,
            "eu-west-2", null, AUG_26_2024)
        .run(child(SESSION_KEY, EXAMPLE_SECRET, SESSION_TOKEN));
    assertToken(r, "cluster", BOTOCORE_RDS_SESSION_CLUSTER);
    assertToken(r, "unicode", BOTOCORE_RDS_UNICODE_2030);
    assertToken(r, "dsql_admin", BOTOCORE_DSQL_ADMIN_SESSION_2030);
    assertToken(r, "dsql_connect", BOTOCORE_DSQL_CONNECT_SESSION);
  }

  @Test
  void botocoreVectorsWithoutASessionTokenAndTheHighestPort() throws Exception {
    ChildJvm.Result r = new Calls()
        .dsql("dsql_admin", "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws", true, null, null,
            AUG_26_2024)
        .dsql("dsql_connect", "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws", false, null,
            null, AUG_26_2024)
        .rds("reader", "mydb.cluster-ro-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com", 3306, "user@x",
            null, null, AUG_26_2024)
        .run(child(EXAMPLE_KEY, EXAMPLE_SECRET, null));
    assertToken(r, "dsql_admin", BOTOCORE_DSQL_ADMIN);
    assertToken(r, "dsql_connect", BOTOCORE_DSQL_CONNECT);
    assertToken(r, "reader", BOTOCORE_RDS_READER);

    // Port 65535 must reach the C uint16_t as 65535, not sign-extended as a Java short would be.
    ChildJvm.Result max = new Calls()
        .rds("port_max", "mydb.c1a2b3c4d5e6.eu-central-1.rds.amazonaws.com", 65535, RESERVED_USER,
            "eu-central-1", null, AUG_26_2024)
        .run(child(EXAMPLE_KEY, EXAMPLE_SECRET, SESSION_TOKEN));
    assertToken(max, "port_max", BOTOCORE_RDS_PORT_MAX);
  }

  @Test
  void noRegionIsAnInvalidArgumentWithTheLibrarysMessage() throws Exception {
    ChildJvm.Result r = new Calls()
        .rds("rds", "db.example.com", 5432, "app", null, null, AUG_26_2024)
        .rdsNow("rds_now", "db.example.com", 5432, "app")
        .dsql("dsql", "db.example.com", false, null, null, AUG_26_2024)
        .rds("explicit", "db.example.com", 5432, "app", "us-east-1", null, AUG_26_2024)
        .rds("bad_time", "db.example.com", 5432, "app", "us-east-1", null, -1)
        .run(child(ENV_KEY, ENV_SECRET, null));
    assertTokenError(r, "rds", CredChainException.Code.INVALID_ARGUMENT, NO_REGION_MESSAGE);
    assertTokenError(r, "rds_now", CredChainException.Code.INVALID_ARGUMENT, NO_REGION_MESSAGE);
    assertTokenError(r, "dsql", CredChainException.Code.INVALID_ARGUMENT, NO_REGION_MESSAGE);
    assertEquals("ok", r.get("explicit.result"), () -> r.get("explicit.message"));
    assertTrue(r.get("explicit.token_redacted").startsWith("db.example.com:5432/?Action=connect"
        + "&DBUser=app&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + ENV_KEY
        + "%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request&"), r.get("explicit.token_redacted"));
    assertEquals("error", r.get("bad_time.result"));
    assertEquals("INVALID_ARGUMENT", r.get("bad_time.code"));
    assertTrue(r.get("bad_time.message").startsWith("signing_time -1 is out of range"),
        r.get("bad_time.message"));
    assertFalse(r.stdout.contains(ENV_SECRET) || r.stderr.contains(ENV_SECRET));
  }

  @Test
  void theRegionFallsBackToTheEnvironment() throws Exception {
    ChildJvm.Result r = new Calls()
        .rds("env_region", "db.example.com", 5432, "app", null, null, AUG_26_2024)
        .rds("host_wins", "mydb.c1a2b3c4d5e6.eu-central-1.rds.amazonaws.com", 5432, "app", null,
            null, AUG_26_2024)
        .run(child(ENV_KEY, ENV_SECRET, null).env("AWS_REGION", "ap-south-2"));
    assertTrue(r.get("env_region.token_redacted").contains("%2Fap-south-2%2Frds-db%2F"),
        r.get("env_region.token_redacted"));
    assertTrue(r.get("host_wins.token_redacted").contains("%2Feu-central-1%2Frds-db%2F"),
        r.get("host_wins.token_redacted"));
  }

  @Test
  void aNamedProfileSignsWithItsOwnCredentials() throws Exception {
    ChildJvm c = child(ENV_KEY, ENV_SECRET, null);
    c.file(".aws/credentials", "[dev]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    c.file(".aws/config", "[profile dev]\nregion = eu-north-1\n");
    ChildJvm.Result r = new Calls()
        .rds("dev", "db.example.com", 3306, "app", null, "dev", AUG_26_2024)
        .dsql("dev_dsql", "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws", true, null, "dev",
            AUG_26_2024)
        .rds("default", "db.example.com", 3306, "app", "us-east-1", null, AUG_26_2024)
        .rds("missing", "db.example.com", 3306, "app", "us-east-1", "nope", AUG_26_2024)
        .run(c);
    // the profile's key, and its region for a host name that names none
    assertTrue(r.get("dev.token_redacted").contains("X-Amz-Credential=" + FILE_KEY
        + "%2F20240826%2Feu-north-1%2Frds-db%2F"), r.get("dev.token_redacted"));
    assertTrue(r.get("dev_dsql.token_redacted").contains("X-Amz-Credential=" + FILE_KEY
        + "%2F20240826%2Fus-east-1%2Fdsql%2F"), r.get("dev_dsql.token_redacted"));
    assertTrue(r.get("default.token_redacted").contains("X-Amz-Credential=" + ENV_KEY + "%2F"),
        r.get("default.token_redacted"));
    assertEquals("error", r.get("missing.result"));
    assertEquals("PROFILE_NOT_FOUND", r.get("missing.code"), () -> r.get("missing.message"));
  }

  @Test
  void tokensSignedNowAreCurrentAndReused() throws Exception {
    Instant before = Instant.now().minusSeconds(5);
    ChildJvm.Result r = new Calls()
        .rdsNow("first", "mydb.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com", 5432, "app")
        .rdsNow("second", "mydb.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com", 5432, "app")
        .rdsNow("other_user", "mydb.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com", 5432, "app2")
        .dsqlNow("dsql", "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws", false)
        .run(child(ENV_KEY, ENV_SECRET, null));
    Instant after = Instant.now().plusSeconds(5);
    assertEquals("ok", r.get("first.result"), () -> r.get("first.message"));
    assertEquals(r.get("first.token_sha"), r.get("second.token_sha"), "the token was not reused");
    assertFalse(r.get("first.token_sha").equals(r.get("other_user.token_sha")));
    for (String label : new String[] {"first", "dsql"}) {
      Matcher m = Pattern.compile("X-Amz-Date=(\\d{8}T\\d{6}Z)").matcher(r.get(label + ".token_redacted"));
      assertTrue(m.find(), r.get(label + ".token_redacted"));
      Instant signed = LocalDateTime.parse(m.group(1),
          DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")).toInstant(ZoneOffset.UTC);
      assertTrue(!signed.isBefore(before) && !signed.isAfter(after),
          label + " signed at " + signed + ", not between " + before + " and " + after);
    }
    assertTrue(r.get("dsql.token_redacted").startsWith(
        "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws/?Action=DbConnect&"),
        r.get("dsql.token_redacted"));
  }
}
