package io.sigma.agent.web;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks basic-auth credentials against the bcrypt hashes of {@code basic_auth_users}; a password
 * is never compared in plain text, nor kept. bcrypt is slow by design (~0.1 s at cost 10 on one
 * small vCPU), so a successful check is remembered for {@link #CACHE_TTL}, keyed by user and the
 * password's SHA-256: Prometheus scraping every 15 s costs one bcrypt run every few minutes. At
 * most {@link #CACHE_SIZE} such entries are kept (the oldest go first); failures are never cached.
 *
 * <p>bcrypt runs are also budgeted ({@link Budget#DEFAULT}: 4 at once, then 2 a second), so a flood
 * of wrong passwords from the internet cannot burn the VPS's CPU: past the budget a check answers
 * {@link Outcome#THROTTLED} without running bcrypt (a remembered password still passes). An unknown
 * user costs a bcrypt run too (against a configured hash, result ignored), so response times do not
 * tell which user names exist.
 */
public final class BasicAuth {
  static final Duration CACHE_TTL = Duration.ofMinutes(5);
  static final int CACHE_SIZE = 64;
  private static final Pattern BCRYPT_HASH =
      Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}");

  /** What a check found. */
  public enum Outcome {
    ACCEPTED,
    UNKNOWN_USER,
    WRONG_PASSWORD,
    THROTTLED
  }

  /** bcrypt runs allowed: {@code burst} at once, then {@code perSecond}. */
  public record Budget(int burst, double perSecond) {
    /** ~0.2 s of bcrypt CPU a second at cost 10, at most. */
    public static final Budget DEFAULT = new Budget(4, 2);
  }

  private final Map<String, String> hashes;
  private final Clock clock;
  private final Map<String, Instant> verified =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
          return size() > CACHE_SIZE;
        }
      };
  private final Budget budget;

  /** A configured hash that unknown users are checked against, for equal response times. */
  private final String decoyHash;

  private int bcryptRuns;
  private double tokens;
  private Instant refilledAt;

  /** {@code hashes}: user name to bcrypt hash (checked with {@link #isBcryptHash}). */
  public BasicAuth(Map<String, String> hashes, Clock clock) {
    this(hashes, clock, Budget.DEFAULT);
  }

  BasicAuth(Map<String, String> hashes, Clock clock, Budget budget) {
    this.hashes = Map.copyOf(hashes);
    this.clock = clock;
    this.budget = budget;
    this.decoyHash = hashes.values().stream().sorted().findFirst().orElse(null);
    this.tokens = budget.burst();
    this.refilledAt = clock.instant();
  }

  static boolean isBcryptHash(String text) {
    return BCRYPT_HASH.matcher(text).matches();
  }

  public Outcome check(String user, String password) {
    String hash = hashes.get(user);
    String key = user + '\n' + sha256(password);
    Instant now = clock.instant();
    if (hash != null) {
      synchronized (verified) {
        Instant until = verified.get(key);
        if (until != null && now.isBefore(until)) {
          return Outcome.ACCEPTED;
        }
      }
    }
    if (!takeBcryptRun(now)) {
      return Outcome.THROTTLED;
    }
    boolean ok = verify(password, hash != null ? hash : decoyHash);
    if (hash == null) {
      return Outcome.UNKNOWN_USER;
    }
    if (!ok) {
      return Outcome.WRONG_PASSWORD;
    }
    synchronized (verified) {
      verified.put(key, now.plus(CACHE_TTL));
    }
    return Outcome.ACCEPTED;
  }

  private boolean verify(String password, String hash) {
    if (hash == null) {
      return false;
    }
    try {
      return BCrypt.verifyer()
          .verify(
              password.getBytes(StandardCharsets.UTF_8), hash.getBytes(StandardCharsets.US_ASCII))
          .verified;
    } catch (IllegalArgumentException e) {
      return false; // e.g. longer than the 72 bytes bcrypt can hash: no stored password is
    }
  }

  /** Takes one bcrypt run from the budget, refilled at {@link Budget#perSecond}. */
  private synchronized boolean takeBcryptRun(Instant now) {
    double seconds = Math.max(0, Duration.between(refilledAt, now).toNanos() / 1e9);
    tokens = Math.min(budget.burst(), tokens + seconds * budget.perSecond());
    refilledAt = now;
    if (tokens < 1) {
      return false;
    }
    tokens--;
    bcryptRuns++;
    return true;
  }

  /** How many bcrypt verifications ran (tests: the cache spares them). */
  synchronized int bcryptRuns() {
    return bcryptRuns;
  }

  private static String sha256(String password) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(password.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
