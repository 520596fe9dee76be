package io.sigma.agent.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * When the soak's dev API misbehaves: each quarter of the run has faults on for its first {@code
 * faultyShare} and is healthy for the rest, so the quarters compared have the same load and the run
 * ends on a healthy API.
 */
record FaultSchedule(double totalSeconds, double faultyShare) {
  /** A healthy stretch of the run, in seconds since the soak's clock started. */
  record Window(double from, double to) {}

  boolean faulty(double seconds) {
    double quarter = totalSeconds / 4;
    return seconds % quarter < faultyShare * quarter;
  }

  List<Window> healthyWindows() {
    double quarter = totalSeconds / 4;
    List<Window> windows = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      windows.add(new Window(i * quarter + faultyShare * quarter, (i + 1) * quarter));
    }
    return windows;
  }
}
