package io.sigma.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.sigma.agent.config.AgentConfig;

/** The Pekko configuration every agent actor system runs with. */
public final class AgentRuntime {
  private AgentRuntime() {}

  /** sigma-agent.conf over Pekko's reference.conf files; what tests use too. */
  public static Config pekkoConfig() {
    return ConfigFactory.parseResources(AgentRuntime.class.getClassLoader(), "sigma-agent.conf")
        .withFallback(ConfigFactory.defaultReference(AgentRuntime.class.getClassLoader()))
        .resolve();
  }

  /**
   * {@link #pekkoConfig()} plus what the agent's settings decide in Pekko's own config: the address
   * of the health endpoints (pekko-management reads it from the actor system's config).
   */
  public static Config pekkoConfig(AgentConfig config) {
    return pekkoConfig()
        .withValue(
            "pekko.management.http.hostname",
            ConfigValueFactory.fromAnyRef(config.managementBind()))
        .withValue(
            "pekko.management.http.port", ConfigValueFactory.fromAnyRef(config.managementPort()));
  }
}
