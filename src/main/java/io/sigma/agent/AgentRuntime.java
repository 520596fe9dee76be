package io.sigma.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/** The Pekko configuration every agent actor system runs with. */
public final class AgentRuntime {
  private AgentRuntime() {}

  /** sigma-agent.conf over Pekko's reference.conf files; what tests use too. */
  public static Config pekkoConfig() {
    return ConfigFactory.parseResources(AgentRuntime.class.getClassLoader(), "sigma-agent.conf")
        .withFallback(ConfigFactory.defaultReference(AgentRuntime.class.getClassLoader()))
        .resolve();
  }
}
