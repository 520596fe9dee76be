package io.sigma.agent.ports;

import java.util.Objects;

/**
 * A process holding a socket, as in ss's {@code users:(("nginx",pid=1234,fd=6))}.
 *
 * @param name the process name (the kernel's {@code comm})
 * @param pid the process id (in the namespace the answer came from)
 * @param fd the file descriptor number, or -1 when not known
 */
public record SocketUser(String name, long pid, int fd) {
  public SocketUser {
    Objects.requireNonNull(name, "name");
  }
}
