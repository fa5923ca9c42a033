package dev.credchain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Tests that never resolve credentials in this JVM (its environment is the developer's): argument
 * checks, value types, codes, loading and the version.
 */
class InProcessTest {
  static CredChainException invalid(Executable call, String message) {
    long before = CredChain.NATIVE_GETS.get();
    CredChainException e = assertThrows(CredChainException.class, call);
    assertEquals(CredChainException.Code.INVALID_ARGUMENT, e.code());
    assertEquals(1, e.nativeCode());
    assertEquals(message, e.getMessage());
    assertEquals(Optional.empty(), e.source());
    assertEquals(before, CredChain.NATIVE_GETS.get(), "a bad argument reached the library");
    return e;
  }

  @Test
  void embeddedNulIsRejectedBeforeTheLibrary() {
    invalid(() -> CredChain.getCredentials("dev\0prod"), "profile contains a NUL character at index 3");
    invalid(() -> CredChain.getCredentials("\0"), "profile contains a NUL character at index 0");
    invalid(() -> CredChain.invalidate("x\0"), "profile contains a NUL character at index 1");
  }

  @Test
  void unpairedSurrogatesAreRejectedBeforeTheLibrary() {
    invalid(() -> CredChain.getCredentials("ab\uD800"),
        "profile contains an unpaired surrogate U+D800 at index 2");
    invalid(() -> CredChain.getCredentials("\uDC00x"),
        "profile contains an unpaired surrogate U+DC00 at index 0");
    invalid(() -> CredChain.getCredentials("a\uDE00\uD83D"),
        "profile contains an unpaired surrogate U+DE00 at index 1");
    invalid(() -> CredChain.getCredentials("\uD83D\uD83D\uDE00"),
        "profile contains an unpaired surrogate U+D83D at index 0");
    invalid(() -> CredChain.invalidate("\uDFFF"),
        "profile contains an unpaired surrogate U+DFFF at index 0");
  }

  @Test
  void aTokenFingerprintIsTheStartOfItsSha256() throws Exception {
    String token = "db.example.us-east-1.rds.amazonaws.com:5432/?Action=connect&X-Amz-Signature=00";
    byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
        .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    StringBuilder hex = new StringBuilder("tok-");
    for (int i = 0; i < 8; i++) {
      hex.append(String.format("%02x", digest[i]));
    }
    assertEquals(hex.toString(), CredChain.tokenFingerprint(token));
    invalid(() -> CredChain.tokenFingerprint(null), "token must not be null");
  }

  @Test
  void tokenAndDiagnoseArgumentsAreCheckedBeforeTheLibrary() {
    String host = "mydb.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com";
    for (int port : new int[] {0, -1, 65536, Integer.MIN_VALUE}) {
      invalid(() -> CredChain.rdsAuthToken(host, port, "app"),
          "port " + port + " is not between 1 and 65535");
    }
    invalid(() -> CredChain.rdsAuthToken(null, 5432, "app"), "hostname must not be null");
    invalid(() -> CredChain.rdsAuthToken(host, 5432, null), "username must not be null");
    invalid(() -> CredChain.rdsAuthToken("db\0x", 5432, "app"),
        "hostname contains a NUL character at index 2");
    invalid(() -> CredChain.rdsAuthToken(host, 5432, "app\uDC00"),
        "username contains an unpaired surrogate U+DC00 at index 3");
    invalid(() -> CredChain.rdsAuthToken(host, 5432, "app", "us-east-1\0", null, 0),
        "region contains a NUL character at index 9");
    invalid(() -> CredChain.rdsAuthToken(host, 5432, "app", null, "\uD800dev", 0),
        "profile contains an unpaired surrogate U+D800 at index 0");
    String dsql = "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws";
    invalid(() -> CredChain.dsqlAuthToken(null, true), "hostname must not be null");
    invalid(() -> CredChain.dsqlAuthToken("\0", false), "hostname contains a NUL character at index 0");
    invalid(() -> CredChain.dsqlAuthToken(dsql, true, "eu\uD83D", null, 0),
        "region contains an unpaired surrogate U+D83D at index 2");
    invalid(() -> CredChain.dsqlAuthToken(dsql, false, null, "dev\0", 0),
        "profile contains a NUL character at index 3");
    invalid(() -> CredChain.diagnose("dev\0prod"), "profile contains a NUL character at index 3");
    invalid(() -> CredChain.diagnose("\uDBFF"),
        "profile contains an unpaired surrogate U+DBFF at index 0");
  }

  @Test
  void theProviderWrapsTheSameCheck() {
    SdkClientException e = assertThrows(SdkClientException.class,
        () -> CredChainCredentialsProvider.create("a\0b").resolveCredentials());
    assertTrue(e.getCause() instanceof CredChainException);
    assertEquals(CredChainException.Code.INVALID_ARGUMENT, ((CredChainException) e.getCause()).code());
    assertEquals("Unable to load credentials from credchain for profile a\0b: INVALID_ARGUMENT: "
        + "profile contains a NUL character at index 1", e.getMessage());
  }

  @Test
  void validStringsAreEncodedAsNulTerminatedUtf8() {
    assertArrayEquals(new byte[] {'d', 'e', 'v', 0}, CStrings.encode("profile", "dev"));
    assertArrayEquals(new byte[] {0}, CStrings.encode("profile", ""));
    // U+00E9, then U+1F600 as a surrogate pair
    assertArrayEquals(new byte[] {(byte) 0xC3, (byte) 0xA9, (byte) 0xF0, (byte) 0x9F, (byte) 0x98,
        (byte) 0x80, 0}, CStrings.encode("profile", "\u00e9\uD83D\uDE00"));
  }

  @Test
  void codesMirrorTheCNumbers() {
    String[] names = {"OK", "INVALID_ARGUMENT", "NO_CREDENTIALS", "PROFILE_NOT_FOUND",
        "PARTIAL_CREDENTIALS", "SOURCE_FAILED", "TIMEOUT", "INTERNAL", "INVALID_CONFIG",
        "UNSUPPORTED", "EXHAUSTED"};
    for (int i = 0; i < names.length; i++) {
      assertEquals(names[i], CredChainException.Code.fromNative(i).name());
      assertEquals(i, CredChainException.Code.valueOf(names[i]).value());
    }
    assertSame(CredChainException.Code.UNKNOWN, CredChainException.Code.fromNative(11));
    assertSame(CredChainException.Code.UNKNOWN, CredChainException.Code.fromNative(-1));
    CredChainException future = new CredChainException(42, "new failure", "sso", null);
    assertEquals(CredChainException.Code.UNKNOWN, future.code());
    assertEquals(42, future.nativeCode());
    assertEquals(Optional.of("sso"), future.source());
    assertEquals("dev.credchain.CredChainException: UNKNOWN(42) [sso]: new failure", future.toString());
    assertTrue(RuntimeException.class.isAssignableFrom(CredChainException.class));
  }

  @Test
  void credentialsNeverShowSecrets() {
    Credentials c = new Credentials("AKIDEXAMPLE", "s3cr3t-EXAMPLE", "t0ken-EXAMPLE", "123456789012",
        "assume-role", 1_900_000_000L);
    String s = c.toString();
    assertFalse(s.contains("s3cr3t-EXAMPLE"));
    assertFalse(s.contains("t0ken-EXAMPLE"));
    assertEquals("Credentials[accessKeyId=*******MPLE, secretAccessKey=<redacted>, "
        + "sessionToken=<redacted>, source=assume-role, expiration=2030-03-17T17:46:40Z, "
        + "accountId=123456789012]", s);
    assertEquals(Optional.of(Instant.ofEpochSecond(1_900_000_000L)), c.expiration());
    assertEquals(Optional.of("t0ken-EXAMPLE"), c.sessionToken());
    assertEquals(Optional.of("123456789012"), c.accountId());

    Credentials plain = new Credentials("AKIDEXAMPLE", "s3cr3t-EXAMPLE", null, null, "env", 0);
    assertEquals(Optional.empty(), plain.expiration());
    assertEquals(Optional.empty(), plain.sessionToken());
    assertEquals(Optional.empty(), plain.accountId());
    assertEquals("Credentials[accessKeyId=*******MPLE, secretAccessKey=<redacted>, "
        + "sessionToken=<none>, source=env, expiration=<never>, accountId=<unknown>]",
        plain.toString());
    assertEquals(plain, new Credentials("AKIDEXAMPLE", "s3cr3t-EXAMPLE", null, null, "env", 0));
    assertNotEquals(plain, c);
  }

  @Test
  void theAccessKeyIdIsMaskedAsPythonMasksIt() {
    // bindings/python credchain._credentials.mask_access_key: the last four characters (code
    // points) stay, every other one is a '*'; a key id of four or fewer is all stars.
    assertEquals("****************MPLE", Credentials.maskAccessKeyId("AKIAIOSFODNN7EXAMPLE"));
    assertEquals("*WXYZ", Credentials.maskAccessKeyId("AWXYZ"));
    assertEquals("****", Credentials.maskAccessKeyId("WXYZ"));
    assertEquals("**", Credentials.maskAccessKeyId("AB"));
    assertEquals("", Credentials.maskAccessKeyId(""));
    assertEquals("****\uD83D\uDE00xyz", Credentials.maskAccessKeyId("AKIA\uD83D\uDE00xyz"));
    Credentials c = new Credentials("AKIAIOSFODNN7EXAMPLE", "s3cr3t-EXAMPLE", null, null, "env", 0);
    assertEquals("Credentials[accessKeyId=****************MPLE, secretAccessKey=<redacted>, "
        + "sessionToken=<none>, source=env, expiration=<never>, accountId=<unknown>]",
        c.toString());
  }

  @Test
  void libraryLevelsMapToJavaUtilLoggingLevels() {
    // Routine events (INFO) and failures the caller gets as an exception (ERROR) are FINE, so
    // the JVM's default console handler (INFO) prints neither; warnings stay WARNING.
    assertEquals(java.util.logging.Level.FINE,
        CredChainNative.Logging.julLevel(CredChainNative.Logging.LOG_ERROR));
    assertEquals(java.util.logging.Level.WARNING,
        CredChainNative.Logging.julLevel(CredChainNative.Logging.LOG_WARN));
    assertEquals(java.util.logging.Level.FINE,
        CredChainNative.Logging.julLevel(CredChainNative.Logging.LOG_INFO));
    assertEquals(java.util.logging.Level.FINER,
        CredChainNative.Logging.julLevel(CredChainNative.Logging.LOG_DEBUG));
    assertEquals(java.util.logging.Level.FINEST,
        CredChainNative.Logging.julLevel(CredChainNative.Logging.LOG_TRACE));
    java.util.logging.Logger probe = java.util.logging.Logger.getAnonymousLogger();
    java.util.logging.Level[] levels = {java.util.logging.Level.OFF,
        java.util.logging.Level.SEVERE, java.util.logging.Level.WARNING,
        java.util.logging.Level.INFO, java.util.logging.Level.CONFIG,
        java.util.logging.Level.FINE, java.util.logging.Level.FINER,
        java.util.logging.Level.FINEST};
    int[] wanted = {CredChainNative.Logging.LOG_OFF, CredChainNative.Logging.LOG_OFF,
        CredChainNative.Logging.LOG_WARN, CredChainNative.Logging.LOG_WARN,
        CredChainNative.Logging.LOG_WARN, CredChainNative.Logging.LOG_INFO,
        CredChainNative.Logging.LOG_DEBUG, CredChainNative.Logging.LOG_TRACE};
    for (int i = 0; i < levels.length; i++) {
      probe.setLevel(levels[i]);
      assertEquals(wanted[i], CredChainNative.Logging.levelFor(probe), levels[i].getName());
    }
  }

  @Test
  void providerNamesAndSharing() {
    assertSame(CredChainCredentialsProvider.create(), CredChainCredentialsProvider.create(null));
    assertSame(CredChainCredentialsProvider.create(), CredChainCredentialsProvider.create(""));
    assertSame(CredChainCredentialsProvider.create("dev"), CredChainCredentialsProvider.create("dev"));
    assertEquals("dev", CredChainCredentialsProvider.create("dev").profile());
    assertEquals("CredChainCredentialsProvider(profile=<default>)",
        CredChainCredentialsProvider.create().toString());
    Credentials c = new Credentials("AKIDEXAMPLE", "s3cr3t-EXAMPLE", null, null, "boto-config", 0);
    assertEquals(Optional.of("CredChain:boto-config"),
        CredChainCredentialsProvider.toSdk(c).providerName());
  }

  @Test
  void versionAndLocationFromTheLibraryUnderTest() {
    assertEquals("0.1.0", CredChain.version());
    assertTrue(CredChain.libraryLocation().startsWith(new File(ChildJvm.library()).getAbsolutePath()),
        CredChain.libraryLocation());
  }

  @Test
  void extractedCopiesArePrivateAndUnique(@TempDir Path dir) throws Exception {
    String old = System.getProperty(NativeLoader.TMPDIR_PROPERTY);
    System.setProperty(NativeLoader.TMPDIR_PROPERTY, dir.toString());
    try {
      Path a = NativeLoader.createPrivateTempFile();
      Path b = NativeLoader.createPrivateTempFile();
      assertNotEquals(a, b);
      assertEquals(dir, a.getParent());
      assertTrue(a.getFileName().toString().startsWith("credchain-"));
      assertTrue(a.getFileName().toString().endsWith("-libcredchain.so"));
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
      assertEquals(0, Files.size(a));
    } finally {
      if (old == null) {
        System.clearProperty(NativeLoader.TMPDIR_PROPERTY);
      } else {
        System.setProperty(NativeLoader.TMPDIR_PROPERTY, old);
      }
    }
  }
}
