package io.sigma.agent.devapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain java.net.http client for the dev API, as an agent would talk to it. */
final class DevApiTestClient {
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  final ObjectMapper mapper = Json.newMapper();
  private final HttpClient http;
  private final String baseUrl;
  private final String apiKey;
  private final Duration timeout;

  DevApiTestClient(String baseUrl) {
    this(baseUrl, null, DEFAULT_TIMEOUT);
  }

  DevApiTestClient(String baseUrl, String apiKey, Duration timeout) {
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
    this.timeout = timeout;
  }

  HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return send(
        request(path)
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .header("Content-Type", "application/json")
            .build());
  }

  HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    return send(request(pathAndQuery).GET().build());
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(timeout);
    if (apiKey != null) {
      b.header("X-Api-Key", apiKey);
    }
    return b;
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  JsonNode json(HttpResponse<String> response) {
    try {
      return mapper.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + response.body(), e);
    }
  }

  /** A register body for {@code hostname} with the given IPs (single-quoted JSON allowed). */
  static String registerBody(String hostname, String... ips) {
    StringBuilder list = new StringBuilder();
    for (String ip : ips) {
      list.append(list.length() == 0 ? "" : ",")
          .append("{\"ip\":\"")
          .append(ip)
          .append("\",\"label\":\"internal\"}");
    }
    return "{\"hostname\":\""
        + hostname
        + "\",\"ip_addresses\":["
        + list
        + "],\"ssh_port\":22,"
        + "\"system_info\":{\"cpu_cores\":2,\"ram_mb\":1987,\"disk_gb\":40,\"disk_used_gb\":12,"
        + "\"uptime_seconds\":86400,\"load_avg\":[0.12,0.08,0.01],\"metrics_port\":9102}}";
  }

  static String heartbeatBody(String hostname) {
    return "{\"hostname\":\""
        + hostname
        + "\",\"ip_addresses\":[],"
        + "\"system_info\":{\"cpu_cores\":2,\"ram_mb\":1987,\"disk_gb\":40,\"disk_used_gb\":13,"
        + "\"uptime_seconds\":86460,\"load_avg\":[0.2,0.1,0.0]}}";
  }

  static String q(String singleQuoted) {
    return singleQuoted.replace('\'', '"');
  }
}
