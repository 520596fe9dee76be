package io.sigma.agent.devapi;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/**
 * The dev sigma-api the tests and benchmarks run against: a {@link DevSigmaApi} whose requests go
 * through a {@link FaultPlan} first (how it misbehaves, changeable at runtime from any thread) and
 * are counted in {@link RequestStats}, and that can go {@link #down()} (connections refused) and
 * come back {@link #up()} on the same port.
 *
 * <pre>{@code
 * FaultInjectingDevApi api = new FaultInjectingDevApi(0, "secret");
 * String baseUrl = api.start(system).toCompletableFuture().get();
 * api.faults().failNext(EndpointKind.REGISTER, 3, Fault.status(503));
 * ...
 * assertEquals(4, api.stats().total(EndpointKind.REGISTER));
 * }</pre>
 */
public final class FaultInjectingDevApi extends DevSigmaApi {
  private final FaultPlan faults;
  private final RequestStats stats;

  /** No API key check. {@code port} 0 picks an ephemeral port. */
  public FaultInjectingDevApi(int port) {
    this(port, null);
  }

  /** {@code apiKey} null or blank: no check; else every request needs {@code X-Api-Key}. */
  public FaultInjectingDevApi(int port, String apiKey) {
    this(port, apiKey, Clock.systemUTC(), RequestStats.DEFAULT_RETENTION);
  }

  /**
   * @param clock timestamps of records and seconds of the request histogram
   * @param statsRetention how many seconds of per-second counts to keep
   */
  public FaultInjectingDevApi(int port, String apiKey, Clock clock, Duration statsRetention) {
    this(
        port,
        apiKey,
        new DevApiStore(clock),
        new FaultPlan(),
        new RequestStats(clock, statsRetention));
  }

  private FaultInjectingDevApi(
      int port, String apiKey, DevApiStore store, FaultPlan faults, RequestStats stats) {
    super(port, apiKey, store, new FaultInjection(store, faults, stats));
    this.faults = faults;
    this.stats = stats;
  }

  /**
   * "Down" mode: unbinds the port and closes every open connection (in-flight answers get half a
   * second), so clients meet "connection refused" until {@link #up}.
   */
  public CompletionStage<Done> down() {
    return unbind();
  }

  /** Binds the same port again after {@link #down}; completes with the (same) base URL. */
  public CompletionStage<String> up() {
    return rebind();
  }

  public boolean isUp() {
    return isBound();
  }

  public boolean isDown() {
    return isUnbound();
  }

  /** Per-request faults, changeable at runtime from any thread. */
  public FaultPlan faults() {
    return faults;
  }

  /** Request counters: totals and per second, per endpoint kind. */
  public RequestStats stats() {
    return stats;
  }
}
