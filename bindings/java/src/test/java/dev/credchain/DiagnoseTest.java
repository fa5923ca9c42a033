package dev.credchain;

import static dev.credchain.ChainSourcesTest.ENV_KEY;
import static dev.credchain.ChainSourcesTest.ENV_SECRET;
import static dev.credchain.ChainSourcesTest.ENV_TOKEN;
import static dev.credchain.ChainSourcesTest.FILE_KEY;
import static dev.credchain.ChainSourcesTest.FILE_SECRET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CredChain#diagnose(String)} in child JVMs: the raw JSON of {@code credchain_diagnose}
 * (docs/doctor-json.md), which masks the access key id and never carries a secret. Assertion
 * messages never show the document, so a leaked secret would not be printed either.
 */
class DiagnoseTest {
  @TempDir Path home;

  /** Reverses {@link ChildMain#out}'s escaping of backslashes and line breaks. */
  static String unescape(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        sb.append(n == 'n' ? '\n' : n == 'r' ? '\r' : n);
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  static String json(ChildJvm child, String... profile) throws Exception {
    String[] args = new String[profile.length + 1];
    args[0] = "diagnose";
    System.arraycopy(profile, 0, args, 1, profile.length);
    ChildJvm.Result r = child.run(args);
    assertEquals("ok", r.get("result"), () -> r.get("code") + ": " + r.get("message"));
    return unescape(r.get("json"));
  }

  /** A JSON member {@code "name": value}, whatever the whitespace (the document is pretty-printed). */
  static void assertMember(String json, String name, String valueRegex) {
    assertTrue(Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*" + valueRegex + "\\s*[,}\\]]")
        .matcher(json).find(), () -> "no \"" + name + "\": " + valueRegex + " in the document");
  }

  static String masked(String accessKeyId) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < accessKeyId.length() - 4; i++) {
      sb.append("\\*");
    }
    return sb.append(accessKeyId.substring(accessKeyId.length() - 4)).append('"').toString();
  }

  @Test
  void staticCredentialsAreMaskedAndTheSecretNeverShown() throws Exception {
    ChildJvm c = new ChildJvm(home);
    c.file(".aws/credentials", "[default]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    String json = json(c);
    assertTrue(json.startsWith("{") && json.trim().endsWith("}"), "not a JSON object");
    assertMember(json, "schema_version", "1");
    assertTrue(json.replaceAll("\\s", "").contains("\"schema_version\":1,"));
    assertMember(json, "ok", "true");
    assertMember(json, "winner", "\"shared-credentials-file\"");
    assertMember(json, "access_key_id", masked(FILE_KEY)); // the last four characters only
    assertFalse(json.contains(FILE_KEY), "the document shows the whole access key id");
    assertFalse(json.contains(FILE_SECRET), "the document shows the secret");
  }

  @Test
  void environmentCredentialsNeverShowTheSecretOrTheSessionToken() throws Exception {
    String json = json(new ChildJvm(home)
        .env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
        .env("AWS_SESSION_TOKEN", ENV_TOKEN), "-");
    assertMember(json, "schema_version", "1");
    assertMember(json, "winner", "\"env\"");
    assertMember(json, "access_key_id", masked(ENV_KEY));
    assertMember(json, "session_token", "true");
    assertFalse(json.contains(ENV_KEY), "the document shows the whole access key id");
    assertFalse(json.contains(ENV_SECRET), "the document shows the secret");
    assertFalse(json.contains(ENV_TOKEN), "the document shows the session token");
  }

  @Test
  void aNamedProfileAndNoCredentialsAreStillADiagnosis() throws Exception {
    ChildJvm c = new ChildJvm(home);
    c.file(".aws/credentials", "[dev]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    String dev = json(c, "dev");
    assertMember(dev, "name", "\"dev\"");
    assertMember(dev, "origin", "\"caller\"");
    assertMember(dev, "ok", "true");
    assertFalse(dev.contains(FILE_SECRET), "the document shows the secret");
    // the default profile has nothing: a document with "ok": false, not an exception
    String none = json(new ChildJvm(home));
    assertMember(none, "schema_version", "1");
    assertMember(none, "ok", "false");
    assertMember(none, "winner", "null");
  }
}
