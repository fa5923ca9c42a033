package dev.credchain;

import java.util.function.IntSupplier;

/**
 * The C ABI version this binding was written for, and the check of a loaded library against it.
 *
 * <p>{@link CredChainNative} direct-maps every function and reads {@code credchain_credentials}
 * field by field, with nothing in JNA to notice a different signature or layout. So right after
 * loading, before {@code Native.register}, the binding asks the library for {@code
 * credchain_abi_version()} and refuses it unless its major is the binding's and its minor at least
 * the binding's (a smaller minor may lack functions or fields the binding uses); a library without
 * that function predates ABI versioning and is refused too. The same rule as the Python binding's.
 *
 * <p>Plain Java: reading the constants or calling {@link #mismatch} does not load the library.
 */
final class Abi {
  // CREDCHAIN_ABI_MAJOR and CREDCHAIN_ABI_MINOR of include/credchain.h; HeaderConstantsTest checks
  // them (the names are the header's without the CREDCHAIN_ prefix).
  static final int ABI_MAJOR = 1;
  static final int ABI_MINOR = 2;

  private Abi() {}

  /** {@code MAJOR.MINOR} of a {@code credchain_abi_version()} value ({@code major << 16 | minor}). */
  static String format(int version) {
    return (version >>> 16) + "." + (version & 0xFFFF);
  }

  /**
   * Why the library at {@code location} cannot be used by this binding; null when it can.
   *
   * @param location where it was loaded from, as {@link NativeLoader.Loaded#location} says
   * @param version its {@code credchain_abi_version()}, or null when it has no such function
   */
  static String mismatch(String location, Integer version) {
    String wanted = ABI_MAJOR + "." + ABI_MINOR + " (same major, minor at least " + ABI_MINOR + ")";
    String advice = ": use matching versions of the credchain jar and libcredchain";
    if (version == null) {
      return "libcredchain loaded from " + location + " is older than this binding (it has no "
          + "credchain_abi_version); the binding needs ABI " + wanted + advice;
    }
    int major = version >>> 16;
    int minor = version & 0xFFFF;
    if (major == ABI_MAJOR && minor >= ABI_MINOR) {
      return null;
    }
    return "libcredchain loaded from " + location + " has ABI " + format(version)
        + ", this binding needs ABI " + wanted + advice;
  }

  /**
   * Throws {@link CredChainException} ({@code INTERNAL}) unless the library at {@code location}
   * speaks this binding's ABI. {@code abiVersion} calls its {@code credchain_abi_version()} and
   * throws {@link UnsatisfiedLinkError} when the library has no such function.
   */
  static void check(String location, IntSupplier abiVersion) {
    Integer version;
    UnsatisfiedLinkError missing = null;
    try {
      version = abiVersion.getAsInt();
    } catch (UnsatisfiedLinkError e) {
      version = null;
      missing = e;
    }
    String problem = mismatch(location, version);
    if (problem != null) {
      throw new CredChainException(CredChainException.Code.INTERNAL, problem, missing);
    }
  }
}
