package dev.credchain.bench;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/** Runs {@link CredentialsBench} and prints ns/op and the ratios against the SDK's default chain. */
public final class BenchMain {
  private BenchMain() {}

  static void checkEnvironment() {
    if (!"true".equalsIgnoreCase(System.getenv("AWS_EC2_METADATA_DISABLED"))) {
      throw new IllegalStateException("set AWS_EC2_METADATA_DISABLED=true: the benchmark must not "
          + "be able to reach an instance metadata service");
    }
    if (System.getenv("AWS_ACCESS_KEY_ID") == null || System.getenv("AWS_SECRET_ACCESS_KEY") == null) {
      throw new IllegalStateException("set static AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (dummy "
          + "values): both chains must answer from the environment");
    }
  }

  public static void main(String[] args) throws Exception {
    checkEnvironment();
    // Extra JMH options (e.g. -wi 3 -i 3) may be passed on the command line.
    Options cli = new CommandLineOptions(args);
    Options opts = new OptionsBuilder().parent(cli).include(CredentialsBench.class.getName()).build();
    Collection<RunResult> results = new Runner(opts).run();

    Map<String, double[]> score = new LinkedHashMap<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      name = name.substring(name.lastIndexOf('.') + 1);
      score.put(name, new double[] {r.getPrimaryResult().getScore(),
          r.getPrimaryResult().getScoreError()});
    }
    System.out.println();
    System.out.println("credchain Java binding, warm cache, static environment credentials");
    for (Map.Entry<String, double[]> e : score.entrySet()) {
      System.out.printf("  %-32s %10.1f ns/op  (+- %.1f)%n", e.getKey(), e.getValue()[0],
          e.getValue()[1]);
    }
    double sdk = score.get("sdkDefaultCredentialsProvider")[0];
    double provider = score.get("credchainProvider")[0];
    double api = score.get("credchainGetCredentials")[0];
    System.out.printf("ratio DefaultCredentialsProvider / CredChainCredentialsProvider = %.2fx%n",
        sdk / provider);
    System.out.printf("ratio DefaultCredentialsProvider / CredChain.getCredentials()   = %.2fx%n",
        sdk / api);
    System.out.println(provider <= sdk
        ? "CredChainCredentialsProvider is no slower than DefaultCredentialsProvider"
        : "CredChainCredentialsProvider is SLOWER than DefaultCredentialsProvider");
  }
}
