package io.sigma.agent;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.devapi.DevSigmaApi;
import io.sigma.agent.devapi.DevVps;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole agent started from flags with --envoy-config-sync on the example file: the guardian tells
 * the sync the VPS id once registration has it, and the example's two TCP proxies reach the (dev)
 * sigma-api as static routes of a node the agent created.
 */
class StaticSyncAgentIT {
  private static final Duration AWAIT = Duration.ofSeconds(30);
  private static final String KEY = "it-static-key";
  private static final String HOST = "it-static-sync";

  @TempDir Path stateDir;

  @Test
  void theExampleFileIsSyncedOnceTheAgentIsRegistered() throws Exception {
    ActorTestKit kit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    DevSigmaApi devApi = new DevSigmaApi(0, KEY);
    try {
      String url = devApi.start(kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      try (RunningAgent agent =
          RunningAgent.start(
              "--api-url",
              url,
              "--api-key",
              KEY,
              "--hostname",
              HOST,
              "--metrics-port",
              "0",
              "--management-port",
              "0",
              "--public-ip-lookup=false",
              "--state-dir",
              stateDir.toString(),
              "--envoy-config-sync",
              "--envoy-config-path",
              "examples/envoy/envoy.yaml",
              "--envoy-config-sync-interval",
              "1")) {
        List<EnvoyRoute> routes = awaitRoutes(devApi, "static-" + HOST + "-envoy", 2);
        assertEquals(
            List.of(
                "tcp-proxy-hk01 10001 hk013.example.com:30008 logical_dns 5s pp0 static",
                "tcp-proxy-sg02 10002 203.0.113.20:30010 static 1s pp2 static"),
            routes.stream()
                .map(
                    r ->
                        r.name()
                            + " "
                            + r.listenPort()
                            + " "
                            + r.backendHost()
                            + ":"
                            + r.backendPort()
                            + " "
                            + r.clusterType()
                            + " "
                            + r.connectTimeoutSecs()
                            + "s pp"
                            + r.proxyProtocol()
                            + " "
                            + r.source())
                .toList());
      }
    } finally {
      devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      kit.shutdownTestKit();
    }
  }

  private static List<EnvoyRoute> awaitRoutes(DevSigmaApi devApi, String nodeId, int count)
      throws InterruptedException {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<DevVps> vps = admin(devApi).vpsByHostname(HOST);
      Optional<EnvoyNode> node =
          vps.flatMap(
              v ->
                  admin(devApi).nodes(v.id()).stream()
                      .filter(n -> n.nodeId().equals(nodeId))
                      .findFirst());
      if (node.isPresent() && admin(devApi).routes(node.get().id()).size() == count) {
        return admin(devApi).routes(node.get().id());
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    throw new AssertionError("no " + count + " routes of node " + nodeId + " within " + AWAIT);
  }
}
