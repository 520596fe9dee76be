package io.sigma.agent.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.sigma.agent.api.HeartbeatRequest;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.Json;
import io.sigma.agent.api.SystemInfo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The extra system_info objects as they go over the wire, and every way the supplier can fail. */
class HostFactsWithExtrasTest {
  private static final Duration TIMEOUT = Duration.ofMillis(200);
  private final ObjectMapper wire = Json.newMapper();

  private static final HostFacts HOST =
      new HostFacts() {
        @Override
        public String hostname() {
          return "vps-1";
        }

        @Override
        public List<IpAddress> addresses() {
          return List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL));
        }

        @Override
        public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
          return new SystemInfo(2, 1987, 40, 12, 86400, List.of(0.5, 0.25, 0.0), metricsPort, null);
        }
      };

  private JsonNode systemInfoOnTheWire(SystemInfoExtras extras) throws Exception {
    HostFacts host = new HostFactsWithExtras(HOST, extras, TIMEOUT);
    assertEquals("vps-1", host.hostname());
    assertEquals(HOST.addresses(), host.addresses());
    return wire.readTree(
            wire.writeValueAsString(
                new HeartbeatRequest(host.hostname(), List.of(), host.systemInfo(9102, null))))
        .get("system_info");
  }

  private static JsonNode envoy() {
    return JsonNodeFactory.instance.objectNode().put("nodes", 2).put("version", "7");
  }

  @Test
  void theExtraObjectsGoNextToTheFacts() throws Exception {
    JsonNode info =
        systemInfoOnTheWire(() -> CompletableFuture.completedFuture(Map.of("envoy", envoy())));
    assertEquals(envoy(), info.get("envoy"));
    assertEquals(2, info.get("cpu_cores").asInt());
    assertEquals(9102, info.get("metrics_port").asInt());
    assertFalse(info.has("extra"), "no wrapper field: " + info);
  }

  @Test
  void withoutExtrasTheFactsAloneAreSent() throws Exception {
    JsonNode info = systemInfoOnTheWire(SystemInfoExtras.NONE);
    assertEquals(
        List.of(
            "cpu_cores",
            "ram_mb",
            "disk_gb",
            "disk_used_gb",
            "uptime_seconds",
            "load_avg",
            "metrics_port"),
        fieldNames(info));
  }

  @Test
  void anExtraCannotReplaceAFact() throws Exception {
    JsonNode info =
        systemInfoOnTheWire(
            () ->
                CompletableFuture.completedFuture(
                    Map.of(
                        "cpu_cores", JsonNodeFactory.instance.textNode("lots"), "envoy", envoy())));
    assertEquals(2, info.get("cpu_cores").asInt());
    assertEquals(envoy(), info.get("envoy"));
  }

  @Test
  void aLateAnswerLeavesTheExtrasOutAfterTheTimeout() throws Exception {
    long started = System.nanoTime();
    JsonNode info = systemInfoOnTheWire(CompletableFuture::new);
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertFalse(info.has("envoy"));
    assertEquals(2, info.get("cpu_cores").asInt());
    assertTrue(tookMillis >= TIMEOUT.toMillis(), "waited for the timeout: " + tookMillis + " ms");
  }

  @Test
  void aFailedOrThrowingSupplierLeavesTheExtrasOut() throws Exception {
    JsonNode failed =
        systemInfoOnTheWire(
            () -> CompletableFuture.failedFuture(new IllegalStateException("no envoy status")));
    assertFalse(failed.has("envoy"));
    JsonNode thrown =
        systemInfoOnTheWire(
            () -> {
              throw new IllegalStateException("supplier bug");
            });
    assertEquals(2, thrown.get("cpu_cores").asInt());
    JsonNode nullAnswer = systemInfoOnTheWire(() -> CompletableFuture.completedFuture(null));
    assertEquals(2, nullAnswer.get("cpu_cores").asInt());
  }

  /**
   * A reading thread interrupted while it waits for the extras (the blocking-IO pool shutting down)
   * sends the facts without them at once and keeps its interrupt for its owner to see.
   */
  @Test
  void anInterruptedWaitSendsTheFactsAndKeepsTheInterrupt() {
    HostFacts host = new HostFactsWithExtras(HOST, CompletableFuture::new, Duration.ofMinutes(5));
    Thread.currentThread().interrupt();
    SystemInfo info;
    try {
      info = host.systemInfo(9102, null);
    } finally {
      assertTrue(Thread.interrupted(), "the interrupt is kept (and cleared here)");
    }
    assertEquals(HOST.systemInfo(9102, null), info);
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new java.util.ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
