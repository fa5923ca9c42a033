package dev.credchain;

import static dev.credchain.ChainSourcesTest.ENV_KEY;
import static dev.credchain.ChainSourcesTest.ENV_SECRET;
import static dev.credchain.ChainSourcesTest.ENV_TOKEN;
import static dev.credchain.ChainSourcesTest.FILE_KEY;
import static dev.credchain.ChainSourcesTest.FILE_SECRET;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CredChainCredentialsProvider through the SDK's types, and the JDBC wrapper's handler hook. */
class SdkProviderTest {
  @TempDir Path home;

  static final String DEV_KEY = "AKIADEVEXAMPLE000003";
  static final String DEV_SECRET = "devSecretKeyEXAMPLE/K7MDENG/bPxRfiCYxxxxxxxx";

  static void assertSdk(ChildJvm.Result r, String cls, String source, String key, String secret,
      String token) {
    assertEquals(cls, r.get("sdk_class"));
    assertEquals("CredChain:" + source, r.get("sdk_provider_name"));
    assertEquals(key, r.get("sdk_access_key_id"));
    assertEquals(ChildMain.digest(secret), r.get("sdk_secret_sha"), "secret (digest) differs");
    assertEquals(ChildMain.digest(token), r.get("sdk_token_sha"), "token (digest) differs");
  }

  @Test
  void sessionCredentialsWithExpiryAndAccount() throws Exception {
    String expiry = ChainSourcesTest.inTwoHours();
    ChildJvm.Result r = new ChildJvm(home)
        .env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
        .env("AWS_SESSION_TOKEN", ENV_TOKEN)
        .env("AWS_ACCOUNT_ID", "444455556666")
        .env("AWS_CREDENTIAL_EXPIRATION", expiry)
        .run("provider");
    assertSdk(r, "AwsSessionCredentials", "env", ENV_KEY, ENV_SECRET, ENV_TOKEN);
    assertEquals(expiry, r.get("sdk_expiration"));
    assertEquals("444455556666", r.get("sdk_account_id"));
    assertEquals("true", r.get("same_object_when_warm"));
  }

  @Test
  void basicCredentialsForANamedProfile() throws Exception {
    ChildJvm c = new ChildJvm(home);
    c.file(".aws/credentials", "[dev]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    ChildJvm.Result r = c.run("provider", "dev");
    assertSdk(r, "AwsBasicCredentials", "shared-credentials-file", FILE_KEY, FILE_SECRET, null);
    assertEquals("none", r.get("sdk_expiration"));
  }

  @Test
  void failuresAreSdkClientExceptionsCarryingTheCode() throws Exception {
    ChildJvm c = new ChildJvm(home);
    c.file(".aws/config", "[default]\nregion = us-east-1\n");
    ChildJvm.Result r = c.run("provider", "no-such-profile");
    assertEquals("error", r.get("result"));
    assertEquals("PROFILE_NOT_FOUND", r.get("code"));
  }

  ChildJvm jdbcChild() throws Exception {
    ChildJvm c = new ChildJvm(home);
    c.file(".aws/credentials", "[default]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n\n[dev]\naws_access_key_id = "
        + DEV_KEY + "\naws_secret_access_key = " + DEV_SECRET + "\n");
    return c;
  }

  static void assertJdbc(ChildJvm.Result r, String key, String secret) {
    assertEquals(CredChainCredentialsProvider.class.getName(), r.get("provider_class"));
    assertSdk(r, "AwsBasicCredentials", "shared-credentials-file", key, secret, null);
    assertEquals("software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
        r.get("provider_class_after_uninstall"));
  }

  @Test
  void jdbcWrapperHonoursAwsProfile() throws Exception {
    assertJdbc(jdbcChild().run("jdbc", "install", "dev"), DEV_KEY, DEV_SECRET);
  }

  @Test
  void jdbcWrapperWithoutAwsProfileUsesTheDefaultProfile() throws Exception {
    assertJdbc(jdbcChild().run("jdbc", "install", "-"), FILE_KEY, FILE_SECRET);
  }

  @Test
  void jdbcWrapperReadmeOneLiner() throws Exception {
    assertJdbc(jdbcChild().run("jdbc", "readme", "dev"), DEV_KEY, DEV_SECRET);
    assertJdbc(jdbcChild().run("jdbc", "readme", ""), FILE_KEY, FILE_SECRET);
  }
}
