package dev.credchain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each static source of the chain, resolved through Java in a child JVM with its own HOME and a
 * clean environment (the environment is process-wide and the library caches per process).
 * Secrets cross the process boundary only as digests, and no assertion message shows one.
 */
class ChainSourcesTest {
  @TempDir Path home;

  // Fixture credentials: made up, in the shape of AWS's documented examples.
  static final String ENV_KEY = "AKIAENVEXAMPLE000001";
  static final String ENV_SECRET = "envSecretKeyEXAMPLE/K7MDENG/bPxRfiCYzzzzzzz";
  static final String ENV_TOKEN = "envSessionTokenEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ";
  static final String FILE_KEY = "AKIAFILEEXAMPLE00002";
  static final String FILE_SECRET = "fileSecretKeyEXAMPLE/K7MDENG/bPxRfiCYyyyyyyy";
  static final String FILE_TOKEN = "fileSessionTokenEXAMPLE/////////wEaCXVzLWVhc3QtMSJHMEUCIQ";

  static void assertCredentials(ChildJvm.Result r, String source, String key, String secret,
      String token) {
    assertEquals("ok", r.get("result"), () -> "child failed: " + r.values);
    assertEquals(source, r.get("source"));
    assertEquals(key, r.get("access_key_id"));
    assertEquals(ChildMain.digest(secret), r.get("secret_sha"), "secret (digest) differs");
    assertEquals(ChildMain.digest(token), r.get("token_sha"), "session token (digest) differs");
    String shown = r.get("to_string");
    assertTrue(shown.startsWith("Credentials[accessKeyId=" + Credentials.maskAccessKeyId(key) + ", "),
        shown);
    assertFalse(shown.contains(key), "toString shows the whole access key id");
    assertFalse(shown.contains(secret), "toString shows the secret");
    if (token != null) {
      assertFalse(shown.contains(token), "toString shows the token");
    }
  }

  static void assertError(ChildJvm.Result r, CredChainException.Code code) {
    assertEquals("error", r.get("result"), () -> "expected " + code + ": " + r.values);
    assertEquals(code.name(), r.get("code"), () -> r.get("message"));
    assertEquals(String.valueOf(code.value()), r.get("native_code"));
  }

  ChildJvm child() {
    return new ChildJvm(home);
  }

