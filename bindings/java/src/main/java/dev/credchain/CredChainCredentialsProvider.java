package dev.credchain;

import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * An AWS SDK for Java v2 {@link AwsCredentialsProvider} backed by libcredchain's process-wide
 * chain, so SDK clients, the AWS Advanced JDBC Wrapper and every native driver in the process share
 * one cache and one refresh.
 *
 * <p>It returns {@link AwsSessionCredentials} (with its expiration time) when there is a session
 * token, else {@link AwsBasicCredentials} (which has no expiration field in the SDK: an expiring
 * key pair without a token loses its expiry there, though credchain still refreshes it). Both carry
 * the account id when known and a provider name that names the source: {@code "CredChain:env"},
 * {@code "CredChain:assume-role"}, ...
 *
 * <p>Failures throw {@link SdkClientException}, as the SDK's own providers do, with the {@link
 * CredChainException} (code, message, source) as its cause.
 *
 * <p>Needs {@code software.amazon.awssdk:auth} on the class path (this artifact declares it
 * {@code provided}: bring your own SDK). Instances are immutable, thread-safe and cheap: a warm call
 * returns the same SDK credentials object without crossing into native code.
 */
public final class CredChainCredentialsProvider implements AwsCredentialsProvider {
  /** Prefix of {@link AwsCredentials#providerName()}: {@code "CredChain:" + source}. */
  public static final String PROVIDER_NAME_PREFIX = "CredChain:";

  private static final CredChainCredentialsProvider DEFAULT = new CredChainCredentialsProvider(null);
  private static final ConcurrentHashMap<String, CredChainCredentialsProvider> BY_PROFILE =
      new ConcurrentHashMap<>();

  private final String profile;
  /** The last conversion, reused while CredChain hands back the same snapshot object. */
  private volatile Converted last;

  private static final class Converted {
    final Credentials from;
    final AwsCredentials to;

    Converted(Credentials from, AwsCredentials to) {
      this.from = from;
      this.to = to;
    }
  }

  private CredChainCredentialsProvider(String profile) {
    this.profile = profile;
  }

  /**
   * The provider for the default profile ({@code AWS_DEFAULT_PROFILE}, {@code AWS_PROFILE}, default).
   *
   * @return the one shared instance
   */
  public static CredChainCredentialsProvider create() {
    return DEFAULT;
  }

  /**
   * The provider for a named profile; {@code null} or {@code ""} mean the default profile, as an
   * empty {@code awsProfile} does for the JDBC wrapper. One shared instance per profile.
   *
   * @param profile the profile name, or {@code null} or {@code ""} for the default profile
   * @return the profile's shared instance
   */
  public static CredChainCredentialsProvider create(String profile) {
    if (profile == null || profile.isEmpty()) {
      return DEFAULT;
    }
    CredChainCredentialsProvider p = BY_PROFILE.get(profile);
    if (p == null) {
      CredChainCredentialsProvider fresh = new CredChainCredentialsProvider(profile);
      p = BY_PROFILE.putIfAbsent(profile, fresh);
      if (p == null) {
        p = fresh;
      }
    }
    return p;
  }

  /**
   * The profile this provider resolves.
   *
   * @return the profile name; {@code null} for the default profile
   */
  public String profile() {
    return profile;
  }

  @Override
  public AwsCredentials resolveCredentials() {
    Credentials c;
    try {
      c = CredChain.getCredentials(profile);
    } catch (CredChainException e) {
      throw SdkClientException.builder()
          .message("Unable to load credentials from credchain"
              + (profile == null ? "" : " for profile " + profile) + ": " + e.code() + ": "
              + e.getMessage())
          .cause(e)
          .build();
    }
    Converted l = last;
    if (l != null && l.from == c) {
      return l.to;
    }
    AwsCredentials converted = toSdk(c);
    last = new Converted(c, converted);
    return converted;
  }

  /**
   * The SDK form of credchain credentials.
   *
   * @param c credentials from {@link CredChain}
   * @return {@code AwsSessionCredentials} (with expiration time) when there is a session token,
   *     else {@code AwsBasicCredentials}; with the account id and the provider name
   *     {@code CredChain:<source>}
   */
  public static AwsCredentials toSdk(Credentials c) {
    String providerName = PROVIDER_NAME_PREFIX + c.source();
    if (c.sessionToken().isPresent()) {
      return AwsSessionCredentials.builder()
          .accessKeyId(c.accessKeyId())
          .secretAccessKey(c.secretAccessKey())
          .sessionToken(c.sessionToken().get())
          .expirationTime(c.expiration().orElse(null))
          .accountId(c.accountId().orElse(null))
          .providerName(providerName)
          .build();
    }
    return AwsBasicCredentials.builder()
        .accessKeyId(c.accessKeyId())
        .secretAccessKey(c.secretAccessKey())
        .accountId(c.accountId().orElse(null))
        .providerName(providerName)
        .build();
  }

  @Override
  public String toString() {
    return "CredChainCredentialsProvider(profile=" + (profile == null ? "<default>" : profile) + ")";
  }
}
