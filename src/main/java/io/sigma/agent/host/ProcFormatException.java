package io.sigma.agent.host;

import java.io.IOException;

/**
 * A file under /proc (or a copy of one) that exists but does not have the expected format. {@link
 * #problem()} is a fixed description of what is wrong (the same text each time the same problem
 * occurs, so it can key "warn once" logic); the message adds the offending detail.
 */
public final class ProcFormatException extends IOException {
  private final String problem;

  public ProcFormatException(String problem, String detail) {
    super(detail == null || detail.isEmpty() ? problem : problem + ": " + detail);
    this.problem = problem;
  }

  public ProcFormatException(String problem) {
    this(problem, null);
  }

  /** What is wrong, without the varying detail. */
  public String problem() {
    return problem;
  }
}
