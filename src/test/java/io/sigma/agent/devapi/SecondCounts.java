package io.sigma.agent.devapi;

import java.util.Arrays;

/** Requests the dev API received during one epoch second, per endpoint kind. */
public record SecondCounts(long epochSecond, long[] countsByKind) {

  public SecondCounts {
    if (countsByKind.length != EndpointKind.values().length) {
      throw new IllegalArgumentException("one count per EndpointKind expected");
    }
    countsByKind = countsByKind.clone();
  }

  public long count(EndpointKind kind) {
    return countsByKind[kind.ordinal()];
  }

  /** All requests of that second, every kind together. */
  public long total() {
    return Arrays.stream(countsByKind).sum();
  }

  @Override
  public long[] countsByKind() {
    return countsByKind.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecondCounts other
        && other.epochSecond == epochSecond
        && Arrays.equals(other.countsByKind, countsByKind);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(epochSecond) * 31 + Arrays.hashCode(countsByKind);
  }

  @Override
  public String toString() {
    return "SecondCounts[" + epochSecond + " " + Arrays.toString(countsByKind) + "]";
  }
}
