/**
 * The Envoy xDS v3 control plane (ADS, state of the world and delta), fed by snapshots.
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
 *   <li>{@link io.sigma.agent.xds.DeltaStreamState} (pure): the same for Delta ADS (Clusters and
 *       Listeners), run by {@link io.sigma.agent.xds.DeltaAdsStream} on {@link
 *       io.sigma.agent.xds.DeltaSnapshotIndex}es shared by a node's delta streams.
 *   <li>{@link io.sigma.agent.xds.AdsService}: the generated gRPC service; one Pekko Streams
 *       pipeline per stream. {@link io.sigma.agent.xds.XdsServer}: its HTTP/2 binding.
 *   <li>{@link io.sigma.agent.xds.XdsEvents} and {@link io.sigma.agent.xds.PollerEvents}: hooks for
 *       metrics, implemented by {@link io.sigma.agent.xds.XdsMetrics} (this package owns its
 *       metrics; their node labels are bounded by {@link io.sigma.agent.xds.NodeLabels}).
 *   <li>{@link io.sigma.agent.xds.NodeReconciler} (pure): every decision of the config source (what
 *       to list and read, when a read is consistent, what to serve, remove and save, serials, the
 *       next poll), answered as effects.
 *   <li>{@link io.sigma.agent.xds.ConfigPoller} (actor): the config source. Feeds the reconciler
 *       what sigma-api answered (stamped with the poll id) and carries out its effects; serves the
 *       configs saved by {@link io.sigma.agent.xds.NodeConfigStore} at once, then polls once told
 *       {@link io.sigma.agent.xds.ConfigPoller.VpsKnown}; publishes the listed nodes to {@link
 *       io.sigma.agent.xds.ConfigPoller.WatchNodes} watchers. Its children: {@link
 *       io.sigma.agent.xds.NodeConfigSaver} (saves, retried until they work) and {@link
 *       io.sigma.agent.xds.NodeRegistrar} (registers unknown connected node.ids).
 *   <li>{@link io.sigma.agent.xds.XdsGuardian} (actor): spawns and supervises the registry, the
 *       poller, the sync reporter and the admin probe, starts the ADS server, forwards the poller's
 *       commands (a reloaded poll interval also to the probe).
 *   <li>{@link io.sigma.agent.xds.XdsFeature}: the feature as the agent's root sees it (a {@link
 *       io.sigma.agent.feature.FeatureGuardian}): starts the guardian, hands back the {@code
 *       /xds/status} page ({@link io.sigma.agent.xds.XdsStatusRoutes}, the {@link
 *       io.sigma.agent.xds.XdsStatusReport} of the registry and the poller as JSON), the ADS
 *       server, {@code system_info.envoy}, and takes the VPS id and reloads.
 *   <li>{@link io.sigma.agent.xds.EnvoySyncReport} (pure): the heartbeat's bounded {@code
 *       system_info.envoy}; {@link io.sigma.agent.xds.EnvoySyncReporter} (actor, a child of the
 *       guardian once told {@link io.sigma.agent.xds.XdsGuardian.ReportSyncStatus}) keeps it fresh
 *       from the registry for the heartbeat to read without waiting.
 *   <li>{@link io.sigma.agent.xds.EnvoyAdminProbe} (actor): probes each listed node's admin {@code
 *       /ready} on 127.0.0.1 ({@link io.sigma.agent.xds.EnvoyAdminClient}) for {@code
 *       sigma_envoy_up} ({@link io.sigma.agent.xds.EnvoyAdminMetrics}).
 * </ul>
 *
 * <p>Wiring (as {@code AgentGuardian} does it, through {@link
 * io.sigma.agent.feature.FeatureGuardian} only): xds depends on no other feature.
 *
 * <pre>{@code
 * XdsFeature xds = XdsFeature.start(context, agentConfig, sigmaApi, agentMetrics);
 * xds.managementPages();           // /xds/status, for the management server
 * xds.servers();                   // the ADS server, ready once it listens
 * xds.vpsKnown(vpsId);             // on each (re-)registration
 * xds.systemInfo();                // {"envoy": ...} for the next heartbeat
 * xds.apply(applied, reloaded);    // on SIGHUP
 * }</pre>
 */
package io.sigma.agent.xds;
