package io.sigma.agent.fleet;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.SystemInfo;
import io.sigma.agent.host.SystemFacts;
import java.util.List;

/** A host whose facts never change: the fleet tests' stand-in for /proc. */
record FixedHostFacts(String hostname, List<IpAddress> addresses, SystemFacts facts)
    implements HostFacts {
  @Override
  public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
    return facts.toSystemInfo(metricsPort, publicIp);
  }
}
