package io.sigma.agent.bench;

import java.time.Duration;
import java.time.Instant;

/**
 * When each phase of the simulation began (wall clock, as the dev API's per-second counts are).
 *
 * @param fleetStart the first agent was started
 * @param allHeartbeating every agent had registered and sent a successful heartbeat
 * @param steadyStart start of the window the steady-state rate is taken over
 * @param outageStart the API began answering 503 (the steady window ends here)
 * @param refusedFrom the API stopped accepting connections
 * @param apiBack the API accepted connections and answered normally again
 * @param watchEnd the end of the recovery watch
 */
record FleetPhases(
    Instant fleetStart,
    Instant allHeartbeating,
    Instant steadyStart,
    Instant outageStart,
    Instant refusedFrom,
    Instant apiBack,
    Instant watchEnd) {

  /** Seconds since the fleet started, for chart axes. */
  double secondsSinceStart(Instant t) {
    return Duration.between(fleetStart, t).toMillis() / 1000.0;
  }

  /** Epoch second of an instant. */
  static long second(Instant t) {
    return t.getEpochSecond();
  }
}
