package io.sigma.agent.api;

import io.sigma.agent.ports.LatestPortScan;

/**
 * A test-only class in api that uses a feature (ports): PackageGraphTest proves with it that an
 * edge outside the whitelist is reported. Never copy this into src/main.
 */
public final class GraphViolationFixture {
  private GraphViolationFixture() {}

  public static boolean hasScan(LatestPortScan latest) {
    return latest.get().isPresent();
  }
}
