package dev.credchain;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable snapshot of AWS credentials, copied out of libcredchain.
 *
 * <p>{@link #toString()} never shows the secret access key or the session token, and shows only
 * the last four characters of the access key id.
 */
public final class Credentials {
  private final String accessKeyId;
  private final String secretAccessKey;
  private final String sessionToken;
  private final String accountId;
  private final String source;
  private final long expirationEpochSeconds; // 0: never expires

  Credentials(String accessKeyId, String secretAccessKey, String sessionToken, String accountId,
      String source, long expirationEpochSeconds) {
    this.accessKeyId = Objects.requireNonNull(accessKeyId, "accessKeyId");
    this.secretAccessKey = Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    this.sessionToken = sessionToken;
    this.accountId = accountId;
    this.source = Objects.requireNonNull(source, "source");
    this.expirationEpochSeconds = expirationEpochSeconds;
  }

  /**
   * The access key id.
   *
   * @return the access key id ({@code AKIA...} or {@code ASIA...})
   */
  public String accessKeyId() {
    return accessKeyId;
  }

  /**
   * The secret access key.
   *
   * @return the secret access key
   */
  public String secretAccessKey() {
    return secretAccessKey;
  }

  /**
   * The session token of temporary credentials.
   *
   * @return the session token, or empty for long-term keys
   */
  public Optional<String> sessionToken() {
    return Optional.ofNullable(sessionToken);
  }

  /**
   * When these credentials expire.
   *
   * @return the expiration time; empty when they never expire
   */
  public Optional<Instant> expiration() {
    return expirationEpochSeconds == 0
        ? Optional.<Instant>empty()
        : Optional.of(Instant.ofEpochSecond(expirationEpochSeconds));
  }

  /**
   * The source that answered, spelled as botocore spells the credential method: {@code env},
   * {@code shared-credentials-file}, {@code assume-role}, {@code iam-role}, ...
   *
   * @return the source's name
   */
  public String source() {
    return source;
  }

  /**
   * The AWS account id, when the source reported one.
   *
   * @return the account id, or empty
   */
  public Optional<String> accountId() {
    return Optional.ofNullable(accountId);
  }

  long expirationEpochSeconds() {
    return expirationEpochSeconds;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Credentials)) {
      return false;
    }
    Credentials other = (Credentials) o;
    return expirationEpochSeconds == other.expirationEpochSeconds
        && accessKeyId.equals(other.accessKeyId)
        && secretAccessKey.equals(other.secretAccessKey)
        && Objects.equals(sessionToken, other.sessionToken)
        && Objects.equals(accountId, other.accountId)
        && source.equals(other.source);
  }

  @Override
  public int hashCode() {
    return Objects.hash(accessKeyId, secretAccessKey, sessionToken, accountId, source,
        expirationEpochSeconds);
  }

  /**
   * The access key id as {@code aws configure list} shows it, {@code ****************MPLE}: its
   * last four characters, every other one replaced by {@code *}; a key id of four characters or
   * fewer is all {@code *}. The same rule as the Python binding's {@code mask_access_key}, counted
   * in code points as Python counts characters.
   */
  static String maskAccessKeyId(String accessKeyId) {
    int length = accessKeyId.codePointCount(0, accessKeyId.length());
    // A key id this short is no real one (a test's, a typo): showing four of it would show it all.
    int shown = length <= 4 ? 0 : 4;
    StringBuilder masked = new StringBuilder(accessKeyId.length());
    for (int i = 0; i < length - shown; i++) {
      masked.append('*');
    }
    return masked.append(accessKeyId, accessKeyId.offsetByCodePoints(0, length - shown),
        accessKeyId.length()).toString();
  }

  /**
   * Shows the access key id masked but for its last four characters ({@code
   * ****************MPLE}), the source, expiry and account id; never the secret or the token.
   */
  @Override
  public String toString() {
    return "Credentials[accessKeyId=" + maskAccessKeyId(accessKeyId)
        + ", secretAccessKey=<redacted>"
        + ", sessionToken=" + (sessionToken == null ? "<none>" : "<redacted>")
        + ", source=" + source
        + ", expiration=" + (expirationEpochSeconds == 0 ? "<never>" : expiration().get().toString())
        + ", accountId=" + (accountId == null ? "<unknown>" : accountId)
        + "]";
  }
}
