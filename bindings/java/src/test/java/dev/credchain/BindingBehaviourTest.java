package dev.credchain;

import static dev.credchain.ChainSourcesTest.ENV_KEY;
import static dev.credchain.ChainSourcesTest.ENV_SECRET;
import static dev.credchain.ChainSourcesTest.ENV_TOKEN;
import static dev.credchain.ChainSourcesTest.FILE_KEY;
import static dev.credchain.ChainSourcesTest.FILE_SECRET;
import static dev.credchain.ChainSourcesTest.assertCredentials;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The binding's own machinery (hot path, threads, loading, logging, argument checks), in child JVMs. */
class BindingBehaviourTest {
  @TempDir Path home;

  ChildJvm envChild() {
    return new ChildJvm(home)
        .env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
        .env("AWS_SESSION_TOKEN", ENV_TOKEN);
  }

  @Test
  void warmCallsDoNotCrossIntoNative() throws Exception {
    ChildJvm.Result r = envChild().run("hotpath");
    assertCredentials(r, "env", ENV_KEY, ENV_SECRET, ENV_TOKEN);
    long settle = Long.parseLong(r.get("native_gets_to_settle"));
    assertTrue(settle >= 1 && settle <= 2, "native calls to warm up: " + settle);
    assertEquals("0", r.get("native_gets_in_loop"), "100000 warm calls crossed into native");
    assertEquals("true", r.get("same_instance"));
    assertEquals("true", r.get("generation_moved_on_invalidate"));
    long resettle = Long.parseLong(r.get("native_gets_to_resettle"));
    assertTrue(resettle >= 1 && resettle <= 2, "native calls after invalidate: " + resettle);
    assertEquals("true", r.get("equal_after_invalidate"));
  }

  @Test
  void thirtyTwoThreads() throws Exception {
    ChildJvm.Result r = envChild().run("threads", "32", "2000", "-");
    assertEquals("0", r.get("errors"), () -> "first error: " + r.get("first_error"));
    assertEquals("1", r.get("distinct_values"));
    assertCredentials(r, "env", ENV_KEY, ENV_SECRET, ENV_TOKEN);
    long nativeGets = Long.parseLong(r.get("native_gets"));
    assertTrue(nativeGets < 64_000 / 4, "too many native calls for 64000 calls: " + nativeGets);
  }

