package io.sigma.agent.bench;

import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.HeartbeatRequest;
import io.sigma.agent.api.Page;
import io.sigma.agent.api.RegisterRequest;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SigmaApiException;
import io.sigma.agent.api.SyncStaticRequest;
import io.sigma.agent.api.SyncStaticResult;
import io.sigma.agent.api.VpsRecord;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.RequestStats;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * One agent's real client, with every call counted on the agent side: the attempts per second (what
 * the fleet sends, including what a refused port never sees) and how each call ended. The counters
 * are shared by the whole simulated fleet.
 */
final class CountingSigmaApi implements SigmaApi {

  /** How calls ended: answered, or which kind of failure. Shared by all agents; thread-safe. */
  static final class Outcomes {
    private final LongAdder answered = new LongAdder();
    private final Map<SigmaApiException.Kind, LongAdder> failed =
        new EnumMap<>(SigmaApiException.Kind.class);

    Outcomes() {
      for (SigmaApiException.Kind k : SigmaApiException.Kind.values()) {
        failed.put(k, new LongAdder());
      }
    }

    void record(Throwable error) {
      if (error == null) {
        answered.increment();
      } else {
        SigmaApiException.of(error)
            .ifPresentOrElse(
                e -> failed.get(e.kind()).increment(),
                () -> failed.get(SigmaApiException.Kind.UNREACHABLE).increment());
      }
    }

    long answered() {
      return answered.sum();
    }

    long failed(SigmaApiException.Kind kind) {
      return failed.get(kind).sum();
    }

    String describe() {
      StringBuilder b = new StringBuilder("answered " + answered());
      failed.forEach(
          (k, n) ->
              b.append(", ")
                  .append(k.name().toLowerCase(java.util.Locale.ROOT))
                  .append(' ')
                  .append(n.sum()));
      return b.toString();
    }
  }

  private final SigmaApi api;
  private final RequestStats attempts;
  private final Outcomes outcomes;

  CountingSigmaApi(SigmaApi api, RequestStats attempts, Outcomes outcomes) {
    this.api = api;
    this.attempts = attempts;
    this.outcomes = outcomes;
  }

  private <T> CompletionStage<T> count(EndpointKind kind, Supplier<CompletionStage<T>> call) {
    attempts.record(kind);
    CompletionStage<T> result = call.get();
    result.whenComplete((value, error) -> outcomes.record(error));
    return result;
  }

  @Override
  public CompletionStage<VpsRecord> register(RegisterRequest request) {
    return count(EndpointKind.REGISTER, () -> api.register(request));
  }

  @Override
  public CompletionStage<VpsRecord> heartbeat(HeartbeatRequest request) {
    return count(EndpointKind.HEARTBEAT, () -> api.heartbeat(request));
  }

  @Override
  public CompletionStage<Page<EnvoyNode>> envoyNodes(String vpsId, int page, int perPage) {
    return count(EndpointKind.ENVOY_NODES, () -> api.envoyNodes(vpsId, page, perPage));
  }

  @Override
  public CompletionStage<Page<EnvoyRoute>> envoyRoutes(
      String envoyNodeUuid, int page, int perPage) {
    return count(EndpointKind.ENVOY_ROUTES, () -> api.envoyRoutes(envoyNodeUuid, page, perPage));
  }

  @Override
  public CompletionStage<EnvoyNode> createEnvoyNode(CreateEnvoyNodeRequest request) {
    return count(EndpointKind.CREATE_NODE, () -> api.createEnvoyNode(request));
  }

  @Override
  public CompletionStage<SyncStaticResult> syncStatic(SyncStaticRequest request) {
    return count(EndpointKind.SYNC_STATIC, () -> api.syncStatic(request));
  }
}
