package io.sigma.agent.api;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The agent's view of sigma-api (contract: shared/contract/sigma-api.md). Every call completes
 * exceptionally with a {@link SigmaApiException} on any failure: a non-2xx status, a timeout, a
 * refused or reset connection, or a body that is not the JSON the contract promises.
 */
public interface SigmaApi {
  /** Largest page the server hands out; the agent always asks for it. */
  int MAX_PER_PAGE = 100;

  CompletionStage<VpsRecord> register(RegisterRequest request);

  CompletionStage<VpsRecord> heartbeat(HeartbeatRequest request);

  /** One page of the VPS's active Envoy nodes. */
  CompletionStage<Page<EnvoyNode>> envoyNodes(String vpsId, int page, int perPage);

  /** One page of an Envoy node's active dynamic routes, ordered by listen_port. */
  CompletionStage<Page<EnvoyRoute>> envoyRoutes(String envoyNodeUuid, int page, int perPage);

  CompletionStage<EnvoyNode> createEnvoyNode(CreateEnvoyNodeRequest request);

  CompletionStage<SyncStaticResult> syncStatic(SyncStaticRequest request);

  /**
   * Every active Envoy node of the VPS, following pages until {@code total} rows are read, within
   * {@link ListingLimits#NODES}; a listing that breaks a pagination rule fails with {@link
   * SigmaApiException.Kind#BAD_RESPONSE} (see {@code Pagination}).
   */
  default CompletionStage<List<EnvoyNode>> allEnvoyNodes(String vpsId) {
    return Pagination.collectAll(
        Pagination.nodesListing(vpsId),
        ListingLimits.NODES,
        MAX_PER_PAGE,
        EnvoyNode::id,
        page -> envoyNodes(vpsId, page, MAX_PER_PAGE).thenApply(p -> new FetchedPage<>(p, 0)));
  }

  /**
   * Every active dynamic route of an Envoy node, following pages, within {@link
   * ListingLimits#ROUTES}.
   */
  default CompletionStage<List<EnvoyRoute>> allEnvoyRoutes(String envoyNodeUuid) {
    return Pagination.collectAll(
        Pagination.routesListing(envoyNodeUuid),
        ListingLimits.ROUTES,
        MAX_PER_PAGE,
        EnvoyRoute::id,
        page ->
            envoyRoutes(envoyNodeUuid, page, MAX_PER_PAGE).thenApply(p -> new FetchedPage<>(p, 0)));
  }
}