  static String inTwoHours() {
    return Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  @Test
  void env() throws Exception {
    String expiry = inTwoHours();
    ChildJvm.Result r = child()
        .env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
        .env("AWS_SESSION_TOKEN", ENV_TOKEN)
        .env("AWS_ACCOUNT_ID", "111122223333")
        .env("AWS_CREDENTIAL_EXPIRATION", expiry)
        .run("get");
    assertCredentials(r, "env", ENV_KEY, ENV_SECRET, ENV_TOKEN);
    assertEquals(expiry, r.get("expiration"));
    assertEquals("111122223333", r.get("account_id"));
  }

  @Test
  void envSecurityTokenBeatsSessionToken() throws Exception {
    ChildJvm.Result r = child()
        .env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
        .env("AWS_SECURITY_TOKEN", FILE_TOKEN)
        .env("AWS_SESSION_TOKEN", ENV_TOKEN)
        .run("get");
    assertCredentials(r, "env", ENV_KEY, ENV_SECRET, FILE_TOKEN);
    assertEquals("none", r.get("expiration"));
    assertEquals("none", r.get("account_id"));
  }

  @Test
  void envWithoutSecretIsPartial() throws Exception {
    ChildJvm.Result r = child().env("AWS_ACCESS_KEY_ID", ENV_KEY).run("get");
    assertError(r, CredChainException.Code.PARTIAL_CREDENTIALS);
    assertTrue(r.get("message").contains("AWS_SECRET_ACCESS_KEY"), r.get("message"));
  }

  @Test
  void sharedCredentialsFile() throws Exception {
    ChildJvm c = child();
    c.file(".aws/credentials", "[default]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\naws_session_token = " + FILE_TOKEN + "\n");
    assertCredentials(c.run("get"), "shared-credentials-file", FILE_KEY, FILE_SECRET, FILE_TOKEN);
  }

  @Test
  void explicitProfileSkipsEnv() throws Exception {
    ChildJvm c = child()
        .env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET);
    c.file(".aws/credentials", "[dev]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    assertCredentials(c.run("get", "dev"), "shared-credentials-file", FILE_KEY, FILE_SECRET, null);
  }

  @Test
  void configFile() throws Exception {
    ChildJvm c = child();
    c.file(".aws/config", "[default]\nregion = us-east-1\n\n[profile dev]\naws_access_key_id = "
        + FILE_KEY + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    assertCredentials(c.run("get", "dev"), "config-file", FILE_KEY, FILE_SECRET, null);
  }

  @Test
  void customProcess() throws Exception {
    ChildJvm c = child();
    String expiry = inTwoHours();
    Path script = c.file("bin/creds.sh", "#!/bin/sh\ncat <<'JSON'\n{\"Version\": 1, \"AccessKeyId\": \""
        + FILE_KEY + "\", \"SecretAccessKey\": \"" + FILE_SECRET + "\", \"SessionToken\": \""
        + FILE_TOKEN + "\", \"Expiration\": \"" + expiry + "\"}\nJSON\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    c.file(".aws/config", "[default]\ncredential_process = " + script + "\n");
    ChildJvm.Result r = c.run("get");
    assertCredentials(r, "custom-process", FILE_KEY, FILE_SECRET, FILE_TOKEN);
    assertEquals(expiry, r.get("expiration"));
  }

  @Test
  void ec2CredentialsFile() throws Exception {
    ChildJvm c = child();
    Path legacy = c.file("legacy/aws-credentials.txt",
        "AWSAccessKeyId=" + FILE_KEY + "\nAWSSecretKey=" + FILE_SECRET + "\n");
    c.env("AWS_CREDENTIAL_FILE", legacy.toString());
    assertCredentials(c.run("get"), "ec2-credentials-file", FILE_KEY, FILE_SECRET, null);
  }

  @Test
  void botoConfig() throws Exception {
    ChildJvm c = child();
    Path boto = c.file("boto/boto.cfg", "[Credentials]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    c.env("BOTO_CONFIG", boto.toString());
    assertCredentials(c.run("get"), "boto-config", FILE_KEY, FILE_SECRET, null);
  }

  @Test
  void explicitProfileThatDoesNotExist() throws Exception {
    ChildJvm c = child();
    c.file(".aws/config", "[default]\nregion = us-east-1\n");
    ChildJvm.Result r = c.run("get", "no-such-profile");
    assertError(r, CredChainException.Code.PROFILE_NOT_FOUND);
    assertTrue(r.get("message").contains("no-such-profile"), r.get("message"));
  }

  @Test
  void awsProfileThatDoesNotExist() throws Exception {
    ChildJvm c = child().env("AWS_PROFILE", "missing-from-env");
    c.file(".aws/credentials", "[default]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    ChildJvm.Result r = c.run("get");
    assertError(r, CredChainException.Code.PROFILE_NOT_FOUND);
    assertTrue(r.get("message").contains("missing-from-env"), r.get("message"));
  }

  @Test
  void nothingAnywhereIsNoCredentials() throws Exception {
    assertError(child().run("get"), CredChainException.Code.NO_CREDENTIALS);
  }

  @Test
  void aFailingCredentialProcessIsSourceFailedNamingTheSource() throws Exception {
    ChildJvm c = child();
    c.file(".aws/config", "[default]\ncredential_process = /bin/false\n");
    ChildJvm.Result r = c.run("get");
    assertError(r, CredChainException.Code.SOURCE_FAILED);
    assertEquals("custom-process", r.get("error_source"));
  }

  @Test
  void aMalformedCredentialsFileIsInvalidConfig() throws Exception {
    ChildJvm c = child();
    c.file(".aws/credentials", "[default\naws_access_key_id = " + FILE_KEY + "\n");
    ChildJvm.Result r = c.run("get");
    assertError(r, CredChainException.Code.INVALID_CONFIG);
    assertTrue(r.get("message").contains(".aws/credentials"), r.get("message"));
  }

  @Test
  void anEmptyProfileNameIsRejectedByTheLibrary() throws Exception {
    ChildJvm c = child();
    c.file(".aws/credentials", "[default]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    ChildJvm.Result r = c.run("get", "");
    assertError(r, CredChainException.Code.INVALID_ARGUMENT);
    assertEquals("none", r.get("error_source"));
  }
}
