package io.sigma.agent.devapi;

import java.time.Duration;

/**
 * Probabilities of the random soak mode, drawn per request from a {@code java.util.Random} seeded
 * with {@code seed} (same seed and same request sequence, same faults).
 *
 * <ul>
 *   <li>{@code serverError}: a 5xx (500 JSON, 502 nginx HTML, 503 JSON or 504 nginx HTML);
 *   <li>{@code slow}: the answer comes after {@code slowDelay} (past the client's timeout);
 *   <li>{@code reset}: the connection is aborted without an answer;
 *   <li>{@code badBody}: 200 with a non-JSON body, JSON missing fields, or JSON of wrong types;
 *   <li>{@code configChurn}: drawn separately on each envoy-nodes request: the config of the
 *       requested VPS's nodes changes (see {@link DevApiAdmin#churnConfig}) before the answer.
 * </ul>
 *
 * The first four exclude each other, so their sum must not exceed 1.
 */
public record SoakFaults(
    double serverError,
    double slow,
    Duration slowDelay,
    double reset,
    double badBody,
    double configChurn,
    long seed) {

  public SoakFaults {
    for (double p : new double[] {serverError, slow, reset, badBody, configChurn}) {
      if (!(p >= 0 && p <= 1)) {
        throw new IllegalArgumentException("probabilities must be within 0..1, got " + p);
      }
    }
    if (serverError + slow + reset + badBody > 1.0 + 1e-9) {
      throw new IllegalArgumentException("serverError + slow + reset + badBody must not exceed 1");
    }
    if (slowDelay == null || slowDelay.isNegative()) {
      throw new IllegalArgumentException("slowDelay must be zero or positive");
    }
  }

  /** 5% 5xx, 2% slow (15 s), 2% resets, 3% bad bodies, 10% config churn. */
  public static SoakFaults defaults(long seed) {
    return new SoakFaults(0.05, 0.02, Duration.ofSeconds(15), 0.02, 0.03, 0.10, seed);
  }

  public SoakFaults withServerError(double p) {
    return new SoakFaults(p, slow, slowDelay, reset, badBody, configChurn, seed);
  }

  public SoakFaults withSlow(double p, Duration delay) {
    return new SoakFaults(serverError, p, delay, reset, badBody, configChurn, seed);
  }

  public SoakFaults withReset(double p) {
    return new SoakFaults(serverError, slow, slowDelay, p, badBody, configChurn, seed);
  }

  public SoakFaults withBadBody(double p) {
    return new SoakFaults(serverError, slow, slowDelay, reset, p, configChurn, seed);
  }

  public SoakFaults withConfigChurn(double p) {
    return new SoakFaults(serverError, slow, slowDelay, reset, badBody, p, seed);
  }
}
