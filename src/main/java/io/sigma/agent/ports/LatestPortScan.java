package io.sigma.agent.ports;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The most recent completed {@link PortScan}, shared between the {@link PortScanActor} that writes
 * it and the readers that must never block or wait for a scan: metrics callbacks at scrape time and
 * {@link PortAllocator}. Empty until the first scan completes. Thread-safe.
 */
public final class LatestPortScan {
  private final AtomicReference<PortScan> latest = new AtomicReference<>();

  /** The last completed scan, or empty before the first one. */
  public Optional<PortScan> get() {
    return Optional.ofNullable(latest.get());
  }

  /** Replaces the current result (called by the scan actor after each successful scan). */
  public void set(PortScan scan) {
    latest.set(Objects.requireNonNull(scan, "scan"));
  }
}
