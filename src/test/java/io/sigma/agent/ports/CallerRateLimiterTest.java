package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.host.IpLiterals;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CallerRateLimiterTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private CallerRateLimiter limiter(int burst, int maxCallers) {
    return new CallerRateLimiter(burst, Duration.ofSeconds(1), maxCallers, now::get);
  }

  private static InetAddress ip(String text) {
    return IpLiterals.parse(text).orElseThrow();
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  /** Takes tokens until refused; returns how many were granted (at most {@code limit}). */
  private static int drain(CallerRateLimiter limiter, InetAddress caller, int limit) {
    int granted = 0;
    while (granted < limit && limiter.tryAcquire(caller).isEmpty()) {
      granted++;
    }
    return granted;
  }

  @Test
  void aBurstThenOneASecondWithTheWaitToldExactly() {
    CallerRateLimiter limiter = limiter(10, 16);
    InetAddress caller = ip("10.0.0.1");
    assertEquals(10, drain(limiter, caller, 100));
    assertEquals(Optional.of(Duration.ofSeconds(1)), limiter.tryAcquire(caller));
    advance(Duration.ofMillis(400));
    assertEquals(Optional.of(Duration.ofMillis(600)), limiter.tryAcquire(caller));
    advance(Duration.ofMillis(600));
    assertEquals(Optional.empty(), limiter.tryAcquire(caller));
    assertTrue(limiter.tryAcquire(caller).isPresent());
    advance(Duration.ofHours(1));
    assertEquals(10, drain(limiter, caller, 100), "refills up to the burst, never beyond");
  }

  @Test
  void callersHaveTheirOwnBuckets() {
    CallerRateLimiter limiter = limiter(3, 16);
    assertEquals(3, drain(limiter, ip("10.0.0.1"), 100));
    assertEquals(3, drain(limiter, ip("10.0.0.2"), 100));
  }

  @Test
  void anIpv6CallerIsCountedByItsSlash64AndAMappedOneAsIpv4() throws Exception {
    CallerRateLimiter limiter = limiter(3, 16);
    assertEquals(2, drain(limiter, ip("2001:db8:0:1::1"), 2));
    assertEquals(1, drain(limiter, ip("2001:db8:0:1:ffff::2"), 100), "same /64, same bucket");
    assertEquals(3, drain(limiter, ip("2001:db8:0:2::1"), 100), "another /64");

    assertEquals(3, drain(limiter, ip("10.0.0.9"), 100));
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    System.arraycopy(ip("10.0.0.9").getAddress(), 0, mapped, 12, 4);
    assertTrue(
        limiter.tryAcquire(Inet6Address.getByAddress(null, mapped, -1)).isPresent(),
        "::ffff:10.0.0.9 is 10.0.0.9");
  }

  @Test
  void onlyTheMostRecentCallersAreKept() {
    CallerRateLimiter limiter = limiter(2, 2);
    assertEquals(2, drain(limiter, ip("10.0.0.1"), 100));
    assertEquals(2, drain(limiter, ip("10.0.0.2"), 100));
    assertTrue(limiter.tryAcquire(ip("10.0.0.1")).isPresent(), "10.0.0.1 is now the most recent");
    assertEquals(2, drain(limiter, ip("10.0.0.3"), 100)); // evicts 10.0.0.2, the least recent
    assertTrue(limiter.tryAcquire(ip("10.0.0.1")).isPresent(), "still tracked: still empty");
    assertEquals(2, drain(limiter, ip("10.0.0.2"), 100), "forgotten: a fresh bucket");
  }
}
