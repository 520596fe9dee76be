package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.metrics.AgentMetrics;
import org.junit.jupiter.api.Test;

class EnvoyAdminMetricsTest {

  private final AgentMetrics metrics = new AgentMetrics("vps-1", false, false);
  private final EnvoyAdminMetrics up = new EnvoyAdminMetrics(metrics);

  @Test
  void eachNodeHasItsValueUntilForgotten() {
    up.onProbed("edge", true);
    up.onProbed("gateway", false);
    assertTrue(scrape().contains("sigma_envoy_up{node=\"edge\"} 1.0"));
    assertTrue(scrape().contains("sigma_envoy_up{node=\"gateway\"} 0.0"));

    up.onProbed("edge", false);
    up.onForgotten("gateway");
    up.onForgotten("never-probed");

    assertTrue(scrape().contains("sigma_envoy_up{node=\"edge\"} 0.0"));
    assertFalse(scrape().contains("gateway"), scrape());
  }

  @Test
  void nodesBeyondTheLabelCapShareOtherWhichIsUpOnlyWhenAllAre() {
    for (int i = 0; i < XdsMetrics.NODE_LABEL_LIMIT; i++) {
      up.onProbed("n" + i, true);
    }
    String longId = "x".repeat(XdsMetrics.NODE_LABEL_MAX_CHARS + 1);
    up.onProbed("extra-1", true);
    up.onProbed(longId, false);

    assertEquals(
        XdsMetrics.NODE_LABEL_LIMIT + 1,
        scrape().lines().filter(l -> l.startsWith("sigma_envoy_up{")).count());
    assertTrue(scrape().contains("sigma_envoy_up{node=\"_other\"} 0.0"), scrape());
    assertFalse(scrape().contains(longId));

    up.onForgotten(longId);
    assertTrue(scrape().contains("sigma_envoy_up{node=\"_other\"} 1.0"), scrape());

    // A freed label goes to the next node probed under _other.
    up.onForgotten("n0");
    up.onProbed("extra-1", true);
    assertTrue(scrape().contains("sigma_envoy_up{node=\"extra-1\"} 1.0"), scrape());
    assertFalse(scrape().contains("_other"), scrape());
  }

  private String scrape() {
    return MetricsText.scrape(metrics);
  }
}
