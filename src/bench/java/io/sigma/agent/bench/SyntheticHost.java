package io.sigma.agent.bench;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.SystemInfo;
import io.sigma.agent.fleet.HostFacts;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * The host of simulated agent number {@code index}: its own hostname and addresses (a private 10.x
 * address and a public one from TEST-NET-3), a small VPS's system facts, and an uptime that
 * advances with the clock. Nothing is read from /proc, so a thousand of them cost no I/O.
 */
final class SyntheticHost implements HostFacts {
  private final String hostname;
  private final List<IpAddress> addresses;
  private final Clock clock;
  private final Instant bootedAt;

  SyntheticHost(int index, Clock clock) {
    this.hostname = hostname(index);
    this.addresses =
        List.of(
            new IpAddress(
                "10." + (1 + index / 65_536) + "." + (index / 256 % 256) + "." + (index % 256),
                IpAddress.INTERNAL),
            new IpAddress("203.0.113." + (1 + index % 254), IpAddress.PUBLIC));
    this.clock = clock;
    this.bootedAt = clock.instant().minusSeconds(86_400L + index);
  }

  static String hostname(int index) {
    return String.format("fleet-sim-%05d", index);
  }

  @Override
  public String hostname() {
    return hostname;
  }

  @Override
  public List<IpAddress> addresses() {
    return addresses;
  }

  @Override
  public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
    long uptime = clock.instant().getEpochSecond() - bootedAt.getEpochSecond();
    return new SystemInfo(1, 481, 9, 3, uptime, List.of(0.08, 0.05, 0.01), metricsPort, publicIp);
  }
}
