package io.sigma.agent.ports;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.snapshots.Unit;
import io.sigma.agent.metrics.AgentMetrics;
import java.util.Map;

/**
 * The port metrics of the original agent, read from the latest scan at scrape time (a scrape never
 * waits for or triggers a scan). Every series carries {@link AgentMetrics#constLabels}. Before the
 * first scan completes the metrics have no samples.
 *
 * <table>
 *   <caption>series</caption>
 *   <tr><td>{@code sigma_ports_total}</td><td>ports in the scanned range</td></tr>
 *   <tr><td>{@code sigma_ports_available}</td><td>free ports of the range</td></tr>
 *   <tr><td>{@code sigma_ports_in_use}</td><td>occupied ports of the range</td></tr>
 *   <tr><td>{@code sigma_ports_used{source}}</td><td>listening TCP ports of the whole machine
 *       by holder (envoy, sshd, nginx, node_exporter, xray, other, unknown), every source
 *       always present</td></tr>
 *   <tr><td>{@code sigma_ports_other_detail{process}}</td><td>the "other" listening ports by
 *       real process name</td></tr>
 *   <tr><td>{@code sigma_port_scan_duration_seconds}</td><td>how long the last scan
 *       took</td></tr>
 * </table>
 *
 * <p>{@code sigma_ports_total} keeps the original series name, but is exposed as a counter (a
 * constant one: the range never changes while the agent runs): Prometheus reserves the {@code
 * _total} suffix for counters, and {@code promtool check metrics} rejects a gauge named so
 * ("non-counter metrics should not have _total suffix"). Queries and dashboards read the same
 * {@code sigma_ports_total} series as before.
 */
public final class PortMetrics {
  private PortMetrics() {}

  public static void register(AgentMetrics metrics, LatestPortScan latest) {
    // client_java names counters without "_total" and appends it in the exposition.
    CounterWithCallback.builder()
        .name("sigma_ports")
        .help(
            "Ports in the scanned range (constant while the agent runs; typed counter "
                + "for its _total name)")
        .constLabels(metrics.constLabels())
        .callback(cb -> latest.get().ifPresent(scan -> cb.call(scan.total())))
        .register(metrics.registry());
    GaugeWithCallback.builder()
        .name("sigma_ports_available")
        .help("Free ports of the scanned range (a TCP bind to 0.0.0.0 would succeed)")
        .constLabels(metrics.constLabels())
        .callback(cb -> latest.get().ifPresent(scan -> cb.call(scan.available())))
        .register(metrics.registry());
    GaugeWithCallback.builder()
        .name("sigma_ports_in_use")
        .help("Occupied ports of the scanned range (listeners, connections, TIME_WAIT)")
        .constLabels(metrics.constLabels())
        .callback(cb -> latest.get().ifPresent(scan -> cb.call(scan.inUse())))
        .register(metrics.registry());
    GaugeWithCallback.builder()
        .name("sigma_ports_used")
        .help("Listening TCP ports of the machine by the kind of process holding them")
        .constLabels(metrics.constLabels())
        .labelNames("source")
        .callback(
            cb ->
                latest
                    .get()
                    .ifPresent(
                        scan -> {
                          for (ListenerSource source : ListenerSource.values()) {
                            cb.call(scan.listeners().count(source), source.label());
                          }
                        }))
        .register(metrics.registry());
    GaugeWithCallback.builder()
        .name("sigma_ports_other_detail")
        .help("Listening TCP ports of source 'other', by process name")
        .constLabels(metrics.constLabels())
        .labelNames("process")
        .callback(
            cb ->
                latest
                    .get()
                    .ifPresent(
                        scan -> {
                          for (Map.Entry<String, Integer> other :
                              scan.listeners().otherByProcess().entrySet()) {
                            cb.call(other.getValue(), other.getKey());
                          }
                        }))
        .register(metrics.registry());
    GaugeWithCallback.builder()
        .name("sigma_port_scan_duration_seconds")
        .help("Duration of the last port scan (socket tables, probes and attribution)")
        .unit(Unit.SECONDS)
        .constLabels(metrics.constLabels())
        .callback(
            cb -> latest.get().map(PortScan::took).ifPresent(took -> cb.call(took.toNanos() / 1e9)))
        .register(metrics.registry());
  }
}
