package io.sigma.agent.ports;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A token bucket per caller: {@code burst} requests at once, then one every {@code refill}. An IPv6
 * caller is counted by its /64 (one host usually owns a whole /64, so counting single addresses
 * would hand it 2^64 buckets). At most {@code maxCallers} buckets are kept, the least recently used
 * dropped first (a dropped caller starts again with a full bucket: the price of bounded memory).
 * Thread-safe.
 */
public final class CallerRateLimiter {
  /** 10 requests at once. */
  public static final int BURST = 10;

  /** Then one a second. */
  public static final Duration REFILL = Duration.ofSeconds(1);

  /** Buckets kept. */
  public static final int MAX_CALLERS = 1024;

  private static final class Bucket {
    double tokens;
    long updatedAtNanos;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.updatedAtNanos = now;
    }
  }

  private record Key(byte[] bytes) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Key key && Arrays.equals(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }

  private final int burst;
  private final long refillNanos;
  private final LongSupplier nanoTime;
  private final Map<Key, Bucket> buckets; // guarded by this

  public CallerRateLimiter(int burst, Duration refill, int maxCallers, LongSupplier nanoTime) {
    if (burst < 1 || maxCallers < 1 || refill.isNegative() || refill.isZero()) {
      throw new IllegalArgumentException("burst, refill and maxCallers must be positive");
    }
    this.burst = burst;
    this.refillNanos = refill.toNanos();
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.buckets =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Key, Bucket> eldest) {
            return size() > maxCallers;
          }
        };
  }

  /** The agent's: {@link #BURST}, {@link #REFILL}, {@link #MAX_CALLERS}. */
  public static CallerRateLimiter standard() {
    return new CallerRateLimiter(BURST, REFILL, MAX_CALLERS, System::nanoTime);
  }

  /**
   * Takes one token of {@code caller}'s bucket: empty when it had one, else how long until it has
   * one again (for Retry-After).
   */
  public synchronized Optional<Duration> tryAcquire(InetAddress caller) {
    long now = nanoTime.getAsLong();
    Bucket bucket = buckets.computeIfAbsent(key(caller), k -> new Bucket(burst, now));
    double refilled = (double) (now - bucket.updatedAtNanos) / refillNanos;
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, refilled));
    bucket.updatedAtNanos = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return Optional.empty();
    }
    return Optional.of(Duration.ofNanos((long) Math.ceil((1 - bucket.tokens) * refillNanos)));
  }

  private static Key key(InetAddress caller) {
    InetAddress address = AllocationCallers.normalise(caller);
    byte[] bytes = address.getAddress();
    return new Key(address instanceof Inet6Address ? Arrays.copyOf(bytes, 8) : bytes);
  }
}
