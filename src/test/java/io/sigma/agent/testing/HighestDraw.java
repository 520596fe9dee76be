package io.sigma.agent.testing;

import java.util.random.RandomGenerator;

/** A random source that draws the top of every range it is asked for: the latest jitter. */
public final class HighestDraw implements RandomGenerator {
  @Override
  public long nextLong() {
    return Long.MAX_VALUE;
  }

  @Override
  public long nextLong(long bound) {
    return bound - 1;
  }
}
