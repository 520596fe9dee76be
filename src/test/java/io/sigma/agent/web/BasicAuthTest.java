package io.sigma.agent.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BasicAuthTest {
  /** A clock the test moves. */
  private static final class TestClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final TestClock clock = new TestClock();

  @Test
  void checksHashesOtherToolsWrote() {
    BasicAuth auth = new BasicAuth(Map.of("php", WebFixtures.PHP_HASH), clock);
    assertEquals(BasicAuth.Outcome.ACCEPTED, auth.check("php", WebFixtures.PHP_PASSWORD));
    assertEquals(BasicAuth.Outcome.WRONG_PASSWORD, auth.check("php", "rasmuslerdorF"));
    assertEquals(BasicAuth.Outcome.UNKNOWN_USER, auth.check("PHP", WebFixtures.PHP_PASSWORD));
  }

  @Test
  void aSuccessIsRememberedForAWhileAndFailuresNever() {
    String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
    BasicAuth auth = new BasicAuth(Map.of("prometheus", hash), clock);
    assertEquals(BasicAuth.Outcome.ACCEPTED, auth.check("prometheus", "s3cret"));
    assertEquals(BasicAuth.Outcome.ACCEPTED, auth.check("prometheus", "s3cret"));
    assertEquals(1, auth.bcryptRuns());

    assertEquals(BasicAuth.Outcome.WRONG_PASSWORD, auth.check("prometheus", "s3cret "));
    assertEquals(BasicAuth.Outcome.WRONG_PASSWORD, auth.check("prometheus", "s3cret "));
    assertEquals(3, auth.bcryptRuns());

    clock.now = clock.now.plus(BasicAuth.CACHE_TTL).minus(Duration.ofSeconds(1));
    assertEquals(BasicAuth.Outcome.ACCEPTED, auth.check("prometheus", "s3cret"));
    assertEquals(3, auth.bcryptRuns());
    clock.now = clock.now.plus(Duration.ofSeconds(1));
    assertEquals(BasicAuth.Outcome.ACCEPTED, auth.check("prometheus", "s3cret"));
    assertEquals(4, auth.bcryptRuns());
  }

  @Test
  void theCacheIsBounded() {
    // Many users, each remembered; the first is forgotten once CACHE_SIZE others came after it.
    String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "pw".toCharArray());
    Map<String, String> users = new java.util.HashMap<>();
    for (int i = 0; i <= BasicAuth.CACHE_SIZE; i++) {
      users.put("user" + i, hash);
    }
    BasicAuth auth = new BasicAuth(users, clock, new BasicAuth.Budget(1_000, 1));
    for (int i = 0; i <= BasicAuth.CACHE_SIZE; i++) {
      auth.check("user" + i, "pw");
    }
    int runs = auth.bcryptRuns();
    auth.check("user" + BasicAuth.CACHE_SIZE, "pw");
    assertEquals(runs, auth.bcryptRuns());
    auth.check("user0", "pw");
    assertEquals(runs + 1, auth.bcryptRuns());
  }

  @Test
  void aFloodOfWrongPasswordsRunsBcryptOnlyAtTheBudgetsRate() {
    String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
    BasicAuth auth = new BasicAuth(Map.of("prometheus", hash), clock, new BasicAuth.Budget(4, 2));
    java.util.List<BasicAuth.Outcome> burst = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      burst.add(auth.check("prometheus", "guess" + i));
    }
    assertEquals(
        4,
        burst.stream().filter(o -> o == BasicAuth.Outcome.WRONG_PASSWORD).count(),
        burst.toString());
    assertEquals(
        16, burst.stream().filter(o -> o == BasicAuth.Outcome.THROTTLED).count(), burst.toString());
    assertEquals(4, auth.bcryptRuns());

    clock.now = clock.now.plusSeconds(1);
    assertEquals(BasicAuth.Outcome.WRONG_PASSWORD, auth.check("prometheus", "again1"));
    assertEquals(BasicAuth.Outcome.WRONG_PASSWORD, auth.check("prometheus", "again2"));
    assertEquals(BasicAuth.Outcome.THROTTLED, auth.check("prometheus", "again3"));
    assertEquals(6, auth.bcryptRuns());
  }

  @Test
  void aRememberedPasswordPassesWhileTheBudgetIsSpent() {
    String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
    BasicAuth auth = new BasicAuth(Map.of("prometheus", hash), clock, new BasicAuth.Budget(2, 1));
    assertEquals(BasicAuth.Outcome.ACCEPTED, auth.check("prometheus", "s3cret"));
    assertEquals(BasicAuth.Outcome.WRONG_PASSWORD, auth.check("prometheus", "guess"));
    assertEquals(BasicAuth.Outcome.THROTTLED, auth.check("prometheus", "guess"));
    assertEquals(BasicAuth.Outcome.ACCEPTED, auth.check("prometheus", "s3cret"));
  }

  @Test
  void anUnknownUserCostsABcryptRunLikeAWrongPassword() {
    String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
    BasicAuth auth = new BasicAuth(Map.of("prometheus", hash), clock);
    assertEquals(BasicAuth.Outcome.UNKNOWN_USER, auth.check("admin", "s3cret"));
    assertEquals(
        1, auth.bcryptRuns(), "checked against a configured hash, for equal response times");
  }
}
