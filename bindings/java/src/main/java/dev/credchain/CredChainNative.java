package dev.credchain;

import com.sun.jna.Callback;
import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The C ABI, direct-mapped ({@code com.sun.jna.Native.register}): every call is a plain JNI call,
 * no proxy and no reflection. Strings go in as NUL-terminated UTF-8 {@code byte[]} that
 * {@link CStrings} built and checked, and come out through {@link Pointer#getString(long, String)}
 * with UTF-8, so neither depends on the platform's default charset.
 */
final class CredChainNative {
  private CredChainNative() {}

  // ---- the C functions ------------------------------------------------------------------------

  static native int credchain_get_credentials(byte[] profile, PointerByReference out,
      PointerByReference error);

  static native void credchain_free_credentials(Pointer credentials);

  static native int credchain_invalidate(byte[] profile, PointerByReference error);

  static native int credchain_error_code(Pointer error);

  static native Pointer credchain_error_message(Pointer error);

  static native Pointer credchain_error_source(Pointer error);

  static native void credchain_error_free(Pointer error);

  static native int credchain_abi_version();

  static native Pointer credchain_version();

  static native Pointer credchain_generation_counter();

  static native int credchain_log_subscribe(int maxLevel, LogSubscriber callback,
      Pointer userdata, LongByReference subscription, PointerByReference error);

  static native int credchain_log_unsubscribe(long subscription, PointerByReference error);

  static native int credchain_diagnose(byte[] profile, PointerByReference json,
      PointerByReference error);

  static native void credchain_string_free(Pointer string);

  // uint16_t port is declared int: JNA passes it as a 32-bit value that, for 1..65535, is the
  // zero-extended register the C ABI expects (a Java short would be sign-extended above 32767).
  static native int credchain_rds_auth_token(byte[] profile, byte[] hostname, int port,
      byte[] username, byte[] region, long signingTime, PointerByReference token,
      PointerByReference error);

  // bool admin: JNA passes a Java boolean as a 32-bit 0 or 1, which a C bool argument reads.
  static native int credchain_dsql_auth_token(byte[] profile, byte[] hostname, byte[] region,
      boolean admin, long signingTime, PointerByReference token, PointerByReference error);

  static native int credchain_token_fingerprint(byte[] token, PointerByReference fingerprint,
      PointerByReference error);

  /**
   * {@code credchain_credentials}; only read, never written or allocated from Java. The struct
   * only ever grows at its end; the ABI check at load guarantees a library at least as new as
   * this mapping (HeaderConstantsTest compares the fields with the header's).
   */
  @Structure.FieldOrder({"access_key_id", "secret_access_key", "session_token", "account_id",
      "source", "expiration", "reuse_until"})
  public static final class CCredentials extends Structure {
    public Pointer access_key_id;
    public Pointer secret_access_key;
    public Pointer session_token;
    public Pointer account_id;
    public Pointer source;
    public long expiration;
    /** Until when (Unix seconds) a copy may be reused; 0: until the generation moves. ABI 1.0. */
    public long reuse_until;

    public CCredentials(Pointer p) {
      super(p);
      read();
    }
  }

  /**
   * {@code credchain_log_subscriber}; the message is borrowed for the call only. The binding
   * subscribes with a NULL {@code userdata}.
   */
  public interface LogSubscriber extends Callback {
    void invoke(int level, Pointer message, Pointer userdata);
  }

  // ---- loading --------------------------------------------------------------------------------

  static final String LOCATION;
  static final Throwable LOAD_ERROR;
  /** The generation counter as 8 bytes in native order, or null when the library has none. */
  private static final ByteBuffer GENERATION;
  private static final AtomicLong NO_COUNTER = new AtomicLong();

  static {
    String location = null;
    Throwable error = null;
    ByteBuffer gen = null;
    try {
      NativeLoader.Loaded loaded = NativeLoader.load();
      // Before anything is bound: a library of another ABI major (or one older than ABI
      // versioning) is refused here, instead of being called through the wrong signatures.
      Abi.check(loaded.location, () -> loaded.library.getFunction("credchain_abi_version")
          .invokeInt(new Object[0]));
      com.sun.jna.Native.register(CredChainNative.class, loaded.library);
      location = loaded.location;
      Pointer counter = credchain_generation_counter();
      if (counter != null) {
        gen = counter.getByteBuffer(0, 8).order(ByteOrder.nativeOrder());
      }
    } catch (Throwable t) {
      error = t;
    }
    LOCATION = location;
    LOAD_ERROR = error;
    GENERATION = gen;
    if (error == null) {
      try {
        Logging.install();
        Logging.LOGGER.fine("loaded libcredchain " + string(credchain_version()) + " (ABI "
            + Abi.format(credchain_abi_version()) + ") from " + location);
      } catch (Throwable t) {
        // Credentials matter more than log lines: keep going without the subscription.
        Logging.LOGGER.log(Level.WARNING, "could not subscribe to libcredchain's log", t);
      }
    }
  }

  /** Throws when the library could not be loaded; call first in every entry point. */
  static void ensureLoaded() {
    if (LOAD_ERROR != null) {
      throw NativeLoader.loadFailure(LOAD_ERROR);
    }
  }

  /**
   * The library's generation counter, read straight from its memory: no JNI call. A library
   * without a counter yields a new number on every read, so nothing is ever reused.
   */
  static long generation() {
    ByteBuffer g = GENERATION;
    return g != null ? g.getLong(0) : NO_COUNTER.decrementAndGet();
  }

  static String string(Pointer p) {
    return p == null ? null : p.getString(0, StandardCharsets.UTF_8.name());
  }

  /**
   * The string a call returned through its {@code char **} out parameter, copied into Java and
   * released at once with {@code credchain_string_free} (which zeroes it); or the call's failure.
   */
  static String takeString(String function, int rc, PointerByReference out,
      PointerByReference error) {
    if (rc != 0) {
      throw failure(function, rc, error.getValue());
    }
    Pointer p = out.getValue();
    if (p == null) {
      throw new CredChainException(CredChainException.Code.INTERNAL,
          function + " returned OK without a string");
    }
    try {
      return string(p);
    } finally {
      credchain_string_free(p);
    }
  }

  /** Turns a result code and an optional error into an exception, freeing the error. */
  static CredChainException failure(String function, int code, Pointer error) {
    if (error == null) {
      return new CredChainException(code, function + " failed with code " + code
          + " and no error detail", null, null);
    }
    try {
      int c = credchain_error_code(error);
      String message = string(credchain_error_message(error));
      String source = string(credchain_error_source(error));
      return new CredChainException(c != 0 ? c : code,
          message != null ? message : function + " failed with code " + code, source, null);
    } finally {
      credchain_error_free(error);
    }
  }

  // ---- logging --------------------------------------------------------------------------------

  /**
   * Routes the library's log to java.util.logging, logger {@code dev.credchain}, through the
   * binding's own subscription ({@code credchain_log_subscribe}). Other hosts in the process (a C
   * driver, a Python plugin) hold their own subscriptions at their own levels; the binding only
   * ever ends its own, so neither a level change nor JVM exit silences them.
   */
  static final class Logging implements LogSubscriber {
    static final Logger LOGGER = Logger.getLogger("dev.credchain");
    /**
     * Strong and static: never collected, so the function pointer JNA made for it stays valid
     * while the library holds it (for as long as it is subscribed, and a callback already in
     * flight when an unsubscription gave up waiting).
     */
    static final Logging CALLBACK = new Logging();
    static final AtomicLong DELIVERED = new AtomicLong();

    // credchain_log_level, most severe first. HeaderConstantsTest checks these names and numbers
    // against include/credchain.h (the LOG_ prefix stands for CREDCHAIN_LOG_). They live here,
    // not in CredChainNative, so that reading them does not load the native library.
    static final int LOG_OFF = 0;
    static final int LOG_ERROR = 1;
    static final int LOG_WARN = 2;
    static final int LOG_INFO = 3;
    static final int LOG_DEBUG = 4;
    static final int LOG_TRACE = 5;

    /** Guards the fields below; never taken by the callback (unsubscribing waits for it). */
    private static final Object LOCK = new Object();
    /** The binding's subscription, when {@link #subscribed}. */
    private static long subscription;
    private static boolean subscribed;
    private static int subscribedLevel = LOG_OFF;
    /** The exit path ran: the JVM is going away, nothing subscribes again. */
    private static boolean closed;

    /**
     * The JVM shutdown hook: ends the binding's subscription (only it) before the JVM goes, so the
     * library's threads never call into a JVM that is shutting down or gone (an application that
     * embeds the JVM may keep running after {@code DestroyJavaVM}, with its C drivers still
     * logging). Unsubscribing waits for callbacks in flight, at most a second.
     */
    static final Thread EXIT_HOOK = new Thread(Logging::unsubscribeAtExit, "credchain-log-exit");

    private Logging() {}

    static void install() {
      // Native threads (the library's runtime thread) that call back are attached to the JVM as
      // daemon threads and stay attached, so they neither block JVM exit nor re-attach per call.
      com.sun.jna.Native.setCallbackThreadInitializer(CALLBACK,
          new CallbackThreadInitializer(true, false, "credchain-native"));
      try {
        Runtime.getRuntime().addShutdownHook(EXIT_HOOK);
      } catch (IllegalStateException shuttingDown) {
        // Loaded while the JVM exits: no subscription that nothing would end.
        synchronized (LOCK) {
          closed = true;
        }
        return;
      }
      apply(levelFor(LOGGER));
    }

    /**
     * Subscribes at {@code max} (a LOG_* level), or ends the subscription for {@code LOG_OFF}.
     * A different level is a new subscription: the new one is made first and the old one ended
     * afterwards, so no message is lost in between (one logged at that instant may arrive twice),
     * and a failed subscription leaves the old one in place. The same level changes nothing.
     *
     * @throws CredChainException when the library refuses
     */
    static void apply(int max) {
      synchronized (LOCK) {
        if (closed || (subscribed ? max == subscribedLevel : max == LOG_OFF)) {
          return;
        }
        boolean hadPrevious = subscribed;
        long previous = subscription;
        if (max == LOG_OFF) {
          subscribed = false;
        } else {
          LongByReference id = new LongByReference();
          PointerByReference err = new PointerByReference();
          int rc = credchain_log_subscribe(max, CALLBACK, null, id, err);
          if (rc != 0) {
            throw failure("credchain_log_subscribe", rc, err.getValue());
          }
          subscription = id.getValue();
          subscribed = true;
        }
        subscribedLevel = max;
        if (hadPrevious) {
          unsubscribe(previous);
        }
      }
    }

    /** The binding's subscription id, or null when it has none (for tests). */
    static Long subscription() {
      synchronized (LOCK) {
        return subscribed ? subscription : null;
      }
    }

    /** The exit path ({@link #EXIT_HOOK}): ends the binding's own subscription, for good. */
    static void unsubscribeAtExit() {
      synchronized (LOCK) {
        closed = true;
        if (!subscribed) {
          return;
        }
        subscribed = false;
        subscribedLevel = LOG_OFF;
        try {
          unsubscribe(subscription);
        } catch (Throwable ignored) {
          // The JVM is exiting: there is nobody left to tell.
        }
      }
    }

    private static void unsubscribe(long id) {
      PointerByReference err = new PointerByReference();
      int rc = credchain_log_unsubscribe(id, err);
      if (rc != 0) {
        throw failure("credchain_log_unsubscribe", rc, err.getValue());
      }
    }

    /**
     * The native level (LOG_OFF .. LOG_TRACE) whose messages the logger's current level lets
     * through once {@link #julLevel} has mapped them: the most detailed one, so that nothing the
     * logger would publish is left unsent, and nothing it would drop is formatted for nothing.
     */
    static int levelFor(Logger logger) {
      if (logger.isLoggable(Level.FINEST)) {
        return LOG_TRACE;
      }
      if (logger.isLoggable(Level.FINER)) {
        return LOG_DEBUG;
      }
      if (logger.isLoggable(Level.FINE)) {
        return LOG_INFO; // with LOG_ERROR, also FINE
      }
      if (logger.isLoggable(Level.WARNING)) {
        return LOG_WARN;
      }
      return LOG_OFF;
    }

    /**
     * The java.util.logging level of a library message. The JVM's default configuration prints
     * INFO and above on standard error, so only what the application needs to hear and hears in
     * no other way is above FINE:
     *
     * <ul>
     *   <li>WARN: {@code WARNING}. A background refresh that failed while the previous credentials
     *       are still served (no caller sees an error yet, and they will expire), two copies of the
     *       library that cannot share a cache.
     *   <li>INFO: {@code FINE}. Routine events: credentials that changed (every refresh), an
     *       invalidation.
     *   <li>ERROR: {@code FINE}. The library says ERROR for a fetch that failed with no
     *       credentials to serve, and its caller receives that very message as a {@link
     *       CredChainException} (or as the C call's error): printed as well, it would be said twice
     *       even when the caller handles it. (The library's only other ERROR, a C caller freeing
     *       credentials twice, concerns that caller, never this binding.)
     *   <li>DEBUG: {@code FINER}; TRACE: {@code FINEST}.
     * </ul>
     */
    static Level julLevel(int level) {
      switch (level) {
        case LOG_WARN:
          return Level.WARNING;
        case LOG_ERROR:
        case LOG_INFO:
          return Level.FINE;
        case LOG_DEBUG:
          return Level.FINER;
        default:
          return Level.FINEST;
      }
    }

    @Override
    public void invoke(int level, Pointer message, Pointer userdata) {
      // Any thread, possibly one the JVM has never seen: nothing may escape into native code.
      try {
        Level l = julLevel(level);
        if (!LOGGER.isLoggable(l)) {
          return;
        }
        LogRecord r = new LogRecord(l, message == null ? "" : string(message));
        r.setLoggerName(LOGGER.getName());
        r.setSourceClassName("libcredchain");
        r.setSourceMethodName(null);
        LOGGER.log(r);
        DELIVERED.incrementAndGet();
      } catch (Throwable ignored) {
        // Dropping a log line is better than unwinding through the library.
      }
    }
  }
}
