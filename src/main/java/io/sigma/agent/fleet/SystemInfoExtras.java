package io.sigma.agent.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * More objects for the {@code system_info} of every register and heartbeat request, by key (e.g.
 * {@code "envoy"}: what the control plane serves), supplied by the agent's root from other
 * features. The fleet knows nothing of what they mean: it asks before each request, waits at most
 * {@link #TIMEOUT}, and sends the facts without the extras when the answer is late or failed (then
 * they are simply absent from that request; sigma-api keeps what it last got).
 */
@FunctionalInterface
public interface SystemInfoExtras {
  /** How long a request waits for the extras. */
  Duration TIMEOUT = Duration.ofSeconds(1);

  /** No extras. */
  SystemInfoExtras NONE = () -> CompletableFuture.completedFuture(Map.of());

  /**
   * The objects to add now. Called off the actors, on the blocking-IO dispatcher; answer from state
   * at hand (e.g. an ask of an actor), never from a network call.
   */
  CompletionStage<Map<String, JsonNode>> collect();
}
