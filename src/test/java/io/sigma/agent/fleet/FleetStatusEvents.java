package io.sigma.agent.fleet;

/**
 * Drives a {@link FleetStatus} from tests outside this package, as {@link RegistrationActor} would
 * (its writers are package-private so that only the actor writes it in production).
 */
public final class FleetStatusEvents {
  private FleetStatusEvents() {}

  public static void registered(FleetStatus status) {
    status.registered();
  }

  public static void heartbeatSucceeded(FleetStatus status) {
    status.heartbeatSucceeded();
  }

  public static void heartbeatFailed(FleetStatus status, String error) {
    status.heartbeatFailed(error);
  }
}
