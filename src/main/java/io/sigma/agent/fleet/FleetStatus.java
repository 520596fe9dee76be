package io.sigma.agent.fleet;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The registration loop's counters and outcome as metrics and the health check see them: fed only
 * by the events {@link RegistrationActor} publishes, read from any thread at scrape/probe time. The
 * VPS id is not here: the actor is its one owner (subscribers get it with {@link
 * RegistrationActor.Registered}); this only knows whether there is one.
 */
public final class FleetStatus {
  private final Clock clock;
  private final AtomicLong heartbeatSuccesses = new AtomicLong();
  private final AtomicLong heartbeatFailures = new AtomicLong();
  private final AtomicLong registrationSuccesses = new AtomicLong();
  private final AtomicLong registrationFailures = new AtomicLong();
  private volatile boolean registered;
  private volatile Instant lastHeartbeatSuccess;
  private volatile Instant lastAnswer;
  private volatile String lastError;

  public FleetStatus(Clock clock) {
    this.clock = clock;
    this.lastAnswer = clock.instant();
  }

  void registered() {
    registered = true;
    registrationSuccesses.incrementAndGet();
    lastError = null;
    lastAnswer = clock.instant();
  }

  void registrationFailed(String error) {
    registrationFailures.incrementAndGet();
    lastError = error;
    lastAnswer = clock.instant();
  }

  void heartbeatSucceeded() {
    heartbeatSuccesses.incrementAndGet();
    lastHeartbeatSuccess = clock.instant();
    lastError = null;
    lastAnswer = lastHeartbeatSuccess;
  }

  void heartbeatFailed(String error) {
    heartbeatFailures.incrementAndGet();
    lastError = error;
    lastAnswer = clock.instant();
  }

  void deregistered() {
    registered = false;
  }

  /** The clock every time here is read from; the registration actor's log lines use it too. */
  Clock clock() {
    return clock;
  }

  public boolean isRegistered() {
    return registered;
  }

  public long heartbeatSuccesses() {
    return heartbeatSuccesses.get();
  }

  public long heartbeatFailures() {
    return heartbeatFailures.get();
  }

  public long registrationSuccesses() {
    return registrationSuccesses.get();
  }

  public long registrationFailures() {
    return registrationFailures.get();
  }

  public Optional<Instant> lastHeartbeatSuccess() {
    return Optional.ofNullable(lastHeartbeatSuccess);
  }

  public Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  /**
   * True while the request loop is turning: some answer (success or failure) arrived within {@code
   * limit}. A loop that stopped scheduling itself goes false.
   */
  public boolean loopTurnedWithin(Duration limit) {
    return Duration.between(lastAnswer, clock.instant()).compareTo(limit) <= 0;
  }
}
