package io.sigma.agent.api;

/** The sigma-api key. Its {@code toString} is redacted so it can never reach a log line. */
public record ApiKey(String value) {
  public static final String REDACTED = "<redacted>";

  @Override
  public String toString() {
    return REDACTED;
  }
}
