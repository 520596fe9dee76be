/**
 * The Envoy xDS v3 control plane (ADS, state of the world), fed by snapshots.
 *
 * <p>Pieces, from data to wire:
 * <ul>
 *   <li>{@link io.sigma.agent.xds.RouteResourceMapper} (pure): a node's sigma-api routes to packed
 *       Clusters and Listeners plus the {@link io.sigma.agent.xds.RejectedRoute}s, as a
 *       {@link io.sigma.agent.xds.RouteMapping}; {@code toSnapshot(nodeId, configVersion)} gives the
 *       immutable {@link io.sigma.agent.xds.XdsSnapshot}.
 *   <li>{@link io.sigma.agent.xds.SnapshotRegistry} (actor): the current snapshot per node.id, the
 *       node's streams, and their status for {@code /xds/status}.
 *   <li>{@link io.sigma.agent.xds.AdsStreamState} (pure): the per-stream protocol (subscriptions,
 *       ACK/NACK, nonces, Clusters before Listeners, at most one unanswered response per type).
 *   <li>{@link io.sigma.agent.xds.AdsService}: the generated gRPC service; one Pekko Streams
 *       pipeline per stream. {@link io.sigma.agent.xds.XdsServer}: its HTTP/2 binding.
 *   <li>{@link io.sigma.agent.xds.XdsEvents}: hooks for metrics (no-op by default).
 * </ul>
 *
 * <p>Wiring:
 * <pre>{@code
 * ActorRef<SnapshotRegistry.Command> registry = context.spawn(SnapshotRegistry.create(), "xds-registry");
 * AdsService ads = new AdsService(registry, XdsEvents.NO_OP, Clock.systemUTC());
 * XdsServer.start(system, ads, XdsServer.DEFAULT_BIND_HOST, xdsPort);   // CompletionStage<XdsServer>
 *
 * // config source, per node whose config_version changed:
 * RouteMapping mapping = mapper.map(routes);
 * mapping.rejected().forEach(r -> ...log r.describe(), count r.reason()...);
 * registry.tell(new SnapshotRegistry.SetSnapshot(mapping.toSnapshot(node.nodeId(), node.configVersion())));
 * // per node that disappeared from sigma-api:
 * registry.tell(new SnapshotRegistry.RemoveNode(nodeId));
 * }</pre>
 */
package io.sigma.agent.xds;
