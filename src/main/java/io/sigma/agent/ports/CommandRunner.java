package io.sigma.agent.ports;

import java.io.IOException;
import java.util.List;

/**
 * Runs an external command and returns what it printed. The real one is {@link
 * ProcessCommandRunner}; tests hand in canned outputs.
 */
@FunctionalInterface
public interface CommandRunner {
  /**
   * @param command the program and its arguments
   * @return the exit code and outputs, whatever the exit code
   * @throws IOException when the program cannot be started (e.g. it is not installed) or does not
   *     finish in time
   */
  CommandResult run(List<String> command) throws IOException;
}
