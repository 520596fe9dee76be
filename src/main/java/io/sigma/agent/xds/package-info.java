/**
 * The Envoy xDS v3 control plane (ADS, state of the world), fed by snapshots.
 *
 * <p>Pieces, from data to wire:
 *
 * <ul>
 *   <li>{@link io.sigma.agent.xds.RouteResourceMapper} (pure): a node's sigma-api routes to packed
 *       Clusters and Listeners plus the {@link io.sigma.agent.xds.RejectedRoute}s, as a {@link
 *       io.sigma.agent.xds.RouteMapping}; {@code toSnapshot(nodeId, configVersion, serial)} gives
 *       the immutable {@link io.sigma.agent.xds.XdsSnapshot}.
 *   <li>{@link io.sigma.agent.xds.SnapshotRegistry} (actor): the current snapshot per node.id, the
 *       node's streams, and their status for {@code /xds/status}.
 *   <li>{@link io.sigma.agent.xds.AdsStreamState} (pure): the per-stream protocol (subscriptions,
 *       ACK/NACK, nonces, make before break: Clusters before the Listeners that use them and kept
 *       until the Listeners without them are ACKed, at most one unanswered response per type).
 *   <li>{@link io.sigma.agent.xds.AdsService}: the generated gRPC service; one Pekko Streams
 *       pipeline per stream. {@link io.sigma.agent.xds.XdsServer}: its HTTP/2 binding.
 *   <li>{@link io.sigma.agent.xds.XdsEvents}: hooks for metrics (no-op by default).
 *   <li>{@link io.sigma.agent.xds.ConfigPoller} (actor): the config source. Serves the configs
 *       saved by {@link io.sigma.agent.xds.NodeConfigStore} at once, then polls sigma-api for the
 *       VPS's nodes and the routes of changed nodes, sets snapshots, removes nodes gone from the
 *       API, registers unknown connected node.ids; {@link io.sigma.agent.xds.PollerEvents} for
 *       metrics.
 *   <li>{@link io.sigma.agent.xds.XdsStatusRoutes}: {@code GET /xds/status}, the {@link
 *       io.sigma.agent.xds.XdsStatusReport} of the registry and the poller, as JSON.
 *   <li>{@link io.sigma.agent.xds.EnvoySyncReport} (pure): the heartbeat's bounded {@code
 *       system_info.envoy}; {@link io.sigma.agent.xds.EnvoySyncReporter} (actor) keeps it fresh
 *       from the registry for the heartbeat to read without waiting.
 *   <li>{@link io.sigma.agent.xds.EnvoyAdminProbe} (actor): probes each listed node's admin {@code
 *       /ready} on 127.0.0.1 ({@link io.sigma.agent.xds.EnvoyAdminClient}) for {@code
 *       sigma_envoy_up}.
 * </ul>
 *
 * <p>Wiring (as {@code AgentGuardian} does it; {@code XdsMetrics} implements both event hooks):
 *
 * <pre>{@code
 * XdsMetrics xdsMetrics = new XdsMetrics(agentMetrics);
 * ActorRef<SnapshotRegistry.Command> registry = context.spawn(SnapshotRegistry.create(), "xds-registry");
 * ActorRef<ConfigPoller.Command> poller = context.spawn(ConfigPoller.create(
 *     new ConfigPoller.Settings(pollInterval, new Backoff(backoffInitial, backoffMax)), sigmaApi,
 *     registrationActor, registry, new NodeConfigStore(stateDir.resolve("xds"), clock), xdsMetrics,
 *     clock, new SplittableRandom()), "xds-poller");
 * XdsServer.start(system, new AdsService(registry, xdsMetrics, clock), xdsBind, xdsPort);
 * metricsRoutes.add(new XdsStatusRoutes(registry, poller, system, clock).route());
 * }</pre>
 */
package io.sigma.agent.xds;
