package io.sigma.agent.host;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A host file (under {@code --host-proc}, or the host-hostname file) that {@link HostFileReader}
 * will not read: not a regular file (a FIFO would block the reading thread in open(2) until a
 * writer appears, a device such as {@code /dev/zero} never ends), or longer than the cap for it.
 * {@link #problem()} is a fixed text per kind of refusal (it keys "warn once" logic); the message
 * names the file too.
 */
public final class HostFileRefusedException extends IOException {
  private final transient Path file;
  private final String problem;

  public HostFileRefusedException(Path file, String problem) {
    super(file + " " + problem);
    this.file = file;
    this.problem = problem;
  }

  /** The file as it was asked for (before symlinks are followed). */
  public Path file() {
    return file;
  }

  /** Why it was refused, without the file name, e.g. "is a FIFO, not a regular file". */
  public String problem() {
    return problem;
  }
}
