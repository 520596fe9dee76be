package io.sigma.agent.feature;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * A server a feature starts on a port of its own (e.g. the xDS gRPC server). The root waits for it:
 * {@code /ready} stays 503 until it listens, and the agent stops with one line naming {@code
 * setting} when it cannot bind (a port in use is an operator's fix, not something to retry).
 *
 * @param what the server as the log names it, e.g. "xDS server"
 * @param setting the flag and environment variable of its port, e.g. "--xds-port / AGENT_XDS_PORT"
 * @param listening completed with the bound address, or failed when it cannot bind
 */
public record FeatureServer(
    String what, String setting, CompletionStage<InetSocketAddress> listening) {
  public FeatureServer {
    Objects.requireNonNull(what, "what");
    Objects.requireNonNull(setting, "setting");
    Objects.requireNonNull(listening, "listening");
  }
}
