package dev.credchain.bench;

import dev.credchain.CredChain;
import dev.credchain.CredChainCredentialsProvider;
import dev.credchain.Credentials;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * Warm-cache cost of one credentials lookup on static environment credentials: credchain's Java
 * API and SDK provider against the SDK's own DefaultCredentialsProvider (whose chain answers from
 * its environment-variable provider first, so it never reaches IMDS; BenchMain also insists on
 * AWS_EC2_METADATA_DISABLED=true).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms256m", "-Xmx256m"})
public class CredentialsBench {
  CredChainCredentialsProvider credchain;
  DefaultCredentialsProvider sdkDefault;

  @Setup
  public void setUp() {
    BenchMain.checkEnvironment();
    credchain = CredChainCredentialsProvider.create();
    sdkDefault = DefaultCredentialsProvider.builder().build();
    Credentials c = CredChain.getCredentials();
    AwsCredentials a = credchain.resolveCredentials();
    AwsCredentials b = sdkDefault.resolveCredentials();
    if (!"env".equals(c.source()) || !a.accessKeyId().equals(b.accessKeyId())) {
      throw new IllegalStateException("credchain answered from " + c.source()
          + "; the SDK and credchain disagree on the key id: not the same static env credentials");
    }
  }

  @Benchmark
  public Credentials credchainGetCredentials() {
    return CredChain.getCredentials();
  }

  @Benchmark
  public AwsCredentials credchainProvider() {
    return credchain.resolveCredentials();
  }

  @Benchmark
  public AwsCredentials sdkDefaultCredentialsProvider() {
    return sdkDefault.resolveCredentials();
  }
}
