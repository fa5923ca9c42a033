package dev.credchain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * How long this binding hands out its Java copy of credentials without asking the library: until
 * the library's {@code reuse_until} (the start of its mandatory refresh window), and only while the
 * generation counter is unchanged. Fed numbers; never loads the native library.
 */
class CopyReuseTest {
  static final long HOUR = 3600;
  static final long FETCHED = 1_900_000_000L;

  @Test
  void aCopyIsReusedUntilTheLibrarysReuseUntilNotUntilTheExpiryMargin() {
    // An hour-long session; the library's mandatory window is its last 10 minutes.
    long expiration = FETCHED + HOUR;
    long reuseUntil = expiration - 600;
    long deadline = CredChain.reuseDeadlineMillis(reuseUntil);
    assertEquals(reuseUntil * 1000, deadline);
    assertTrue(CredChain.reusable(7, deadline, 7, () -> FETCHED * 1000));
    assertTrue(CredChain.reusable(7, deadline, 7, () -> reuseUntil * 1000 - 1));
    assertFalse(CredChain.reusable(7, deadline, 7, () -> reuseUntil * 1000), "from reuse_until on");
    // the old rule ("until 1 s before expiry") would still have reused it here:
    assertFalse(CredChain.reusable(7, deadline, 7, () -> (expiration - 300) * 1000));
  }

  @Test
  void aCopyIsNotReusedOnceTheGenerationMoved() {
    long deadline = CredChain.reuseDeadlineMillis(FETCHED + HOUR - 600);
    assertFalse(CredChain.reusable(7, deadline, 8, () -> FETCHED * 1000));
    long never = CredChain.reuseDeadlineMillis(0);
    assertFalse(CredChain.reusable(7, never, 8, () -> FETCHED * 1000));
  }

  @Test
  void credentialsThatNeverExpireAreReusedUntilTheGenerationMovesWithoutReadingTheClock() {
    long deadline = CredChain.reuseDeadlineMillis(0);
    assertEquals(Long.MAX_VALUE, deadline);
    AtomicInteger clockReads = new AtomicInteger();
    assertTrue(CredChain.reusable(7, deadline, 7, () -> {
      clockReads.incrementAndGet();
      return Long.MAX_VALUE - 1;
    }));
    assertEquals(0, clockReads.get(), "the hot path of static credentials reads no clock");
  }

  @Test
  void theBindingKeepsNoMarginOfItsOwn() {
    // The library's reuse_until already stops a second before expiry
    // (core/src/cache/snapshot.rs): the binding takes it as it is, as the Python binding does.
    long expiration = FETCHED + HOUR;
    assertEquals((expiration - 1) * 1000, CredChain.reuseDeadlineMillis(expiration - 1));
  }
}
