package io.sigma.agent.xds;

import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.RegisterRequest;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SystemInfo;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * What the config poller's ITs start from: a dev sigma-api on loopback, the agent's real HTTP
 * client of it, and one VPS registered through that client.
 */
record DevApiWithVps(FaultInjectingDevApi devApi, SigmaApi http, String vpsId)
    implements AutoCloseable {

  static DevApiWithVps start(ActorSystem<?> system, String hostnamePrefix) throws Exception {
    FaultInjectingDevApi devApi = new FaultInjectingDevApi(0);
    String url = devApi.start(system).toCompletableFuture().get(10, TimeUnit.SECONDS);
    SigmaApi http =
        new HttpSigmaApi(system, URI.create(url), Optional.empty(), Duration.ofSeconds(2));
    return new DevApiWithVps(devApi, http, registerVps(http, hostnamePrefix));
  }

  /** Registers one more VPS (a fresh hostname) and returns its id. */
  static String registerVps(SigmaApi http, String hostnamePrefix) throws Exception {
    return http.register(
            new RegisterRequest(
                hostnamePrefix + UUID.randomUUID(),
                null,
                List.of(),
                22,
                new SystemInfo(1, 512, 10, 1, 100, List.of(0.0, 0.0, 0.0), null, null)))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .id();
  }

  @Override
  public void close() throws Exception {
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
