package dev.credchain;

import dev.credchain.jdbc.CredChainJdbc;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.jdbc.HostSpec;
import software.amazon.jdbc.HostSpecBuilder;
import software.amazon.jdbc.authentication.AwsCredentialsManager;
import software.amazon.jdbc.hostavailability.SimpleHostAvailabilityStrategy;

/**
 * Runs one scenario in a child JVM (its own environment, HOME and library cache) and prints its
 * findings as {@code key=value} lines on stdout. Secrets and tokens are printed only as a short
 * SHA-256 digest. Exit status 0 unless the scenario itself broke.
 *
 * <p>Usage: {@code ChildMain COMMAND [ARG...]}; a profile argument {@code -} means null (default).
 */
public final class ChildMain {
  private ChildMain() {}

  static String digest(String secret) {
    if (secret == null) {
      return "none";
    }
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < 8; i++) {
        sb.append(String.format("%02x", d[i]));
      }
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static void out(String key, Object value) {
    String v = String.valueOf(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r");
    System.out.println(key + "=" + v);
  }

  static String profileArg(String[] args, int i) {
    if (args.length <= i || args[i].equals("-")) {
      return null;
    }
    return args[i];
  }

  static void report(Credentials c) {
    out("result", "ok");
    out("source", c.source());
    out("access_key_id", c.accessKeyId());
    out("secret_sha", digest(c.secretAccessKey()));
    out("token_sha", digest(c.sessionToken().orElse(null)));
    out("expiration", c.expiration().map(Object::toString).orElse("none"));
    out("account_id", c.accountId().orElse("none"));
    out("to_string", c);
  }

  static void report(CredChainException e) {
    out("result", "error");
    out("code", e.code());
    out("native_code", e.nativeCode());
    out("error_source", e.source().orElse("none"));
    out("message", e.getMessage());
  }

  static void report(AwsCredentials c) {
    out("sdk_class", c.getClass().getSimpleName());
    out("sdk_provider_name", c.providerName().orElse("none"));
    out("sdk_access_key_id", c.accessKeyId());
    out("sdk_secret_sha", digest(c.secretAccessKey()));
    out("sdk_token_sha",
        c instanceof AwsSessionCredentials ? digest(((AwsSessionCredentials) c).sessionToken()) : "none");
    out("sdk_expiration", c.expirationTime().map(Object::toString).orElse("none"));
    out("sdk_account_id", c.accountId().orElse("none"));
  }

  public static void main(String[] args) throws Exception {
    String cmd = args[0];
    try {
      switch (cmd) {
        case "get":
          report(CredChain.getCredentials(profileArg(args, 1)));
          break;
        case "location":
          out("version", CredChain.version());
          out("location", CredChain.libraryLocation());
          break;
        case "hotpath":
          hotPath(profileArg(args, 1));
          break;
        case "threads":
          threads(Integer.parseInt(args[1]), Integer.parseInt(args[2]), profileArg(args, 3));
          break;
        case "provider": {
          AwsCredentialsProvider p = CredChainCredentialsProvider.create(profileArg(args, 1));
          AwsCredentials first = p.resolveCredentials();
          AwsCredentials last = first;
          boolean same = false;
          for (int i = 0; i < 5 && !same; i++) {
            AwsCredentials next = p.resolveCredentials();
            same = next == last;
            last = next;
          }
          out("same_object_when_warm", same);
          report(first);
          break;
        }
        case "jdbc":
          jdbc(args.length > 1 ? args[1] : "install", profileArg(args, 2));
          break;
        case "log":
          log();
          break;
        case "quiet-log":
          quietLog();
          break;
        case "log-levels":
          logLevels();
          break;
        case "rotate":
          rotate(args[1], Integer.parseInt(args[2]));
          break;
        case "tokens":
          tokens(args);
          break;
        case "diagnose":
          out("json", args.length > 1 ? CredChain.diagnose(profileArg(args, 1)) : CredChain.diagnose());
          out("result", "ok");
          break;
        case "native-bad-args":
          nativeBadArgs();
          break;
        case "copies":
          copies(args[1], args[2]);
          break;
        default:
          throw new IllegalArgumentException("unknown command " + cmd);
      }
    } catch (CredChainException e) {
      report(e);
    } catch (software.amazon.awssdk.core.exception.SdkClientException e) {
      out("sdk_exception", e.getMessage());
      if (!(e.getCause() instanceof CredChainException)) {
        throw e;
      }
      report((CredChainException) e.getCause());
    }
    System.out.flush();
  }

  /**
   * Repeated calls stay in Java until the generation moves. A fetch that itself changes the
   * library's cache (a cold or invalidated entry) bumps the counter during the call, so the entry
   * it stored is already stale and the next call asks once more; after that, no native call.
   */
  static void hotPath(String profile) {
    out("native_gets_to_settle", settle(profile));
    Credentials first = CredChain.getCredentials(profile);
    long before = CredChain.NATIVE_GETS.get();
    boolean same = true;
    for (int i = 0; i < 100_000; i++) {
      same &= CredChain.getCredentials(profile) == first;
    }
    out("native_gets_in_loop", CredChain.NATIVE_GETS.get() - before);
    out("same_instance", same);
    long g0 = CredChainNative.generation();
    CredChain.invalidate(profile);
    out("generation_moved_on_invalidate", CredChainNative.generation() != g0);
    out("native_gets_to_resettle", settle(profile));
    Credentials again = CredChain.getCredentials(profile);
    out("equal_after_invalidate", again.equals(first));
    report(again);
  }

  /** Calls until two calls in a row return the same object; the number of native calls it took. */
  static long settle(String profile) {
    long before = CredChain.NATIVE_GETS.get();
    Credentials prev = CredChain.getCredentials(profile);
    for (int i = 0; i < 10; i++) {
      Credentials c = CredChain.getCredentials(profile);
      if (c == prev) {
        break;
      }
      prev = c;
    }
    return CredChain.NATIVE_GETS.get() - before;
  }

  /** N threads, started together, each making ITER calls (and thread 0 invalidating now and then). */
  static void threads(int n, int iterations, String profile) throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger errors = new AtomicInteger();
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    Set<String> distinct = Collections.synchronizedSet(new java.util.HashSet<String>());
    Set<Credentials> instances = Collections.synchronizedSet(
        Collections.newSetFromMap(new IdentityHashMap<Credentials, Boolean>()));
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      final int id = t;
      Thread th = new Thread(() -> {
        try {
          start.await();
          for (int i = 0; i < iterations; i++) {
            Credentials c = CredChain.getCredentials(profile);
            distinct.add(c.accessKeyId() + "/" + digest(c.secretAccessKey()) + "/" + c.source());
            instances.add(c);
            if (id == 0 && i % 1000 == 999) {
              CredChain.invalidate(profile);
            }
          }
        } catch (Throwable e) {
          errors.incrementAndGet();
          firstError.compareAndSet(null, e);
        }
      });
      threads.add(th);
      th.start();
    }
    start.countDown();
    for (Thread th : threads) {
      th.join();
    }
    out("threads", n);
    out("errors", errors.get());
    out("first_error", firstError.get());
    out("distinct_values", distinct.size());
    out("calls", (long) n * iterations);
    out("native_gets", CredChain.NATIVE_GETS.get());
    out("instances", instances.size());
    report(CredChain.getCredentials(profile));
  }

  static void jdbc(String how, String awsProfile) {
    if (how.equals("install")) {
      CredChainJdbc.install();
    } else if (how.equals("readme")) {
      // The README's one-liner, verbatim:
      AwsCredentialsManager.setCustomHandler((hostSpec, props) -> CredChainCredentialsProvider.create(props.getProperty("awsProfile")));
    }
    HostSpec host = new HostSpecBuilder(new SimpleHostAvailabilityStrategy())
        .host("database-1.cluster-abc.us-east-1.rds.amazonaws.com").port(5432).build();
    Properties props = new Properties();
    if (awsProfile != null) {
      props.setProperty("awsProfile", awsProfile);
    }
    AwsCredentialsProvider provider = AwsCredentialsManager.getProvider(host, props);
    out("provider_class", provider.getClass().getName());
    out("provider", provider);
    if (provider instanceof CredChainCredentialsProvider) {
      report(provider.resolveCredentials());
    }
    CredChainJdbc.uninstall();
    out("provider_class_after_uninstall",
        AwsCredentialsManager.getProvider(host, props).getClass().getName());
  }

  /**
   * Rotates the credentials file ROUNDS times; after each rotation this thread polls the hot path
   * without pausing until the new key shows (at most 5 s). A rotation reaches Java only through the
   * library's background re-check and the generation counter, so a round that never sees the new
   * key while the library itself already serves it means the counter moved before the new snapshot
   * was published (Java then caches the old snapshot under the new generation).
   */
  static void rotate(String file, int rounds) throws Exception {
    java.nio.file.Path path = java.nio.file.Paths.get(file);
    Credentials first = CredChain.getCredentials();
    out("first_access_key_id", first.accessKeyId());
    int stuck = 0;
    long calls = 0;
    long nativeGets = 0;
    long worstMs = 0;
    String lastKey = first.accessKeyId();
    String lastSecret = null;
    Credentials c = first;
    for (int round = 0; round < rounds && stuck < 3; round++) {
      String key = String.format("AKIAROTATED%09d", round);
      String secret = "rotatedSecretEXAMPLE/" + round + "/" + System.nanoTime();
      java.nio.file.Path tmp = java.nio.file.Paths.get(file + ".new");
      java.nio.file.Files.write(tmp, ("[default]\naws_access_key_id = " + key
          + "\naws_secret_access_key = " + secret + "\n").getBytes(StandardCharsets.UTF_8));
      java.nio.file.Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      long before = CredChain.NATIVE_GETS.get();
      long start = System.nanoTime();
      boolean seen = false;
      while (System.nanoTime() - start < 5_000_000_000L) {
        c = CredChain.getCredentials();
        calls++;
        if (c.accessKeyId().equals(key)) {
          seen = true;
          break;
        }
      }
      worstMs = Math.max(worstMs, (System.nanoTime() - start) / 1_000_000);
      nativeGets += CredChain.NATIVE_GETS.get() - before;
      if (!seen) {
        stuck++;
        out("stuck_round_" + round, "java serves " + c.accessKeyId() + ", library serves "
            + nativeAccessKeyId() + ", wanted " + key);
        CredChain.invalidate();
      }
      lastKey = key;
      lastSecret = secret;
    }
    out("rounds_stuck", stuck);
    out("worst_ms", worstMs);
    out("calls_while_waiting", calls);
    out("native_gets_while_waiting", nativeGets);
    out("expected_last_key", lastKey);
    out("expected_last_secret_sha", digest(lastSecret));
    report(CredChain.getCredentials());
  }

  /**
   * A string argument of the {@code tokens} command: {@code -} is null, anything else is hex UTF-8
   * (a child started without a UTF-8 locale would mangle non-ASCII arguments).
   */
  static String hexArg(String arg) {
    if (arg.equals("-")) {
      return null;
    }
    byte[] b = new byte[arg.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(arg.substring(2 * i, 2 * i + 2), 16);
    }
    return new String(b, StandardCharsets.UTF_8);
  }

  /** The inverse of {@link #hexArg}, for the tests that build the command line. */
  static String hex(String s) {
    if (s == null) {
      return "-";
    }
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      sb.append(String.format("%02x", b));
    }
    return sb.toString();
  }

  /** An auth token with its signature and session token replaced by "<redacted>". */
  static String redactToken(String token) {
    return token.replaceAll("(X-Amz-(?:Signature|Security-Token)=)[^&]*", "$1<redacted>");
  }

  /**
   * Signs every token the arguments describe, in order, and prints LABEL.result, then
   * LABEL.token_sha and LABEL.token_redacted, or LABEL.code and LABEL.message:
   * {@code rds LABEL HOST PORT USER REGION PROFILE TIME} (the full overload),
   * {@code rds-now LABEL HOST PORT USER} (the short one),
   * {@code dsql LABEL HOST ADMIN REGION PROFILE TIME}, {@code dsql-now LABEL HOST ADMIN}; strings
   * as {@link #hexArg}.
   */
  static void tokens(String[] args) {
    for (int i = 1; i < args.length; ) {
      String kind = args[i];
      String label = args[i + 1];
      int arity = kind.equals("rds") ? 8 : kind.equals("dsql") ? 7 : kind.equals("rds-now") ? 5 : 4;
      String[] a = java.util.Arrays.copyOfRange(args, i + 2, i + arity);
      i += arity;
      try {
        String token;
        switch (kind) {
          case "rds":
            token = CredChain.rdsAuthToken(hexArg(a[0]), Integer.parseInt(a[1]), hexArg(a[2]),
                hexArg(a[3]), hexArg(a[4]), Long.parseLong(a[5]));
            break;
          case "rds-now":
            token = CredChain.rdsAuthToken(hexArg(a[0]), Integer.parseInt(a[1]), hexArg(a[2]));
            break;
          case "dsql":
            token = CredChain.dsqlAuthToken(hexArg(a[0]), Boolean.parseBoolean(a[1]), hexArg(a[2]),
                hexArg(a[3]), Long.parseLong(a[4]));
            break;
          case "dsql-now":
            token = CredChain.dsqlAuthToken(hexArg(a[0]), Boolean.parseBoolean(a[1]));
            break;
          default:
            throw new IllegalArgumentException("unknown token kind " + kind);
        }
        out(label + ".result", "ok");
        out(label + ".token_sha", digest(token));
        out(label + ".token_redacted", redactToken(token));
      } catch (CredChainException e) {
        out(label + ".result", "error");
        out(label + ".code", e.code());
        out(label + ".message", e.getMessage());
      }
    }
    out("result", "ok");
  }

  /** What the library serves right now, bypassing this binding's cache. */
  static String nativeAccessKeyId() {
    com.sun.jna.ptr.PointerByReference out = new com.sun.jna.ptr.PointerByReference();
    int rc = CredChainNative.credchain_get_credentials(null, out, null);
    if (rc != 0) {
      return "error " + rc;
    }
    try {
      return CredChainNative.string(new CredChainNative.CCredentials(out.getValue()).access_key_id);
    } finally {
      CredChainNative.credchain_free_credentials(out.getValue());
    }
  }

  /** The library's own argument checks, reached by calling the C functions directly. */
  static void nativeBadArgs() {
    com.sun.jna.ptr.PointerByReference out = new com.sun.jna.ptr.PointerByReference();
    com.sun.jna.ptr.PointerByReference err = new com.sun.jna.ptr.PointerByReference();
    CredChain.version(); // loads the library
    long before = CredChain.NATIVE_GETS.get();
    // invalid UTF-8 in the profile
    int rc = CredChainNative.credchain_get_credentials(new byte[] {(byte) 0xff, (byte) 0xfe, 0}, out, err);
    out("invalid_utf8_rc", rc);
    out("invalid_utf8_out_untouched", out.getValue() == null);
    nativeError("invalid_utf8", rc, err);
    // NULL out pointer
    err = new com.sun.jna.ptr.PointerByReference();
    rc = CredChainNative.credchain_get_credentials(null, null, err);
    out("null_out_rc", rc);
    nativeError("null_out", rc, err);
    // NULL error pointer too: only the code comes back
    rc = CredChainNative.credchain_get_credentials(null, null, null);
    out("null_out_null_error_rc", rc);
    // invalidate with invalid UTF-8
    err = new com.sun.jna.ptr.PointerByReference();
    rc = CredChainNative.credchain_invalidate(new byte[] {(byte) 0xc3, 0}, err);
    out("invalidate_invalid_utf8_rc", rc);
    nativeError("invalidate_invalid_utf8", rc, err);
    // the accessors and frees accept NULL
    out("error_code_null", CredChainNative.credchain_error_code(null));
    out("error_message_null", CredChainNative.credchain_error_message(null) == null);
    out("error_source_null", CredChainNative.credchain_error_source(null) == null);
    CredChainNative.credchain_error_free(null);
    CredChainNative.credchain_free_credentials(null);
    out("native_gets_counted", CredChain.NATIVE_GETS.get() - before);
    out("result", "ok");
  }

  static void nativeError(String prefix, int rc, com.sun.jna.ptr.PointerByReference err) {
    if (rc != 0) {
      CredChainException e = CredChainNative.failure("test", rc, err.getValue());
      out(prefix + "_code", e.code());
      out(prefix + "_message", e.getMessage());
    }
  }

  /** Library log lines reach java.util.logging from native threads, and do not block exit. */
  static void log() throws InterruptedException {
    Logger logger = Logger.getLogger("dev.credchain");
    List<String> threads = Collections.synchronizedList(new ArrayList<String>());
    AtomicInteger records = new AtomicInteger();
    logger.setUseParentHandlers(false);
    logger.addHandler(new Handler() {
      @Override
      public void publish(LogRecord r) {
        records.incrementAndGet();
        threads.add(Thread.currentThread().getName() + (Thread.currentThread().isDaemon() ? "(daemon)" : ""));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    });
    CredChain.setLogLevel(Level.FINEST);
    try {
      CredChain.getCredentials(null);
    } catch (CredChainException e) {
      out("get_error", e.code());
    }
    CredChain.invalidate();
    try {
      CredChain.getCredentials("no-such-profile-for-logging");
    } catch (CredChainException e) {
      out("get_error_2", e.code());
    }
    Thread.sleep(200);
    out("records", records.get());
    out("delivered", CredChainNative.Logging.DELIVERED.get());
    out("threads_seen", new java.util.TreeSet<>(threads));
    out("result", "ok");
  }

  /**
   * Routine events and a failure the caller catches, with java.util.logging as the JVM configures
   * it by default (a console handler on standard error at INFO): nothing may reach standard error.
   */
  static void quietLog() throws InterruptedException {
    CredChain.getCredentials();
    CredChain.invalidate();
    CredChain.getCredentials();
    try {
      CredChain.getCredentials("no-such-profile-for-logging");
    } catch (CredChainException e) {
      out("caught", e.code());
    }
    // The refresh is logged from the library's runtime thread: give it time to arrive.
    Thread.sleep(300);
    out("result", "ok");
  }

  /**
   * The java.util.logging level of the library's refresh, invalidation and failure lines, with the
   * {@code dev.credchain} logger at FINEST.
   */
  static void logLevels() throws InterruptedException {
    Logger logger = Logger.getLogger("dev.credchain");
    logger.setUseParentHandlers(false);
    java.util.Map<String, Set<String>> levels = new java.util.concurrent.ConcurrentHashMap<>();
    logger.addHandler(new Handler() {
      @Override
      public void publish(LogRecord r) {
        String m = r.getMessage();
        String kind = m.contains("now come from") ? "refresh"
            : m.contains("invalidated") ? "invalidate"
            : m.contains("failed") ? "failure" : "other";
        levels.computeIfAbsent(kind, k -> new java.util.concurrent.ConcurrentSkipListSet<>())
            .add(r.getLevel().getName());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    });
    CredChain.setLogLevel(Level.FINEST);
    CredChain.getCredentials();
    CredChain.invalidate();
    try {
      CredChain.getCredentials("no-such-profile-for-logging");
    } catch (CredChainException e) {
      out("caught", e.code());
    }
    Thread.sleep(300);
    for (String kind : new String[] {"refresh", "invalidate", "failure"}) {
      out(kind + "_levels", levels.getOrDefault(kind, Collections.<String>emptySet()));
    }
    out("result", "ok");
  }

  /** tests/copies/driver.c, a native driver linked against target/release/libcredchain.so. */
  public interface Driver extends com.sun.jna.Library {
    com.sun.jna.Pointer driver_access_key();

    int driver_invalidate();

    int driver_subscribe();

    int driver_unsubscribe();

    int driver_log_count();
  }

  /** Runs of the counting credential_process so far (it writes them to $HOME/runs). */
  static int processRuns() throws java.io.IOException {
    java.nio.file.Path runs = java.nio.file.Paths.get(System.getenv("HOME"), "runs");
    return java.nio.file.Files.exists(runs)
        ? Integer.parseInt(new String(java.nio.file.Files.readAllBytes(runs),
            StandardCharsets.UTF_8).trim())
        : 0;
  }

  /** Waits (at most 10 s) until both counters reach the numbers wanted; true when they did. */
  static boolean awaitRefreshLogs(AtomicInteger java, Driver driver, int javaWanted,
      int driverWanted) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (java.get() >= javaWanted && driver.driver_log_count() >= driverWanted) {
        return true;
      }
      Thread.sleep(5);
    }
    return false;
  }

  /**
   * This binding with the copy of the library bundled in its jar (the test leaves {@code
   * CREDCHAIN_LIBRARY} and {@code credchain.library.path} unset) and, in the same process, a native
   * driver linked against another file of the library: one chain (one run of the credential
   * process per fetch), one generation, one set of log subscribers, of which this binding's exit
   * path ends only its own. {@code order}: {@code java-first} loads the binding's copy first (it
   * serves, the driver's forwards), {@code driver-first} the driver first (the other way round); a
   * {@code -local} suffix opens the driver RTLD_LOCAL instead of JNA's default RTLD_GLOBAL.
   */
  static void copies(String driverPath, String order) throws Exception {
    Logger logger = Logger.getLogger("dev.credchain");
    logger.setLevel(Level.FINE); // refreshes are FINE
    logger.setUseParentHandlers(false);
    AtomicInteger javaRefreshes = new AtomicInteger();
    logger.addHandler(new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getMessage() != null && r.getMessage().contains("now come from")) {
          javaRefreshes.incrementAndGet();
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    });
    // JNA opens a library RTLD_GLOBAL unless told otherwise; "-local" opens the driver (and with
    // it its copy of libcredchain) RTLD_LOCAL, as the JVM's System.load and Python's ctypes do.
    java.util.Map<String, Object> driverOptions = order.endsWith("-local")
        ? NativeLoader.OPEN_OPTIONS : java.util.Collections.<String, Object>emptyMap();
    Driver driver = null;
    if (order.startsWith("driver-first")) {
      driver = com.sun.jna.Native.load(driverPath, Driver.class, driverOptions);
      out("driver_subscribe_rc", driver.driver_subscribe());
    }
    out("location", CredChain.libraryLocation()); // loads the jar's copy, subscribes for FINE
    out("abi", Abi.format(CredChainNative.credchain_abi_version()));
    // RTLD_LOCAL: the jar's copy is not in the process's global scope, where it would capture
    // the credchain_* references of a driver loaded next. (Only meaningful when the driver, which
    // JNA loads RTLD_GLOBAL with its copy, is not loaded yet.)
    boolean global;
    try {
      com.sun.jna.NativeLibrary.getProcess().getFunction("credchain_abi_version");
      global = true;
    } catch (UnsatisfiedLinkError expected) {
      global = false;
    }
    out("jar_copy_global", global);

    // A level change replaces the binding's subscription: the new one first, then the old ends.
    Long atLoad = CredChainNative.Logging.subscription();
    CredChain.setLogLevel(Level.INFO);
    Long atInfo = CredChainNative.Logging.subscription();
    CredChain.setLogLevel(Level.FINE);
    Long atFine = CredChainNative.Logging.subscription();
    CredChain.setLogLevel(Level.FINE); // the same level: the same subscription
    out("subscriptions", atLoad + "," + atInfo + "," + atFine + ","
        + CredChainNative.Logging.subscription());
    out("ended_at_load_rc", atLoad == null ? "none"
        : CredChainNative.credchain_log_unsubscribe(atLoad, null));
    out("ended_at_info_rc", atInfo == null ? "none"
        : CredChainNative.credchain_log_unsubscribe(atInfo, null));

    if (driver == null) {
      driver = com.sun.jna.Native.load(driverPath, Driver.class, driverOptions);
      out("driver_subscribe_rc", driver.driver_subscribe());
    }

    out("java_key_1", CredChain.getCredentials().accessKeyId());
    out("driver_key_1", driver.driver_access_key().getString(0, "UTF-8"));
    out("runs_1", processRuns());
    // the raw struct, past the cache: reuse_until is read from its own offset
    com.sun.jna.ptr.PointerByReference raw = new com.sun.jna.ptr.PointerByReference();
    out("native_get_rc", CredChainNative.credchain_get_credentials(null, raw, null));
    try {
      CredChainNative.CCredentials cc = new CredChainNative.CCredentials(raw.getValue());
      out("native_expiration", cc.expiration);
      out("native_reuse_until", cc.reuse_until);
    } finally {
      CredChainNative.credchain_free_credentials(raw.getValue());
    }
    out("logs_arrived_1", awaitRefreshLogs(javaRefreshes, driver, 1, 1));
    out("java_logs_1", javaRefreshes.get());
    out("driver_logs_1", driver.driver_log_count());

    // The driver invalidates; Java learns of it through the generation counter alone.
    out("driver_invalidate_rc", driver.driver_invalidate());
    out("java_key_2", CredChain.getCredentials().accessKeyId());
    out("driver_key_2", driver.driver_access_key().getString(0, "UTF-8"));
    out("runs_2", processRuns());
    out("logs_arrived_2", awaitRefreshLogs(javaRefreshes, driver, 2, 2));
    out("java_logs_2", javaRefreshes.get());
    out("driver_logs_2", driver.driver_log_count());

    // The binding's exit path (what its JVM shutdown hook runs) ends its subscription only.
    CredChainNative.Logging.EXIT_HOOK.run();
    out("java_subscription_after_exit_path", CredChainNative.Logging.subscription());
    out("driver_invalidate_rc_2", driver.driver_invalidate());
    out("driver_key_3", driver.driver_access_key().getString(0, "UTF-8"));
    out("runs_3", processRuns());
    out("logs_arrived_3", awaitRefreshLogs(javaRefreshes, driver, 0, 3));
    // Ending the driver's subscription waits for calls into the subscribers in flight; a little
    // more time then covers a Java subscriber called after the driver's.
    out("driver_unsubscribe_rc", driver.driver_unsubscribe());
    Thread.sleep(50);
    out("java_logs_3", javaRefreshes.get());
    out("driver_logs_3", driver.driver_log_count());
    out("java_key_3", CredChain.getCredentials().accessKeyId());

    // Last, as it runs the credential process once more (the diagnosis fetches past the cache).
    String json = CredChain.diagnose();
    int at = json.indexOf("\"library_copies\"");
    out("library_copies", at < 0 ? "none" : json.substring(at, json.indexOf(']', at) + 1));
    out("result", "ok");
  }
}
