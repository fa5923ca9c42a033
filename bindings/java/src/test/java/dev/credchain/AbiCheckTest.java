package dev.credchain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decision taken right after loading the library, before any function is bound: fed numbers,
 * as {@code credchain_abi_version()} would return them ({@code major << 16 | minor}); this JVM never
 * loads the native library. The last two tests load stand-ins (compiled here: a library of ABI 2.0
 * and one without {@code credchain_abi_version}, neither with any other credchain function) in a
 * child JVM, through {@code CREDCHAIN_LIBRARY}, to show the check runs before {@code
 * Native.register} would have failed on the first missing function.
 */
class AbiCheckTest {
  static final String WHERE =
      "/opt/vendor/libcredchain.so (environment variable CREDCHAIN_LIBRARY)";
  static final String WANTED = Abi.ABI_MAJOR + "." + Abi.ABI_MINOR + " (same major, minor at least "
      + Abi.ABI_MINOR + ")";

  static int version(int major, int minor) {
    return major << 16 | minor;
  }

  @Test
  void theSameMajorWithAMinorAtLeastTheBindingsIsAccepted() {
    assertNull(Abi.mismatch(WHERE, version(Abi.ABI_MAJOR, Abi.ABI_MINOR)));
    assertNull(Abi.mismatch(WHERE, version(Abi.ABI_MAJOR, Abi.ABI_MINOR + 3)));
    assertNull(Abi.mismatch(WHERE, version(Abi.ABI_MAJOR, 0xFFFF)));
    Abi.check(WHERE, () -> version(Abi.ABI_MAJOR, Abi.ABI_MINOR));
  }

  @Test
  void anotherMajorIsRefusedNamingThePathAndBothVersions() {
    assertEquals("libcredchain loaded from " + WHERE + " has ABI " + (Abi.ABI_MAJOR + 1)
        + ".0, this binding needs ABI " + WANTED
        + ": use matching versions of the credchain jar and libcredchain",
        Abi.mismatch(WHERE, version(Abi.ABI_MAJOR + 1, 0)));
    // with the major as the binding sees it today, literally
    assertEquals("libcredchain loaded from /x/libcredchain.so has ABI 2.7, this binding needs "
        + "ABI 1.2 (same major, minor at least 2): use matching versions of the credchain jar and "
        + "libcredchain",
        Abi.mismatch("/x/libcredchain.so", version(2, 7)));
    assertEquals("libcredchain loaded from /x/libcredchain.so has ABI 0.9, this binding needs "
        + "ABI 1.2 (same major, minor at least 2): use matching versions of the credchain jar and "
        + "libcredchain",
        Abi.mismatch("/x/libcredchain.so", version(0, 9)));
    // a major that does not fit in 15 bits still reads as a number, not as a negative one
    assertEquals("libcredchain loaded from /x has ABI 65535.65535, this binding needs ABI " + WANTED
        + ": use matching versions of the credchain jar and libcredchain",
        Abi.mismatch("/x", 0xFFFFFFFF));
  }

  @Test
  void anOlderMinorOfTheSameMajorIsRefused() {
    if (Abi.ABI_MINOR > 0) {
      assertEquals("libcredchain loaded from " + WHERE + " has ABI " + Abi.ABI_MAJOR + "."
          + (Abi.ABI_MINOR - 1) + ", this binding needs ABI " + WANTED
          + ": use matching versions of the credchain jar and libcredchain",
          Abi.mismatch(WHERE, version(Abi.ABI_MAJOR, Abi.ABI_MINOR - 1)));
    }
  }

  @Test
  void aLibraryWithoutAnAbiVersionIsRefusedAsOlder() {
    assertEquals("libcredchain loaded from " + WHERE + " is older than this binding (it has no "
        + "credchain_abi_version); the binding needs ABI " + WANTED
        + ": use matching versions of the credchain jar and libcredchain",
        Abi.mismatch(WHERE, null));
  }

  @Test
  void theCheckThrowsAnInternalErrorAndEveryCallThenSaysWhy() {
    CredChainException e = assertThrows(CredChainException.class,
        () -> Abi.check(WHERE, () -> version(Abi.ABI_MAJOR + 1, 0)));
    assertEquals(CredChainException.Code.INTERNAL, e.code());
    assertEquals(Abi.mismatch(WHERE, version(Abi.ABI_MAJOR + 1, 0)), e.getMessage());
    // what CredChain.getCredentials() & co. throw afterwards
    CredChainException seen = NativeLoader.loadFailure(e);
    assertEquals(CredChainException.Code.INTERNAL, seen.code());
    assertEquals("libcredchain could not be loaded: " + e.getMessage(), seen.getMessage());
    assertSame(e, seen.getCause());
  }

  @Test
  void aMissingFunctionIsTheOlderLibraryCase() {
    UnsatisfiedLinkError missing = new UnsatisfiedLinkError(
        "Error looking up function 'credchain_abi_version': undefined symbol: credchain_abi_version");
    CredChainException e = assertThrows(CredChainException.class, () -> Abi.check(WHERE, () -> {
      throw missing;
    }));
    assertEquals(CredChainException.Code.INTERNAL, e.code());
    assertEquals(Abi.mismatch(WHERE, null), e.getMessage());
    assertSame(missing, e.getCause());
  }

  @Test
  void versionsAreFormattedAsMajorDotMinor() {
    assertEquals("1.0", Abi.format(version(1, 0)));
    assertEquals("3.12", Abi.format(version(3, 12)));
  }

  @TempDir Path dir;

  /** A child JVM's {@code get} with {@code CREDCHAIN_LIBRARY} naming a stand-in built from {@code c}. */
  ChildJvm.Result getWithStandIn(String c) throws Exception {
    Path source = dir.resolve("standin.c");
    Files.write(source, c.getBytes(StandardCharsets.UTF_8));
    Path lib = dir.resolve("libcredchain.so");
    LibraryCopiesTest.compile(Arrays.asList("cc", "-shared", "-fPIC", source.toString(), "-o",
        lib.toString()));
    Path home = Files.createDirectory(dir.resolve("home"));
    return new ChildJvm(home).env(NativeLoader.ENV, lib.toString()).run("get");
  }

  @Test
  void aLibraryOfAnotherMajorIsRefusedAtLoad() throws Exception {
    ChildJvm.Result r = getWithStandIn("unsigned credchain_abi_version(void) { return 2u << 16; }\n");
    assertEquals("INTERNAL", r.get("code"));
    assertEquals("libcredchain could not be loaded: " + Abi.mismatch(
        dir.resolve("libcredchain.so") + " (environment variable CREDCHAIN_LIBRARY)",
        version(2, 0)), r.get("message"));
  }

  @Test
  void aLibraryWithoutAnAbiVersionIsRefusedAtLoad() throws Exception {
    ChildJvm.Result r = getWithStandIn("int credchain_something_else(void) { return 0; }\n");
    assertEquals("INTERNAL", r.get("code"));
    assertEquals("libcredchain could not be loaded: " + Abi.mismatch(
        dir.resolve("libcredchain.so") + " (environment variable CREDCHAIN_LIBRARY)", null),
        r.get("message"));
  }
}
