package dev.credchain;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Launches {@link ChildMain} in a fresh JVM with the test class path, a private HOME and an
 * environment that holds only PATH, HOME, AWS_EC2_METADATA_DISABLED=true, CREDCHAIN_LIBRARY and
 * what the scenario adds: nothing of the developer's own AWS setup leaks in, and nothing can reach
 * an instance metadata service.
 */
final class ChildJvm {
  /** The native library the tests use (set by the POM: target/release/libcredchain.so). */
  static String library() {
    String p = System.getProperty(NativeLoader.PROPERTY);
    if (p == null || p.isEmpty()) {
      p = System.getenv(NativeLoader.ENV);
    }
    if (p == null || p.isEmpty()) {
      fail("set -D" + NativeLoader.PROPERTY + " or " + NativeLoader.ENV + " to libcredchain.so");
    }
    return p;
  }

  static String classPath() {
    // Surefire runs the tests from a manifest-only jar; it publishes the real class path here.
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isEmpty() ? cp : System.getProperty("java.class.path");
  }

  static final class Result {
    final int exitCode;
    final String stdout;
    final String stderr;
    final Map<String, String> values = new LinkedHashMap<>();

    Result(int exitCode, String stdout, String stderr) {
      this.exitCode = exitCode;
      this.stdout = stdout;
      this.stderr = stderr;
      for (String line : stdout.split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          values.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    }

    String get(String key) {
      if (!values.containsKey(key)) {
        fail("child printed no " + key + "; exit " + exitCode + "\nstdout:\n" + stdout
            + "\nstderr:\n" + stderr);
      }
      return values.get(key);
    }
  }

  private final Path home;
  private final Map<String, String> env = new LinkedHashMap<>();
  private final List<String> jvmArgs = new ArrayList<>();

  ChildJvm(Path home) {
    this.home = home;
    env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
    env.put("HOME", home.toString());
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    env.put(NativeLoader.ENV, library());
    jvmArgs.add("-Djava.io.tmpdir=" + home);
    jvmArgs.add("-Xshare:auto");
    jvmArgs.add("-XX:TieredStopAtLevel=1");
  }

  ChildJvm env(String name, String value) {
    if (value == null) {
      env.remove(name);
    } else {
      env.put(name, value);
    }
    return this;
  }

  ChildJvm jvmArg(String arg) {
    jvmArgs.add(arg);
    return this;
  }

  /** Writes a file under HOME (creating its folders) and returns its path. */
  Path file(String relative, String content) throws IOException {
    Path p = home.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.write(p, content.getBytes(StandardCharsets.UTF_8));
    return p;
  }

  Path home() {
    return home;
  }

  Result run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(ChildMain.class.getName());
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread o = pump(p.getInputStream(), out);
    Thread e = pump(p.getErrorStream(), err);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("child JVM did not exit within 120 s: " + String.join(" ", args));
    }
    o.join();
    e.join();
    Result r = new Result(p.exitValue(), new String(out.toByteArray(), StandardCharsets.UTF_8),
        new String(err.toByteArray(), StandardCharsets.UTF_8));
    if (r.exitCode != 0) {
      fail("child JVM exited " + r.exitCode + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr);
    }
    return r;
  }

  private static Thread pump(InputStream in, ByteArrayOutputStream to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          to.write(buf, 0, n);
        }
      } catch (IOException ignored) {
        // the child went away
      }
    });
    t.setDaemon(true);
    t.start();
    return t;
  }
}
