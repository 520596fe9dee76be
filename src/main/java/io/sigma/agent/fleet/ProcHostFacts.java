package io.sigma.agent.fleet;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.SystemInfo;
import io.sigma.agent.host.HostAddressDiscovery;
import io.sigma.agent.host.SystemFactsReader;
import java.util.List;

/** {@link HostFacts} read from the host's /proc (and statvfs of the root file system). */
public final class ProcHostFacts implements HostFacts {
  private final String hostname;
  private final HostAddressDiscovery addresses;
  private final SystemFactsReader systemFacts;

  public ProcHostFacts(
      String hostname, HostAddressDiscovery addresses, SystemFactsReader systemFacts) {
    this.hostname = hostname;
    this.addresses = addresses;
    this.systemFacts = systemFacts;
  }

  @Override
  public String hostname() {
    return hostname;
  }

  @Override
  public List<IpAddress> addresses() {
    return addresses.discover();
  }

  @Override
  public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
    return systemFacts.read().toSystemInfo(metricsPort, publicIp);
  }
}
