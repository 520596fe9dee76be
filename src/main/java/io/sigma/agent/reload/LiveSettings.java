package io.sigma.agent.reload;

import io.sigma.agent.config.AgentConfig;

/**
 * A part of the agent that applies the live settings of a re-read config (SIGHUP). {@link
 * ConfigReloader} calls every target with the config in effect and the one just read; each target
 * compares the settings it owns and acts on a change (tells its actors, sets a value read per
 * request). Called on the reloader's actor: never block.
 */
@FunctionalInterface
public interface LiveSettings {
  /**
   * @param applied the config whose live settings are in effect
   * @param loaded the config just read (valid)
   */
  void apply(AgentConfig applied, AgentConfig loaded);
}
