package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Runs one full scan: the occupancy of a range ({@link KernelPortScanner}) and the system-wide
 * attribution of listening ports ({@link ListenerAttributor}). Blocking (ss runs as a child
 * process): call it from a dedicated dispatcher. Never throws for bad tables or commands.
 */
public final class PortScanner {
  private final KernelPortScanner occupancy;
  private final ListenerAttributor attributor;
  private final Clock clock;

  public PortScanner(KernelPortScanner occupancy, ListenerAttributor attributor, Clock clock) {
    this.occupancy = Objects.requireNonNull(occupancy, "occupancy");
    this.attributor = Objects.requireNonNull(attributor, "attributor");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The production wiring: tables under {@code procRoot}, ambiguous ports and unreadable tables
   * settled with a {@link BindProbe}, {@code ss}/{@code nsenter} run by a {@link
   * ProcessCommandRunner} with its default timeout and output limit.
   */
  public static PortScanner onProc(Path procRoot) {
    return new PortScanner(
        new KernelPortScanner(procRoot, new BindProbe()),
        new ListenerAttributor(new ProcessCommandRunner(), procRoot),
        Clock.systemUTC());
  }

  public PortScan scan(PortRange range) {
    Instant at = clock.instant();
    long start = System.nanoTime();
    PortOccupancy ports = occupancy.scan(range);
    ListenerAttribution listeners = attributor.attribute();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    return new PortScan(range, ports.occupied(), listeners, at, took);
  }
}
