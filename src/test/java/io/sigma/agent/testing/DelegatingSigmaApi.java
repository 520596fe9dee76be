package io.sigma.agent.testing;

import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.HeartbeatRequest;
import io.sigma.agent.api.Page;
import io.sigma.agent.api.RegisterRequest;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SyncStaticRequest;
import io.sigma.agent.api.SyncStaticResult;
import io.sigma.agent.api.VpsRecord;
import java.util.concurrent.CompletionStage;

/** Passes every call to a real client; tests override the calls they want to watch. */
public class DelegatingSigmaApi implements SigmaApi {
  private final SigmaApi api;

  public DelegatingSigmaApi(SigmaApi api) {
    this.api = api;
  }

  @Override
  public CompletionStage<VpsRecord> register(RegisterRequest request) {
    return api.register(request);
  }

  @Override
  public CompletionStage<VpsRecord> heartbeat(HeartbeatRequest request) {
    return api.heartbeat(request);
  }

  @Override
  public CompletionStage<Page<EnvoyNode>> envoyNodes(String vpsId, int page, int perPage) {
    return api.envoyNodes(vpsId, page, perPage);
  }

  @Override
  public CompletionStage<Page<EnvoyRoute>> envoyRoutes(
      String envoyNodeUuid, int page, int perPage) {
    return api.envoyRoutes(envoyNodeUuid, page, perPage);
  }

  @Override
  public CompletionStage<EnvoyNode> createEnvoyNode(CreateEnvoyNodeRequest request) {
    return api.createEnvoyNode(request);
  }

  @Override
  public CompletionStage<SyncStaticResult> syncStatic(SyncStaticRequest request) {
    return api.syncStatic(request);
  }
}
