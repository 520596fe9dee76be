/**
 * The metrics server's optional web config ({@code --web-config-file}), in the format of the
 * Prometheus exporter-toolkit: TLS ({@link io.sigma.agent.web.TlsServerConfig}, keys and
 * certificates from PEM files by {@link io.sigma.agent.web.PemFiles}) and basic auth with bcrypt
 * hashes ({@link io.sigma.agent.web.BasicAuth}). {@link io.sigma.agent.web.WebConfig} reads and
 * checks the file at start, so a bad one stops the agent with one line naming the problem.
 */
package io.sigma.agent.web;
