package io.sigma.agent.ports;

import java.util.List;

/**
 * What {@link SsOutputParser} made of an {@code ss} output.
 *
 * @param sockets the socket lines understood
 * @param oddLines lines that were neither a header nor a socket line, skipped
 * @param firstOddLine the first of those (for a log line), or null
 */
public record SsOutput(List<SsListener> sockets, int oddLines, String firstOddLine) {
  public SsOutput {
    sockets = List.copyOf(sockets);
  }
}
