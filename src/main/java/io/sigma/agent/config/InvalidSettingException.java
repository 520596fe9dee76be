package io.sigma.agent.config;

/** A setting whose value the agent cannot run with; its message is the one line shown. */
public final class InvalidSettingException extends RuntimeException {
  private final Setting setting;

  public InvalidSettingException(Setting setting, String message) {
    super(message);
    this.setting = setting;
  }

  public Setting setting() {
    return setting;
  }
}
