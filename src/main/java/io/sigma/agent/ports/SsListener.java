package io.sigma.agent.ports;

import java.util.List;
import java.util.Objects;

/**
 * One socket line of {@code ss -tulnp} (or {@code -tlnp}, {@code -tuln}, {@code -H}) output.
 *
 * @param netid {@code tcp}, {@code udp}, …; empty when the output has no Netid column (as {@code ss
 *     -tlnp}'s, which lists TCP sockets only)
 * @param state {@code LISTEN}, {@code UNCONN}, …
 * @param localHost the local address as printed without brackets and interface: {@code 0.0.0.0},
 *     {@code 127.0.0.53}, {@code ::}, {@code ::1}, or {@code *} (ss's way of printing a dual-stack
 *     {@code ::} socket; a v6-only one prints as {@code [::]})
 * @param interfaceName the device after {@code %} ({@code 127.0.0.53%lo}), or empty
 * @param localPort the local port
 * @param users the processes holding the socket; empty when ss could not tell
 */
public record SsListener(
    String netid,
    String state,
    String localHost,
    String interfaceName,
    int localPort,
    List<SocketUser> users) {

  public SsListener {
    Objects.requireNonNull(netid, "netid");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(localHost, "localHost");
    Objects.requireNonNull(interfaceName, "interfaceName");
    users = List.copyOf(users);
  }

  /** A listening TCP socket (a line without a Netid column is taken as TCP, as -tlnp's are). */
  public boolean isTcpListener() {
    return (netid.isEmpty() || netid.equals("tcp")) && state.equals("LISTEN");
  }
}
