package io.sigma.agent;

import org.apache.pekko.actor.CoordinatedShutdown;

/** Shutdown reason when the agent cannot start (e.g. a port it must bind is taken). */
public final class StartupFailure implements CoordinatedShutdown.Reason {
  public static final StartupFailure INSTANCE = new StartupFailure();

  private StartupFailure() {}

  @Override
  public String toString() {
    return "StartupFailure";
  }
}
