package io.sigma.agent.feature;

import io.sigma.agent.metrics.AgentMetrics;

/** Registers a feature's series in the agent's registry (once, before the metrics server binds). */
@FunctionalInterface
public interface MetricsBinder {
  /** A feature without series of its own. */
  MetricsBinder NONE = metrics -> {};

  void bindTo(AgentMetrics metrics);
}
