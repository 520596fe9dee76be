package io.sigma.agent.ports;

import java.util.Locale;

/** Who holds a listening port, as the {@code source} label of {@code sigma_ports_used}. */
public enum ListenerSource {
  ENVOY,
  SSHD,
  NGINX,
  NODE_EXPORTER,
  XRAY,
  /** A named process that is none of the above; its name is kept for the detail metric. */
  OTHER,
  /** No process name could be found for the port. */
  UNKNOWN;

  /** The metric label: the lower-case name, e.g. {@code node_exporter}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
