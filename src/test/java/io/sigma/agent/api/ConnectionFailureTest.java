package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The cases loopback cannot produce (a connect that times out), with Pekko's real text. */
class ConnectionFailureTest {

  @Test
  void pekkosConnectTimeoutNamesTheAddressAndTheTimeout() {
    // What Pekko's TcpOutgoingConnection reports when the SYN is never answered.
    IOException pekko =
        new IOException(
            "Tcp command [Connect(sigma.example.com/203.0.113.7:443,None,"
                + "List(),Some(10 seconds),true)] failed because of org.apache.pekko.io.TcpOutgoingConnection"
                + "$$anon$2: Connect timeout of Some(10 seconds) expired");
    assertEquals(
        "connection to sigma.example.com:443 timed out after 10 s",
        ConnectionFailure.describe(pekko, "sigma.example.com", 443, Duration.ofSeconds(10)));
  }

  @Test
  void anUnknownFailureKeepsOnlyTheRootCause() {
    IOException pekko =
        new IOException(
            "Tcp command [Connect(h/<unresolved>:1,None,List(),Some(1 second),"
                + "true)] failed because of x",
            new IOException("Network is unreachable"));
    assertEquals(
        "connection to h:1 failed: Network is unreachable",
        ConnectionFailure.describe(pekko, "h", 1, Duration.ofSeconds(1)));
  }
}
