package dev.credchain.jdbc;

import dev.credchain.CredChainCredentialsProvider;
import java.util.Properties;
import software.amazon.jdbc.authentication.AwsCredentialsManager;
import software.amazon.jdbc.authentication.AwsCredentialsProviderHandler;

/**
 * Installs credchain into the AWS Advanced JDBC Wrapper ({@code
 * software.amazon.jdbc:aws-advanced-jdbc-wrapper}) as the handler of its {@code
 * AwsCredentialsManager}, so the plugins that ask it for credentials take them from libcredchain:
 *
 * <pre>{@code CredChainJdbc.install();}</pre>
 *
 * <p>In 4.3.0 those are {@code iam}, {@code awsSecretsManager}, {@code awsSecretsManager2}, {@code
 * customEndpoint} and {@code kmsEncryption}. The federated authentication plugins ({@code
 * federatedAuth}, {@code okta}) do not ask it: they sign with the credentials of the role their
 * SAML assertion assumes. A wrapper configuration profile that carries its own handler replaces
 * this one when a connection uses it.
 *
 * <p>The connection property {@value #AWS_PROFILE} chooses the profile, as it does for the
 * wrapper's default provider; absent or empty means the default profile.
 */
public final class CredChainJdbc {
  /** The wrapper's connection property naming the AWS profile. */
  public static final String AWS_PROFILE = "awsProfile";

  private static final AwsCredentialsProviderHandler HANDLER =
      (hostSpec, props) -> CredChainCredentialsProvider.create(profileOf(props));

  private CredChainJdbc() {}

  /** {@code AwsCredentialsManager.setCustomHandler(handler())}. */
  public static void install() {
    AwsCredentialsManager.setCustomHandler(HANDLER);
  }

  /** Puts the wrapper back on its own {@code DefaultCredentialsProvider}. */
  public static void uninstall() {
    AwsCredentialsManager.resetCustomHandler();
  }

  /**
   * The handler: a credchain provider for the connection's {@value #AWS_PROFILE}.
   *
   * @return the handler that {@link #install()} installs
   */
  public static AwsCredentialsProviderHandler handler() {
    return HANDLER;
  }

  private static String profileOf(Properties props) {
    return props == null ? null : props.getProperty(AWS_PROFILE);
  }
}
