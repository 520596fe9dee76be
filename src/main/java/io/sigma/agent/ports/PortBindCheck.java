package io.sigma.agent.ports;

/** Decides, at this moment, whether a TCP bind to {@code 0.0.0.0:port} would succeed. */
@FunctionalInterface
public interface PortBindCheck {
  boolean canBind(int port);
}
