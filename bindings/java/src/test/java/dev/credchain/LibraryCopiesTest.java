package dev.credchain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JVM side of tests/copies: this binding, loading the copy of libcredchain bundled in its jar as
 * a user gets it (extracted by {@link NativeLoader} to a private temporary file), and a native
 * driver (tests/copies/driver.c, compiled here, linked against target/release/libcredchain.so:
 * DT_NEEDED) in the same JVM, loaded before or after the binding's. Two files of the library are
 * then loaded; the first loaded serves and the other forwards to it, so the process has one chain,
 * one generation counter and one set of log subscribers.
 *
 * <p>The credential source is a {@code credential_process} that counts its runs (the script of
 * tests/copies/test_copies.py), so "one chain" is measured as "one run per fetch".
 *
 * <p>The scenario runs in a child JVM ({@link ChildJvm}, {@code ChildMain copies}), as every test
 * that resolves credentials does: the library reads the environment once, when it is loaded, so
 * {@code HOME} must name the scenario's directory before the load, and this JVM's environment
 * cannot be changed; the child also gets no {@code CREDCHAIN_LIBRARY} and no {@code
 * credchain.library.path}, which Surefire sets here, so it loads the bundled copy.
 */
class LibraryCopiesTest {
  /** tests/copies/test_copies.py's COUNTING_PROCESS: each run mints the next access key. */
  static final String COUNTING_PROCESS = "#!/bin/sh\n"
      + "# Counts its runs; each run mints the next access key.\n"
      + "count_file=\"$(dirname \"$0\")/runs\"\n"
      + "n=$(( $(cat \"$count_file\" 2>/dev/null || echo 0) + 1 ))\n"
      + "echo \"$n\" > \"$count_file\"\n"
      + "printf '{\"Version\": 1, \"AccessKeyId\": \"ASIAMINT%04d\", \"SecretAccessKey\": "
      + "\"secret-%d\", \"SessionToken\": \"token-%d\", \"Expiration\": \"2099-01-01T00:00:00Z\"}\\n'"
      + " \"$n\" \"$n\" \"$n\"\n";

  @TempDir Path home;
  @TempDir Path build;

  static Path repositoryRoot() {
    String base = System.getProperty("basedir", System.getProperty("user.dir"));
    return Paths.get(base, "..", "..").toAbsolutePath().normalize();
  }

  /** driver.c as tests/copies/test_copies.py builds it, against the library the tests use. */
  static Path compileDriver(Path into) throws IOException, InterruptedException {
    Path root = repositoryRoot();
    File lib = new File(ChildJvm.library()).getCanonicalFile();
    String libDir = lib.getParent();
    Path driver = into.resolve("libdriver.so");
    // The driver records the library's SONAME (libcredchain.so.1): the link of that name.
    compile(Arrays.asList(root.resolve("scripts/soname-link").toString(), libDir));
    compile(Arrays.asList("cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g",
        "-shared", "-fPIC", "-I" + root.resolve("include"),
        root.resolve("tests/copies/driver.c").toString(), "-o", driver.toString(), "-L" + libDir,
        "-Wl,-rpath," + libDir, "-lcredchain"));
    return driver;
  }

