package io.sigma.agent;

import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A whole agent in this JVM, as {@code Main} starts it: the settings parsed from flags by {@link
 * ConfigLoader}, its own actor system with {@link AgentRuntime#pekkoConfig(AgentConfig)} and the
 * {@link AgentGuardian}. Plus an HTTP client for its endpoints.
 */
final class RunningAgent implements AutoCloseable {
  static final Duration AWAIT = Duration.ofSeconds(30);

  final AgentConfig config;
  final ActorSystem<AgentGuardian.Command> system;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(AWAIT).build();

  private RunningAgent(AgentConfig config) {
    this.config = config;
    this.system =
        ActorSystem.create(
            AgentGuardian.create(config), "agent-it", AgentRuntime.pekkoConfig(config));
  }

  static RunningAgent start(String... flags) {
    ConfigLoader.Outcome outcome = ConfigLoader.load(flags, Map.of(), "it");
    if (!(outcome instanceof ConfigLoader.Outcome.Run run)) {
      throw new IllegalArgumentException("bad flags: " + outcome);
    }
    return new RunningAgent(run.config());
  }

  URI metrics(String path) {
    return URI.create("http://" + config.metricsBind() + ":" + config.metricsPort() + path);
  }

  URI management(String path) {
    return URI.create("http://" + config.managementBind() + ":" + config.managementPort() + path);
  }

  HttpResponse<String> get(URI uri, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(AWAIT).GET();
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(URI uri, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri)
            .timeout(AWAIT)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(AWAIT.toSeconds(), TimeUnit.SECONDS);
  }
}
