package dev.credchain;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Java strings to NUL-terminated UTF-8, refusing what C cannot carry. */
final class CStrings {
  private CStrings() {}

  /** {@link #encode}, or C's NULL ({@code null}) for {@code null}: a profile, a region. */
  static byte[] encodeOptional(String what, String s) {
    return s == null ? null : encode(what, s);
  }

  /**
   * {@link #encode}, refusing {@code null} with {@link CredChainException.Code#INVALID_ARGUMENT}
   * ("hostname must not be null"): a host name, a user name.
   */
  static byte[] encodeRequired(String what, String s) {
    if (s == null) {
      throw new CredChainException(CredChainException.Code.INVALID_ARGUMENT,
          what + " must not be null");
    }
    return encode(what, s);
  }

  /**
   * Encodes {@code s} as NUL-terminated UTF-8, or throws {@link CredChainException.Code#INVALID_ARGUMENT}
   * before anything reaches the library: an embedded NUL would silently truncate the C string, and
   * an unpaired surrogate has no UTF-8 form (Java would write '?' in its place).
   *
   * @param what the parameter's name, for the message ("profile")
   */
  static byte[] encode(String what, String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '\0') {
        throw new CredChainException(CredChainException.Code.INVALID_ARGUMENT,
            what + " contains a NUL character at index " + i);
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        throw new CredChainException(CredChainException.Code.INVALID_ARGUMENT,
            what + " contains an unpaired surrogate U+" + String.format("%04X", (int) c)
                + " at index " + i);
      }
    }
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    return Arrays.copyOf(utf8, utf8.length + 1);
  }
}