  @Test
  void thirtyTwoThreadsOnANamedProfile() throws Exception {
    ChildJvm c = new ChildJvm(home);
    c.file(".aws/credentials", "[dev]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    ChildJvm.Result r = c.run("threads", "32", "2000", "dev");
    assertEquals("0", r.get("errors"), () -> "first error: " + r.get("first_error"));
    assertEquals("1", r.get("distinct_values"));
    assertCredentials(r, "shared-credentials-file", FILE_KEY, FILE_SECRET, null);
  }

  @Test
  void libraryChecksItsOwnArguments() throws Exception {
    ChildJvm.Result r = envChild().run("native-bad-args");
    assertEquals("ok", r.get("result"));
    assertEquals("1", r.get("invalid_utf8_rc"));
    assertEquals("true", r.get("invalid_utf8_out_untouched"));
    assertEquals("INVALID_ARGUMENT", r.get("invalid_utf8_code"));
    assertEquals("1", r.get("null_out_rc"));
    assertEquals("INVALID_ARGUMENT", r.get("null_out_code"));
    assertEquals("1", r.get("null_out_null_error_rc"));
    assertEquals("1", r.get("invalidate_invalid_utf8_rc"));
    assertEquals("INVALID_ARGUMENT", r.get("invalidate_invalid_utf8_code"));
    assertEquals("1", r.get("error_code_null"));
    assertEquals("true", r.get("error_message_null"));
    assertEquals("true", r.get("error_source_null"));
  }

  @Test
  void loadsTheCopyBundledInTheJar() throws Exception {
    File bundled = new File(ChildJvm.class.getResource("/").toURI().getPath(),
        "../classes/" + NativeLoader.resourceName());
    assumeTrue(bundled.isFile(), "no bundled library (target/release/libcredchain.so was not built)");
    ChildJvm.Result r = envChild().env(NativeLoader.ENV, null).run("location");
    assertEquals("0.1.0", r.get("version"));
    String location = r.get("location");
    assertTrue(location.startsWith("jar resource linux-x86-64/libcredchain.so extracted to "
        + home.resolve("credchain-")), location);
    try (Stream<Path> left = Files.list(home)) {
      assertEquals(0, left.filter(p -> p.getFileName().toString().startsWith("credchain-")).count(),
          "the extracted copy was left behind");
    }
  }

  @Test
  void systemPropertyMayNameADirectoryAndBeatsTheEnvironment() throws Exception {
    File lib = new File(ChildJvm.library()).getAbsoluteFile();
    ChildJvm.Result r = envChild()
        .env(NativeLoader.ENV, "/nonexistent/libcredchain.so")
        .jvmArg("-D" + NativeLoader.PROPERTY + "=" + lib.getParent())
        .run("location");
    assertEquals(lib.getPath() + " (system property credchain.library.path)", r.get("location"));
  }

  @Test
  void aMissingLibraryIsAnInternalErrorNamingWhereItLooked() throws Exception {
    ChildJvm.Result r = envChild().env(NativeLoader.ENV, "/nonexistent/libcredchain.so").run("get");
    ChainSourcesTest.assertError(r, CredChainException.Code.INTERNAL);
    assertTrue(r.get("message").contains("environment variable CREDCHAIN_LIBRARY names "
        + "/nonexistent/libcredchain.so"), r.get("message"));
  }

  @Test
  void logLinesReachJavaUtilLoggingAndDoNotBlockExit() throws Exception {
    // run() fails if the child does not exit: native threads attached as daemons let it.
    ChildJvm.Result r = envChild().run("log");
    assertEquals("ok", r.get("result"));
    assertTrue(Integer.parseInt(r.get("records")) >= 2, "log records: " + r.get("records"));
    assertEquals(r.get("records"), r.get("delivered"));
    // the refresh is logged from the library's runtime thread, the invalidate from the caller's
    assertTrue(r.get("threads_seen").contains("credchain-native(daemon)"), r.get("threads_seen"));
    assertTrue(r.get("threads_seen").contains("main"), r.get("threads_seen"));
    assertFalse(r.stdout.contains(ENV_SECRET) || r.stderr.contains(ENV_SECRET));
  }

  @Test
  void routineEventsAndCaughtFailuresPrintNothingByDefault() throws Exception {
    // The JVM's default logging configuration: a console handler on standard error at INFO.
    ChildJvm.Result r = envChild().run("quiet-log");
    assertEquals("ok", r.get("result"));
    assertEquals("PROFILE_NOT_FOUND", r.get("caught"));
    assertEquals("", r.stderr);
  }

  @Test
  void refreshesInvalidationsAndFailuresTheCallerGetsLogAtFine() throws Exception {
    ChildJvm.Result r = envChild().run("log-levels");
    assertEquals("ok", r.get("result"));
    assertEquals("PROFILE_NOT_FOUND", r.get("caught"));
    assertEquals("[FINE]", r.get("refresh_levels"));
    assertEquals("[FINE]", r.get("invalidate_levels"));
    assertEquals("[FINE]", r.get("failure_levels"));
    assertEquals("", r.stderr);
  }

  @Test
  void rotatedCredentialsFilesReachAHotLoopThroughTheGenerationCounter() throws Exception {
    ChildJvm c = new ChildJvm(home).env("CREDCHAIN_STATIC_RECHECK_MS", "50");
    Path file = c.file(".aws/credentials", "[default]\naws_access_key_id = " + FILE_KEY
        + "\naws_secret_access_key = " + FILE_SECRET + "\n");
    ChildJvm.Result r = c.run("rotate", file.toString(), "30");
    assertEquals(FILE_KEY, r.get("first_access_key_id"));
    assertEquals("0", r.get("rounds_stuck"), () -> "the Java cache kept old credentials under a "
        + "new generation (the library bumped its counter before publishing the snapshot): "
        + r.values);
    assertEquals("ok", r.get("result"));
    assertEquals("shared-credentials-file", r.get("source"));
    assertEquals(r.get("expected_last_key"), r.get("access_key_id"));
    assertEquals(r.get("expected_last_secret_sha"), r.get("secret_sha"));
    long calls = Long.parseLong(r.get("calls_while_waiting"));
    long nativeGets = Long.parseLong(r.get("native_gets_while_waiting"));
    // each rotation costs one or two native calls; the rest of the spinning stays in Java
    assertTrue(nativeGets <= 3 * 30, nativeGets + " native calls in " + calls + " polls");
    assertTrue(calls > 10 * nativeGets, nativeGets + " native calls in " + calls + " polls");
  }
}
