package io.sigma.agent;

import org.apache.pekko.actor.CoordinatedShutdown;

/** Shutdown reason when SIGTERM or SIGINT stops the agent: its name is what the log shows. */
public record StopSignal(String name) implements CoordinatedShutdown.Reason {
  @Override
  public String toString() {
    return name;
  }
}