  /** Runs a compiler command; fails the test with its output when it fails. */
  static void compile(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String output = readAll(p.getInputStream());
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("cc did not finish within 120 s: " + String.join(" ", cmd));
    }
    if (p.exitValue() != 0) {
      fail("compiling failed (exit " + p.exitValue() + "): " + String.join(" ", cmd) + "\n"
          + output);
    }
  }

  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    for (int n; (n = in.read(buf)) > 0; ) {
      out.write(buf, 0, n);
    }
    return new String(out.toByteArray(), StandardCharsets.UTF_8);
  }

  /** The (path, abi, serving) of each copy in the diagnosis's library_copies, in load order. */
  static List<String> copies(String libraryCopies) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("\\{[^{}]*\\}").matcher(libraryCopies.replace("\\n", "\n"));
    while (m.find()) {
      String copy = m.group();
      out.add(field(copy, "path") + " " + field(copy, "abi") + " "
          + (copy.matches("(?s).*\"serving\"\\s*:\\s*true.*") ? "serving" : "forwarding"));
    }
    return out;
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : "<no " + name + ">";
  }

  /**
   * {@code java-first}: the binding loads the jar's copy, then JNA loads the driver as it loads
   * any library (RTLD_GLOBAL); the jar's copy serves. {@code driver-first-local}: the driver first,
   * opened RTLD_LOCAL (as the JVM's own System.load and Python's ctypes open libraries); the
   * driver's copy serves and the jar's forwards to it.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"java-first", "driver-first-local"})
  void theJarsCopyAndANativeDriversCopyServeOneChainAndOneSetOfLogSubscribers(String order)
      throws Exception {
    scenario(order);
  }

  /**
   * The driver first, opened RTLD_GLOBAL (JNA's default; also a driver linked into the program or
   * LD_PRELOADed): its copy of libcredchain is then in the process's global scope, and the jar's
   * copy, loaded later, must still know itself. Before libcredchain was linked with -Bsymbolic,
   * the jar's copy bound its references to its own exported symbols (its identity, its copy
   * table) to the global copy's, took them for its own, decided that it served, and ran a second
   * chain: two runs of the credential process, ASIAMINT0001 in Java and ASIAMINT0002 in the driver.
   */
  @Test
  void aDriverLoadedFirstIntoTheGlobalScopeStillSharesOneChain() throws Exception {
    scenario("driver-first");
  }

  void scenario(String order) throws Exception {
    File bundled = new File(ChildJvm.class.getResource("/").toURI().getPath(),
        "../classes/" + NativeLoader.resourceName());
    assertTrue(bundled.isFile(), "the build bundled no " + NativeLoader.resourceName() + " at "
        + bundled + " (is target/release/libcredchain.so built?)");
    Path driver = compileDriver(build);

    ChildJvm child = new ChildJvm(home).env(NativeLoader.ENV, null);
    Path mint = child.file("mint.sh", COUNTING_PROCESS);
    Files.setPosixFilePermissions(mint, PosixFilePermissions.fromString("rwx------"));
    Path config = child.file(".aws/config", "[default]\ncredential_process = " + mint + "\n");
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));

    ChildJvm.Result r = child.run("copies", driver.toString(), order);
    assertEquals("ok", r.get("result"), r.stdout);

    // The binding loaded the jar's copy, extracted, not target/release, and not globally.
    String location = r.get("location");
    String prefix = "jar resource " + NativeLoader.resourceName() + " extracted to ";
    assertTrue(location.startsWith(prefix + home.resolve("credchain-")), location);
    String extracted = location.substring(prefix.length());
    assertEquals(Abi.ABI_MAJOR + "." + Abi.ABI_MINOR, r.get("abi"));
    if (!order.equals("driver-first")) {
      // (with the driver opened RTLD_GLOBAL first, its copy is found in the global scope)
      assertEquals("false", r.get("jar_copy_global"), "the jar's copy was opened RTLD_GLOBAL");
    }

    // Level changes replaced the subscription (new first, old ended); the same level kept it.
    String[] subs = r.get("subscriptions").split(",");
    assertEquals(4, subs.length, r.get("subscriptions"));
    assertTrue(!subs[0].equals("null") && !subs[0].equals(subs[1]) && !subs[1].equals(subs[2])
        && subs[2].equals(subs[3]), "subscriptions at load, INFO, FINE, FINE: " + r.get("subscriptions"));
    assertEquals("1", r.get("ended_at_load_rc"), "the load-time subscription was not ended");
    assertEquals("1", r.get("ended_at_info_rc"), "the INFO subscription was not ended");

    // One chain: one run, the same key on both sides.
    assertEquals("0", r.get("driver_subscribe_rc"));
    assertEquals("ASIAMINT0001", r.get("java_key_1"));
    assertEquals("ASIAMINT0001", r.get("driver_key_1"));
    assertEquals("1", r.get("runs_1"), "the credential process ran more than once: two chains");
    // credchain_credentials.reuse_until, mapped after expiration: the start of the mandatory
    // refresh window of these credentials (which expire 2099-01-01T00:00:00Z)
    assertEquals("0", r.get("native_get_rc"));
    assertEquals("4070908800", r.get("native_expiration"));
    long reuseUntil = Long.parseLong(r.get("native_reuse_until"));
    assertTrue(reuseUntil > System.currentTimeMillis() / 1000 && reuseUntil < 4070908800L,
        "reuse_until " + reuseUntil);
    assertEquals("true", r.get("logs_arrived_1"), r.stdout);
    assertEquals("1", r.get("java_logs_1"), "refresh messages at Java's FINE subscription");
    assertEquals("1", r.get("driver_logs_1"), "refresh messages at the driver's subscription");

    // The driver's invalidation reaches Java through the shared generation counter.
    assertEquals("0", r.get("driver_invalidate_rc"));
    assertEquals("ASIAMINT0002", r.get("java_key_2"));
    assertEquals("ASIAMINT0002", r.get("driver_key_2"));
    assertEquals("2", r.get("runs_2"));
    assertEquals("true", r.get("logs_arrived_2"), r.stdout);
    assertEquals("2", r.get("java_logs_2"));
    assertEquals("2", r.get("driver_logs_2"));

    // Java's exit path ends Java's subscription only: the driver still hears the next refresh.
    assertEquals("null", r.get("java_subscription_after_exit_path"));
    assertEquals("0", r.get("driver_invalidate_rc_2"));
    assertEquals("ASIAMINT0003", r.get("driver_key_3"));
    assertEquals("3", r.get("runs_3"));
    assertEquals("true", r.get("logs_arrived_3"), r.stdout);
    assertEquals("0", r.get("driver_unsubscribe_rc"));
    assertEquals("3", r.get("driver_logs_3"), "the driver's subscriber was silenced too");
    assertEquals("2", r.get("java_logs_3"), "Java still received messages after its exit path");
    assertEquals("ASIAMINT0003", r.get("java_key_3"));

    // Java first: the driver's DT_NEEDED libcredchain.so.1 is the SONAME of the jar's copy,
    // already loaded, so the loader gives the driver that copy and one file is loaded. Driver
    // first: two files (the driver's, found through its SONAME link, and the jar's); the first
    // loaded serves, the other forwards.
    String abi = Abi.ABI_MAJOR + "." + Abi.ABI_MINOR;
    String jars = extracted + " " + abi;
    String drivers = new File(ChildJvm.library()).getCanonicalFile().getParent() + "/libcredchain.so." + Abi.ABI_MAJOR
        + " " + abi;
    assertEquals(order.startsWith("java-first")
        ? Arrays.asList(jars + " serving")
        : Arrays.asList(drivers + " serving", jars + " forwarding"),
        copies(r.get("library_copies")), r.get("library_copies"));
  }
}
