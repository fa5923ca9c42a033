package dev.credchain.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link Main} in a child JVM on this project's test class path (the credchain jar from the
 * local repository, JNA, nothing from the source tree) with an environment of only PATH, a HOME
 * holding nothing but static keys in ~/.aws/credentials, and AWS_EC2_METADATA_DISABLED=true: no
 * CREDCHAIN_LIBRARY, no AWS_* of the developer's, nothing that could leave loopback. The keys are
 * new on every run, so only this HOME can have produced them.
 */
class InstalledJarTest {
  private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  @Test
  void credentialsFromHomeThroughTheInstalledJar(@TempDir Path home) throws Exception {
    SecureRandom rnd = new SecureRandom();
    String accessKey = "AKIA" + random(rnd, 16);
    String secret = random(rnd, 40);
    Path credentials = home.resolve(".aws").resolve("credentials");
    Files.createDirectories(credentials.getParent());
    Files.write(credentials, ("[default]\naws_access_key_id = " + accessKey
        + "\naws_secret_access_key = " + secret + "\n").getBytes(StandardCharsets.UTF_8));

    String classPath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    ProcessBuilder pb = new ProcessBuilder(Arrays.asList(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.io.tmpdir=" + home, "-cp", classPath, Main.class.getName()))
        .directory(home.toFile());
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
    pb.environment().put("HOME", home.toString());
    pb.environment().put("AWS_EC2_METADATA_DISABLED", "true");
    Path log = home.resolve("child.out");
    Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    p.getOutputStream().close();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    String out = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    assertTrue(!p.isAlive(), "child JVM did not exit within 120 s:\n" + out);
    assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);

    Map<String, String> v = new HashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        v.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    assertEquals(accessKey, v.get("access_key_id"), out);
    assertEquals(Main.sha256(secret), v.get("secret_sha256"), out);
    assertEquals("false", v.get("session_token"), out);
    assertEquals("shared-credentials-file", v.get("source"), out);
    assertTrue(v.getOrDefault("library", "").startsWith("jar resource linux-x86-64/libcredchain.so"),
        "the native library must come from the jar: " + out);
    String expectedJar = System.getProperty("credchain.expectedJar");
    assertEquals(new File(expectedJar).getCanonicalPath(),
        new File(v.get("jar")).getCanonicalPath(), "the binding must come from the local repository");
    System.out.println("consumer child JVM:\n" + out.replace(secret, "<secret>"));
  }

  private static String random(SecureRandom rnd, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(ALNUM.charAt(rnd.nextInt(ALNUM.length())));
    }
    return s.toString();
  }
}
