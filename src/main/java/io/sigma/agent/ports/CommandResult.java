package io.sigma.agent.ports;

import java.util.Objects;

/**
 * What a command printed.
 *
 * @param exitCode the process's exit code
 * @param stdout standard output (UTF-8), cut at the runner's limit
 * @param stderr standard error (UTF-8), cut at the runner's limit
 * @param truncated whether either output was cut
 */
public record CommandResult(int exitCode, String stdout, String stderr, boolean truncated) {
  public CommandResult {
    Objects.requireNonNull(stdout, "stdout");
    Objects.requireNonNull(stderr, "stderr");
  }

  /** A successful run that printed {@code stdout}. */
  public static CommandResult ok(String stdout) {
    return new CommandResult(0, stdout, "", false);
  }
}
