package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Attribution with the real ss and the real /proc of this machine. */
class ListenerAttributorIT {
  private static final long PID = ProcessHandle.current().pid();

  @Test
  void theRealSsAttributesOurListenerToThisJavaProcess() throws IOException {
    assumeTrue(ssIsInstalled(), "ss (iproute2) is not installed");
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();

      ListenerAttributor attributor =
          new ListenerAttributor(new ProcessCommandRunner(), Path.of("/proc"));
      ListenerOwners owners = attributor.owners();
      ListenerAttribution attribution = ListenerAttribution.of(owners);

      Set<SocketUser> users = owners.usersByPort().get(port);
      assertTrue(
          users != null
              && users.stream()
                  .anyMatch(u -> u.name().equals("java") && u.pid() == PID && u.fd() >= 0),
          "port " + port + " held by java pid " + PID + ": " + users);
      assertTrue(attribution.otherByProcess().getOrDefault("java", 0) >= 1);
      assertTrue(attribution.count(ListenerSource.OTHER) >= 1);
    }
  }

  @Test
  void withoutSsTheFdWalkOfTheRealProcFindsOurListener() throws IOException {
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.INET6)) {
      listener.bind(new InetSocketAddress(0));
      int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
      CommandRunner nothingInstalled =
          command -> {
            throw new IOException("Cannot run program \"" + command.get(0) + "\": error=2");
          };

      ListenerOwners owners = new ListenerAttributor(nothingInstalled, Path.of("/proc")).owners();

      Set<SocketUser> users = owners.usersByPort().get(port);
      assertTrue(
          users != null && users.stream().anyMatch(u -> u.name().equals("java") && u.pid() == PID),
          "port " + port + " found by the fd walk: " + users);
    }
  }

  private static boolean ssIsInstalled() {
    try {
      return new ProcessCommandRunner().run(List.of("ss", "-V")).exitCode() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void theRealSsOutputParsesWithoutOddLines() throws IOException {
    assumeTrue(ssIsInstalled(), "ss (iproute2) is not installed");
    CommandResult result = new ProcessCommandRunner().run(ListenerAttributor.SS);
    assertEquals(0, result.exitCode(), result.stderr());
    SsOutput output = SsOutputParser.parse(result.stdout());
    assertEquals(0, output.oddLines(), "first odd line: " + output.firstOddLine());
    assertTrue(output.sockets().stream().anyMatch(SsListener::isTcpListener));
  }
}
