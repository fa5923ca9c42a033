package dev.credchain;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The process-wide AWS credential chain of libcredchain, for Java.
 *
 * <p>Every method is static and thread-safe. The first call loads the native library (see
 * {@link #libraryLocation()} for where it looks) and routes its log to java.util.logging, logger
 * {@code dev.credchain}.
 *
 * <h2>Hot path</h2>
 *
 * <p>The library bumps a 64-bit generation counter whenever any cached snapshot changes (refresh,
 * rotation, invalidate, fork). This class maps that counter once and reads it as plain memory, so
 * a repeated {@link #getCredentials(String)} for a profile returns the same {@link Credentials}
 * object without any call into native code while the generation has not moved and the library's
 * {@code reuse_until} for that snapshot (the start of its mandatory refresh window, from which the
 * library itself would wait for new credentials) has not come; credentials that never expire have
 * no {@code reuse_until} and are reused until the generation moves. Otherwise it asks the library,
 * copies the strings out, frees the native snapshot at once and caches the copy.
 */
public final class CredChain {
  /** The key under which the ambient default profile (a {@code null} profile) is cached. */
  private static final Object DEFAULT_PROFILE = new Object();

  private static final ConcurrentHashMap<Object, Entry> CACHE = new ConcurrentHashMap<>();

  /** Calls of credchain_get_credentials, for tests that check the hot path stays in Java. */
  static final AtomicLong NATIVE_GETS = new AtomicLong();

  private static final Logger LOG = Logger.getLogger("dev.credchain");

  private CredChain() {}

  /** One cached answer: immutable, replaced whole. */
  private static final class Entry {
    final long generation;
    final Credentials credentials;
    /** Epoch millis from which the entry is not reused; Long.MAX_VALUE: until the generation moves. */
    final long reuseUntilMillis;

    Entry(long generation, Credentials credentials, long reuseUntilEpochSeconds) {
      this.generation = generation;
      this.credentials = credentials;
      this.reuseUntilMillis = reuseDeadlineMillis(reuseUntilEpochSeconds);
    }
  }

  /**
   * Until when (epoch millis, exclusive) a copy of credentials may be handed out without asking
   * the library: the library's {@code reuse_until} (which the library keeps at least a second
   * before expiry: the margin lives there, not here); {@code Long.MAX_VALUE} (until the
   * generation moves) for credentials that never expire.
   *
   * @param reuseUntilEpochSeconds {@code credchain_credentials.reuse_until}, 0 for none
   */
  static long reuseDeadlineMillis(long reuseUntilEpochSeconds) {
    return reuseUntilEpochSeconds != 0 ? reuseUntilEpochSeconds * 1000 : Long.MAX_VALUE;
  }

  /**
   * Whether a copy fetched at generation {@code entryGeneration}, reusable until {@code
   * deadlineMillis} ({@link #reuseDeadlineMillis}), may be handed out at generation {@code
   * generation}: only while the generation is the same and, unless the deadline is {@code
   * Long.MAX_VALUE}, {@code clock} (epoch millis; not read otherwise) is before the deadline.
   */
  static boolean reusable(long entryGeneration, long deadlineMillis, long generation,
      LongSupplier clock) {
    return entryGeneration == generation
        && (deadlineMillis == Long.MAX_VALUE || clock.getAsLong() < deadlineMillis);
  }

  /**
   * The credentials of the default profile ({@code AWS_DEFAULT_PROFILE}, else {@code AWS_PROFILE},
   * else {@code default}), from the first source of the chain that has them.
   *
   * @return the credentials, with the source that gave them
   * @throws CredChainException when no source has credentials, a source fails, ...
   */
  public static Credentials getCredentials() {
    return getCredentials(null);
  }

  /**
   * The credentials of the named profile. A named profile skips the environment-variable source;
   * a profile that exists in neither file is {@link CredChainException.Code#PROFILE_NOT_FOUND}.
   *
   * @param profile the profile name, or {@code null} for the default profile. Any other string,
   *     including {@code ""}, is passed to the library as given. A string with a NUL character or
   *     an unpaired surrogate is {@link CredChainException.Code#INVALID_ARGUMENT}, thrown without
   *     calling the library.
   * @return the credentials, with the source that gave them
   * @throws CredChainException on failure
   */
  public static Credentials getCredentials(String profile) {
    Object key = profile == null ? DEFAULT_PROFILE : profile;
    Entry e = CACHE.get(key);
    // Read the counter after the map's volatile read, so it cannot be hoisted out of a caller's
    // loop; the entry is reused only if nothing changed since before its fetch started.
    if (e != null) {
      long gen = CredChainNative.generation();
      if (reusable(e.generation, e.reuseUntilMillis, gen, System::currentTimeMillis)) {
        return e.credentials;
      }
    }
    return fetch(profile, key);
  }

  private static Credentials fetch(String profile, Object key) {
    byte[] cProfile = CStrings.encodeOptional("profile", profile);
    CredChainNative.ensureLoaded();
    // The generation before the call: if anything changes during the call, the entry stored
    // below is already stale and the next call asks again.
    long gen = CredChainNative.generation();
    PointerByReference out = new PointerByReference();
    PointerByReference err = new PointerByReference();
    NATIVE_GETS.incrementAndGet();
    int rc = CredChainNative.credchain_get_credentials(cProfile, out, err);
    if (rc != 0) {
      throw CredChainNative.failure("credchain_get_credentials", rc, err.getValue());
    }
    Pointer p = out.getValue();
    if (p == null) {
      throw new CredChainException(CredChainException.Code.INTERNAL,
          "credchain_get_credentials returned OK without credentials");
    }
    Credentials c;
    long reuseUntil;
    try {
      CredChainNative.CCredentials cc = new CredChainNative.CCredentials(p);
      String akid = CredChainNative.string(cc.access_key_id);
      String secret = CredChainNative.string(cc.secret_access_key);
      String source = CredChainNative.string(cc.source);
      if (akid == null || secret == null || source == null) {
        throw new CredChainException(CredChainException.Code.INTERNAL,
            "credchain_get_credentials returned credentials with a NULL key, secret or source");
      }
      c = new Credentials(akid, secret, CredChainNative.string(cc.session_token),
          CredChainNative.string(cc.account_id), source, cc.expiration);
      reuseUntil = cc.reuse_until;
    } finally {
      CredChainNative.credchain_free_credentials(p);
    }
    CACHE.put(key, new Entry(gen, c, reuseUntil));
    return c;
  }

  /** Drops the cached credentials of the default profile; see {@link #invalidate(String)}. */
  public static void invalidate() {
    invalidate(null);
  }

  /**
   * Drops the cached credentials of a profile ({@code null}: the default profile), in this
   * binding and in the library, so that the next call resolves them afresh. For a driver whose
   * login just failed with an expired-token error.
   *
   * @param profile the profile, or {@code null} for the default profile (as for {@link
   *     #getCredentials(String)})
   * @throws CredChainException on failure
   */
  public static void invalidate(String profile) {
    byte[] cProfile = CStrings.encodeOptional("profile", profile);
    CredChainNative.ensureLoaded();
    CACHE.remove(profile == null ? DEFAULT_PROFILE : profile);
    PointerByReference err = new PointerByReference();
    int rc = CredChainNative.credchain_invalidate(cProfile, err);
    if (rc != 0) {
      throw CredChainNative.failure("credchain_invalidate", rc, err.getValue());
    }
  }

  // ---- IAM database authentication tokens ------------------------------------------------------

  /**
   * An RDS / Aurora / RDS Proxy IAM authentication token for {@code username} at {@code
   * hostname:port}, signed now with the default profile's credentials, in the region the host name
   * names (else {@code AWS_REGION}, {@code AWS_DEFAULT_REGION}, the profile's {@code region}). Same
   * as {@link #rdsAuthToken(String, int, String, String, String, long) rdsAuthToken(hostname, port,
   * username, null, null, 0)}.
   *
   * @param hostname the endpoint, without scheme or port
   * @param port the database port, 1 to 65535
   * @param username the database user
   * @return the token, to use as the password
   * @throws CredChainException on failure
   */
  public static String rdsAuthToken(String hostname, int port, String username) {
    return rdsAuthToken(hostname, port, username, null, null, 0);
  }

  /**
   * An RDS / Aurora / RDS Proxy IAM authentication token: the SigV4-presigned {@code
   * GET https://hostname:port/?Action=connect&DBUser=username} (service {@code rds-db}, valid 900 s)
   * without its scheme, byte for byte as the AWS SDKs make it, to use as the database password.
   * The C function {@code credchain_rds_auth_token}.
   *
   * <p>The token is a credential for 15 minutes: do not log it. Tokens signed now ({@code
   * signingTime} 0) are cached by the library and reused while more than 5 of their 15 minutes
   * remain and the credentials that signed them are still current, so calling this per connection
   * is cheap.
   *
   * @param hostname the endpoint, without scheme or port ({@code "mydb.cluster-xyz.us-east-1.rds.amazonaws.com"})
   * @param port the database port, 1 to 65535; anything else is {@link
   *     CredChainException.Code#INVALID_ARGUMENT} ("port N is not between 1 and 65535")
   * @param username the database user
   * @param region the signing region, or {@code null}: the one the host name names (instance,
   *     cluster, reader, custom, proxy endpoints, China too), else {@code AWS_REGION}, {@code
   *     AWS_DEFAULT_REGION}, the profile's {@code region}; none of them is {@link
   *     CredChainException.Code#INVALID_ARGUMENT}
   * @param profile the profile whose credentials sign, or {@code null} for the default profile (as
   *     for {@link #getCredentials(String)})
   * @param signingTime Unix seconds to sign at (for reproducible tokens), or 0 for now
   * @return the token, to use as the password
   * @throws CredChainException on failure; a {@code null} hostname or username, a string with a NUL
   *     character or an unpaired surrogate, or a bad port is {@link
   *     CredChainException.Code#INVALID_ARGUMENT}, thrown without calling the library
   */
  public static String rdsAuthToken(String hostname, int port, String username, String region,
      String profile, long signingTime) {
    byte[] cProfile = CStrings.encodeOptional("profile", profile);
    byte[] cHostname = CStrings.encodeRequired("hostname", hostname);
    if (port < 1 || port > 65535) {
      throw new CredChainException(CredChainException.Code.INVALID_ARGUMENT,
          "port " + port + " is not between 1 and 65535");
    }
    byte[] cUsername = CStrings.encodeRequired("username", username);
    byte[] cRegion = CStrings.encodeOptional("region", region);
    CredChainNative.ensureLoaded();
    PointerByReference token = new PointerByReference();
    PointerByReference err = new PointerByReference();
    int rc = CredChainNative.credchain_rds_auth_token(cProfile, cHostname, port, cUsername, cRegion,
        signingTime, token, err);
    return CredChainNative.takeString("credchain_rds_auth_token", rc, token, err);
  }

  /**
   * An Aurora DSQL authentication token for the cluster endpoint {@code hostname}, signed now with
   * the default profile's credentials in the region the host name names. Same as {@link
   * #dsqlAuthToken(String, boolean, String, String, long) dsqlAuthToken(hostname, admin, null,
   * null, 0)}.
   *
   * @param hostname the cluster endpoint, {@code <id>.dsql.<region>.on.aws}
   * @param admin {@code true} to connect as the {@code admin} role, {@code false} for any other role
   * @return the token, to use as the password
   * @throws CredChainException on failure
   */
  public static String dsqlAuthToken(String hostname, boolean admin) {
    return dsqlAuthToken(hostname, admin, null, null, 0);
  }

  /**
   * An Aurora DSQL authentication token: the SigV4-presigned {@code GET https://hostname/?Action=...}
   * (service {@code dsql}, no port, valid 900 s) without its scheme, as the AWS SDKs make it. The C
   * function {@code credchain_dsql_auth_token}. Caching, region and signing time as for {@link
   * #rdsAuthToken(String, int, String, String, String, long)}; the token is a credential: do not
   * log it.
   *
   * @param hostname the cluster endpoint, {@code <id>.dsql.<region>.on.aws}
   * @param admin {@code true} for {@code Action=DbConnectAdmin} (to connect as the {@code admin}
   *     role), {@code false} for {@code Action=DbConnect} (any other role)
   * @param region the signing region, or {@code null} to find it as for RDS
   * @param profile the profile whose credentials sign, or {@code null} for the default profile
   * @param signingTime Unix seconds to sign at, or 0 for now
   * @return the token, to use as the password
   * @throws CredChainException on failure; bad strings are {@link
   *     CredChainException.Code#INVALID_ARGUMENT}, thrown without calling the library
   */
  public static String dsqlAuthToken(String hostname, boolean admin, String region,
      String profile, long signingTime) {
    byte[] cProfile = CStrings.encodeOptional("profile", profile);
    byte[] cHostname = CStrings.encodeRequired("hostname", hostname);
    byte[] cRegion = CStrings.encodeOptional("region", region);
    CredChainNative.ensureLoaded();
    PointerByReference token = new PointerByReference();
    PointerByReference err = new PointerByReference();
    int rc = CredChainNative.credchain_dsql_auth_token(cProfile, cHostname, cRegion, admin,
        signingTime, token, err);
    return CredChainNative.takeString("credchain_dsql_auth_token", rc, token, err);
  }

  /**
   * A short name for {@code token} to log in its place: {@code "tok-"} and 16 hexadecimal digits
   * of its SHA-256, the same from C and Python, and useless for recovering the token. The C
   * function {@code credchain_token_fingerprint} (ABI 1.1).
   *
   * @param token an RDS or DSQL token (or any secret string)
   * @return the fingerprint
   * @throws CredChainException on failure; a bad string is {@link
   *     CredChainException.Code#INVALID_ARGUMENT}, thrown without calling the library
   */
  public static String tokenFingerprint(String token) {
    byte[] cToken = CStrings.encodeRequired("token", token);
    CredChainNative.ensureLoaded();
    PointerByReference fingerprint = new PointerByReference();
    PointerByReference err = new PointerByReference();
    int rc = CredChainNative.credchain_token_fingerprint(cToken, fingerprint, err);
    return CredChainNative.takeString("credchain_token_fingerprint", rc, fingerprint, err);
  }

  // ---- diagnosis --------------------------------------------------------------------------------

  /**
   * {@link #diagnose(String)} for the default profile.
   *
   * @return the doctor's JSON document
   */
  public static String diagnose() {
    return diagnose(null);
  }

  /**
   * Explains the credential chain for a profile, as {@code credchain doctor --json} does, and
   * returns that JSON document as is (UTF-8 decoded; this binding parses nothing and needs no JSON
   * library). The schema is docs/doctor-json.md, {@code "schema_version": 1}: every source and
   * whether it is configured, used, skipped (and why) or failed; the winner; its credentials,
   * masked (the access key id but for its last four characters; never a secret or a session
   * token); and every pitfall found, each with a stable code. The document is pretty-printed.
   *
   * <p>A chain without credentials is still a diagnosis ({@code "ok": false}), not an exception.
   * Only the winning source is fetched, bounded by the fetch timeout; the library's cache and this
   * binding's are neither used nor changed. Blocks the calling thread.
   *
   * @param profile the profile, or {@code null} for the default selection (as for {@link
   *     #getCredentials(String)})
   * @return the doctor's JSON document, pretty-printed
   * @throws CredChainException for an invalid profile string, a diagnosis that could not finish
   *     ({@link CredChainException.Code#TIMEOUT}) or a bug
   */
  public static String diagnose(String profile) {
    byte[] cProfile = CStrings.encodeOptional("profile", profile);
    CredChainNative.ensureLoaded();
    PointerByReference json = new PointerByReference();
    PointerByReference err = new PointerByReference();
    int rc = CredChainNative.credchain_diagnose(cProfile, json, err);
    return CredChainNative.takeString("credchain_diagnose", rc, json, err);
  }

  /**
   * The native library's version.
   *
   * @return the version, as {@code "0.1.0"}
   */
  public static String version() {
    CredChainNative.ensureLoaded();
    return CredChainNative.string(CredChainNative.credchain_version());
  }

  /**
   * Where the native library was loaded from: the system property {@code credchain.library.path},
   * else the environment variable {@code CREDCHAIN_LIBRARY} (a file, or a directory holding
   * libcredchain.so), else the copy bundled in this jar, extracted to a private temporary file.
   *
   * @return the path loaded and which of the three places named it, e.g. {@code "jar resource
   *     linux-x86-64/libcredchain.so extracted to /tmp/..."}
   * @throws CredChainException ({@link CredChainException.Code#INTERNAL}) when it could not be loaded
   */
  public static String libraryLocation() {
    CredChainNative.ensureLoaded();
    return CredChainNative.LOCATION;
  }

  /**
   * Sets how much the library logs to the {@code dev.credchain} java.util.logging logger: {@code
   * WARNING} for what the application hears in no other way (a background refresh that failed
   * while the previous credentials are still served), {@code FINE} for routine events (every
   * refresh, every invalidation) and for failures that the caller receives as a {@link
   * CredChainException}, {@code FINER} and {@code FINEST} for the library's debug and trace lines;
   * so the JVM's default configuration (INFO on standard error) prints only warnings. At load
   * the binding subscribes to the library's log at the level that logger lets through at the
   * time; call this after changing it. A new level replaces the binding's subscription (the new
   * one is made before the old one ends, so nothing is lost in between); {@code Level.OFF} (or
   * {@code null}) ends it. Only this binding's subscription changes: other hosts in the process
   * (a C driver, a Python plugin) keep theirs. After JVM shutdown has begun this does nothing.
   *
   * @param level the most detailed level to receive, or {@code null} (as {@code Level.OFF}) for none
   * @throws CredChainException when the library refuses the subscription
   */
  public static void setLogLevel(Level level) {
    CredChainNative.ensureLoaded();
    if (level != null) {
      LOG.setLevel(level);
    }
    int max = level == null ? CredChainNative.Logging.LOG_OFF
        : CredChainNative.Logging.levelFor(LOG);
    CredChainNative.Logging.apply(max);
  }
}
