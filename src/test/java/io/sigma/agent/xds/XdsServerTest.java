package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sigma.agent.net.Http2HandshakeGuard;
import java.time.Duration;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.junit.jupiter.api.Test;

class XdsServerTest {

  @Test
  void adsBindingHasHttp2NoIdleTimeoutAndPings() {
    Config config =
        ConfigFactory.parseString(
                """
        pekko.http.server.enable-http2 = off
        pekko.http.server.idle-timeout = 1 s
        """)
            .withFallback(ConfigFactory.defaultReference());
    ServerSettings base = ServerSettings.create(config);
    assertTrue(
        base.getTimeouts().idleTimeout().isFinite(),
        "precondition: the config sets a finite idle timeout");

    ServerSettings ads =
        XdsServer.serverSettings(
            base, new Http2HandshakeGuard(null, Duration.ofSeconds(10), () -> "test"));

    assertTrue(ads.enableHttp2());
    assertFalse(ads.getTimeouts().idleTimeout().isFinite(), "idle ADS streams must not be reset");
    assertEquals(XdsServer.PING_INTERVAL, ads.getHttp2Settings().getPingInterval());
    assertEquals(base.getTimeouts().requestTimeout(), ads.getTimeouts().requestTimeout());
    assertTrue(ads.getRemoteAddressAttribute(), "the handshake guard needs each request's client");
  }
}
