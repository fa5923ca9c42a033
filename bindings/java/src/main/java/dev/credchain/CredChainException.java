package dev.credchain;

import java.util.Optional;

/**
 * A failure reported by libcredchain (or caught by the binding before it called the library).
 *
 * <p>Unchecked. {@link #code()} mirrors the C {@code credchain_result}; {@link #getMessage()} is
 * the library's own message, verbatim; {@link #source()} names the credential source that failed
 * when the library said which one did.
 */
public final class CredChainException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The C ABI's {@code credchain_result} codes. Numbers are stable and never reused. */
  public enum Code {
    /** {@code CREDCHAIN_OK}: never carried by an exception. */
    OK(0),
    /** NULL or malformed argument: invalid UTF-8, embedded NUL, unpaired surrogate, absurd length. */
    INVALID_ARGUMENT(1),
    /** No source in the chain had credentials. */
    NO_CREDENTIALS(2),
    /** The profile that was asked for exists in neither file; the message names it. */
    PROFILE_NOT_FOUND(3),
    /** Only one half of a key pair was found; the message names the missing variable or key. */
    PARTIAL_CREDENTIALS(4),
    /** A source failed; the message carries the upstream words (STS code, exit status, HTTP status). */
    SOURCE_FAILED(5),
    /** The bounded wait for a fetch ran out. */
    TIMEOUT(6),
    /** A caught panic or a bug in the library, or a library that could not be loaded. */
    INTERNAL(7),
    /** A malformed config or credentials file, a role_arn without a source, ... */
    INVALID_CONFIG(8),
    /** The copy of the library serving this process predates the function called; the message names both copies. */
    UNSUPPORTED(9),
    /**
     * The process ran out of something the operating system gives it (file descriptors, processes or
     * threads); the message names it, and a call after the host released some succeeds.
     */
    EXHAUSTED(10),
    /** A number this binding does not know yet (a newer library); see {@link #nativeCode()}. */
    UNKNOWN(-1);

    private final int value;

    Code(int value) {
      this.value = value;
    }

    /**
     * The C number of this code.
     *
     * @return the {@code credchain_result} value, or -1 for {@link #UNKNOWN}
     */
    public int value() {
      return value;
    }

    /**
     * The constant for a C number.
     *
     * @param value a {@code credchain_result} value
     * @return its constant; {@link #UNKNOWN} for a number this binding does not know
     */
    public static Code fromNative(int value) {
      for (Code c : values()) {
        if (c.value == value && c != UNKNOWN) {
          return c;
        }
      }
      return UNKNOWN;
    }
  }

  /** The result code ({@link Code#UNKNOWN} for a number this binding does not know). */
  private final Code code;
  /** The raw C number. */
  private final int nativeCode;
  /** The credential source that failed, or {@code null} when the library named none. */
  private final String source;

  CredChainException(int nativeCode, String message, String source, Throwable cause) {
    super(message, cause);
    this.code = Code.fromNative(nativeCode);
    this.nativeCode = nativeCode;
    this.source = source;
  }

  CredChainException(Code code, String message) {
    this(code.value(), message, null, null);
  }

  CredChainException(Code code, String message, Throwable cause) {
    this(code.value(), message, null, cause);
  }

  /**
   * The result code.
   *
   * @return the code; {@link Code#UNKNOWN} for a number this binding does not know
   */
  public Code code() {
    return code;
  }

  /**
   * The raw C number, also for a code this binding does not know ({@link Code#UNKNOWN}).
   *
   * @return the {@code credchain_result} value
   */
  public int nativeCode() {
    return nativeCode;
  }

  /**
   * The credential source that failed ({@code "custom-process"}, ...), when the library named one.
   *
   * @return the source's name, or empty
   */
  public Optional<String> source() {
    return Optional.ofNullable(source);
  }

  @Override
  public String toString() {
    String codeName = code == Code.UNKNOWN ? "UNKNOWN(" + nativeCode + ")" : code.name();
    return getClass().getName() + ": " + codeName + (source == null ? "" : " [" + source + "]")
        + ": " + getMessage();
  }
}
