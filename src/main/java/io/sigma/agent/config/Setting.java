package io.sigma.agent.config;

/**
 * Every setting the agent reads: its flag, its environment variable, its default and its help text.
 * The one place these are written down; {@link ConfigLoader} builds the command line and {@code
 * --help} from it.
 */
public enum Setting {
  API_URL(
      "--api-url",
      "SIGMA_API_URL",
      "http://localhost:3000/api",
      "URL",
      "Base URL of sigma-api (http or https)."),
  API_KEY("--api-key", "SIGMA_API_KEY", null, "KEY", "API key sent as X-Api-Key. Never logged."),
  API_KEY_FILE(
      "--api-key-file",
      "SIGMA_API_KEY_FILE",
      null,
      "FILE",
      "File holding the API key (one line; keeps it out of ps and the environment)."),
  INTERVAL(
      "--interval", "AGENT_INTERVAL", "60", "DURATION", "Heartbeat interval: seconds, or 30s/5m."),
  HOSTNAME(
      "--hostname",
      "AGENT_HOSTNAME",
      null,
      "NAME",
      "Hostname to register (default: /etc/host_hostname, then <host-proc>/sys/kernel/hostname)."),
  ALIAS("--alias", "AGENT_ALIAS", null, "NAME", "Alias (e.g. a DNS name) to register."),
  SSH_PORT("--ssh-port", "AGENT_SSH_PORT", "22", "PORT", "SSH port to register."),
  METRICS_PORT(
      "--metrics-port",
      "AGENT_METRICS_PORT",
      "9102",
      "PORT",
      "Port of /metrics and /ports/allocate; 0 disables."),
  METRICS_BIND(
      "--metrics-bind",
      "AGENT_METRICS_BIND",
      "0.0.0.0",
      "ADDR",
      "Address the metrics server binds (sigma-api calls it remotely)."),
  WEB_CONFIG_FILE(
      "--web-config-file",
      "AGENT_WEB_CONFIG_FILE",
      null,
      "FILE",
      "Web config of the metrics server (YAML, as Prometheus exporters' --web.config.file): "
          + "TLS (tls_server_config) and basic auth (basic_auth_users, bcrypt hashes)."),
  PORT_SCAN(
      "--port-scan",
      "AGENT_PORT_SCAN",
      "false",
      "BOOL",
      "Scan the port range and serve port metrics and allocation."),
  PORT_SCAN_RANGE(
      "--port-scan-range",
      "AGENT_PORT_SCAN_RANGE",
      "10000-30000",
      "FIRST-LAST",
      "Port range to scan and allocate from."),
  PORT_SCAN_INTERVAL(
      "--port-scan-interval",
      "AGENT_PORT_SCAN_INTERVAL",
      "60",
      "DURATION",
      "Time between port scans."),
  ALLOCATE_TOKEN(
      "--allocate-token",
      "AGENT_ALLOCATE_TOKEN",
      null,
      "TOKEN",
      "Shared secret required (X-Api-Key or Bearer) by POST /ports/allocate. Never logged."),
  ALLOCATE_TOKEN_FILE(
      "--allocate-token-file",
      "AGENT_ALLOCATE_TOKEN_FILE",
      null,
      "FILE",
      "File holding the allocation token (one line); re-read on SIGHUP."),
  ALLOCATE_RESERVATION(
      "--allocate-reservation",
      "AGENT_ALLOCATE_RESERVATION",
      "30",
      "DURATION",
      "How long an allocated port is held back from later allocations."),
  ALLOCATE_ALLOW_FROM(
      "--allocate-allow-from",
      "AGENT_ALLOCATE_ALLOW_FROM",
      null,
      "CIDRS",
      "Comma-separated ranges that may call POST /ports/allocate besides sigma-api (the host "
          + "of --api-url) and loopback; rate-limited per address. 0.0.0.0/0,::/0 lets anyone "
          + "reserve ports (unsafe)."),
  XDS_ENABLED(
      "--xds-enabled",
      "AGENT_XDS_ENABLED",
      "false",
      "BOOL",
      "Run the Envoy xDS (ADS) control plane."),
  XDS_PORT("--xds-port", "AGENT_XDS_PORT", "18000", "PORT", "Port of the xDS gRPC server."),
  XDS_BIND(
      "--xds-bind",
      "AGENT_XDS_BIND",
      "127.0.0.1",
      "ADDR",
      "Address the xDS gRPC server binds (Envoy is local)."),
  XDS_POLL_INTERVAL(
      "--xds-poll-interval",
      "AGENT_XDS_POLL_INTERVAL",
      "10",
      "DURATION",
      "Time between polls of sigma-api for Envoy config changes."),
  ENVOY_CONFIG_SYNC(
      "--envoy-config-sync",
      "AGENT_ENVOY_CONFIG_SYNC",
      "false",
      "BOOL",
      "Send the TCP proxy listeners of Envoy's static config files to sigma-api "
          + "(POST /envoy-routes/sync-static, source=static)."),
  ENVOY_CONFIG_PATH(
      "--envoy-config-path",
      "AGENT_ENVOY_CONFIG_PATH",
      EnvoyConfigSync.DEFAULT_FILE,
      "PATHS",
      "Comma-separated Envoy static config files and globs (/etc/envoy/*.yaml) to sync."),
  ENVOY_CONFIG_EXCLUDE(
      "--envoy-config-exclude",
      "AGENT_ENVOY_CONFIG_EXCLUDE",
      null,
      "GLOBS",
      "Comma-separated globs of files --envoy-config-path matches but that are not synced "
          + "(a glob without / matches the file name)."),
  ENVOY_CONFIG_SYNC_INTERVAL(
      "--envoy-config-sync-interval",
      "AGENT_ENVOY_CONFIG_SYNC_INTERVAL",
      "60",
      "DURATION",
      "Time between checks of the Envoy static config files for changes."),
  HOST_PROC(
      "--host-proc",
      "AGENT_HOST_PROC",
      "/proc",
      "DIR",
      "Where the host's /proc is (mount it into containers, e.g. /host/proc)."),
  HOST_HOSTNAME_FILE(
      "--host-hostname-file",
      "AGENT_HOST_HOSTNAME_FILE",
      "/etc/host_hostname",
      "FILE",
      "File holding the host's hostname when running in a container."),
  STATE_DIR(
      "--state-dir",
      "AGENT_STATE_DIR",
      "/var/lib/sigma-agent",
      "DIR",
      "Directory for state kept across restarts (last good Envoy snapshots)."),
  IGNORE_IP_RANGES(
      "--ignore-ip-ranges",
      "AGENT_IGNORE_IP_RANGES",
      "127.0.0.0/8,::1/128,172.17.0.0/16",
      "CIDRS",
      "Comma-separated ranges never reported (loopback, Docker bridge)."),
  PUBLIC_IP_LOOKUP(
      "--public-ip-lookup",
      "AGENT_PUBLIC_IP_LOOKUP",
      "true",
      "BOOL",
      "When no public address is local (NAT), ask a public service for it over HTTPS."),
  PUBLIC_IP_SERVICES(
      "--public-ip-services",
      "AGENT_PUBLIC_IP_SERVICES",
      "https://api.ipify.org,https://ifconfig.me/ip,https://icanhazip.com",
      "URLS",
      "Comma-separated services for the public IP look-up, tried in order."),
  MANAGEMENT_PORT(
      "--management-port",
      "AGENT_MANAGEMENT_PORT",
      "8558",
      "PORT",
      "Port of the health endpoints /alive and /ready and of /xds/status; 0 disables."),
  MANAGEMENT_BIND(
      "--management-bind",
      "AGENT_MANAGEMENT_BIND",
      "127.0.0.1",
      "ADDR",
      "Address the health endpoints bind."),
  REQUEST_TIMEOUT(
      "--request-timeout",
      "AGENT_REQUEST_TIMEOUT",
      "10",
      "DURATION",
      "Timeout of each request to sigma-api."),
  BACKOFF_INITIAL(
      "--backoff-initial",
      "AGENT_BACKOFF_INITIAL",
      "1",
      "DURATION",
      "First retry delay after a failed request (grows exponentially, with full jitter)."),
  BACKOFF_MAX("--backoff-max", "AGENT_BACKOFF_MAX", "300", "DURATION", "Cap of the retry delay."),
  CONFIG(
      "--config",
      "AGENT_CONFIG",
      "/etc/sigma-agent/agent.conf",
      "FILE",
      "Config file of KEY=value lines (the environment variable names); flags and the "
          + "environment override it. A missing default file is fine."),
  LOG_LEVEL(
      "--log-level",
      "AGENT_LOG_LEVEL",
      "info",
      "LEVEL",
      "Level of the agent's log: error, warn, info, debug or trace."),
  LOG_FORMAT(
      "--log-format",
      "AGENT_LOG_FORMAT",
      "text",
      "FORMAT",
      "Log format: text (one line per event) or json (one JSON object per line)."),
  DEV(
      "--dev",
      "AGENT_DEV",
      "false",
      "BOOL",
      "Run against an embedded in-memory sigma-api on loopback, seeded with an Envoy node."),
  METRICS_HOSTNAME_LABEL(
      "--metrics-hostname-label",
      "AGENT_METRICS_HOSTNAME_LABEL",
      "false",
      "BOOL",
      "Add the self-reported hostname label to every sigma_* series (Prometheus's instance "
          + "label already tells agents apart).");

  private final String flag;
  private final String env;
  private final String defaultValue;
  private final String label;
  private final String help;

  Setting(String flag, String env, String defaultValue, String label, String help) {
    this.flag = flag;
    this.env = env;
    this.defaultValue = defaultValue;
    this.label = label;
    this.help = help;
  }

  public String flag() {
    return flag;
  }

  public String env() {
    return env;
  }

  /** The default, or null when the setting is unset by default. */
  public String defaultValue() {
    return defaultValue;
  }

  public String label() {
    return label;
  }

  public String help() {
    return help;
  }

  public boolean isBoolean() {
    return label.equals("BOOL");
  }

  public boolean isSecret() {
    return this == API_KEY || this == ALLOCATE_TOKEN;
  }

  /** A setting whose value is a URL that may carry a password (user:pass@host). */
  public boolean mayHoldPassword() {
    return this == API_URL;
  }
}
