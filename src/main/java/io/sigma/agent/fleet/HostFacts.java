package io.sigma.agent.fleet;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.SystemInfo;
import java.util.List;

/** What the agent reports about its host; read afresh for every register and heartbeat. */
public interface HostFacts {
  String hostname();

  List<IpAddress> addresses();

  /** System facts, plus {@code metrics_port} and {@code public_ip} when known (else null). */
  SystemInfo systemInfo(Integer metricsPort, String publicIp);
}
