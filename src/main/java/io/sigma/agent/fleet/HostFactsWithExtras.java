package io.sigma.agent.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.SystemInfo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link HostFacts} whose {@code system_info} carries the {@link SystemInfoExtras} too. The host
 * facts are read on the blocking-IO dispatcher (see {@link RegistrationActor}), so waiting here for
 * at most {@code timeout} holds up no actor; a late or failed answer leaves the extras out.
 */
final class HostFactsWithExtras implements HostFacts {
  private static final Logger LOG = LoggerFactory.getLogger(HostFactsWithExtras.class);

  private final HostFacts host;
  private final SystemInfoExtras extras;
  private final Duration timeout;

  HostFactsWithExtras(HostFacts host, SystemInfoExtras extras, Duration timeout) {
    this.host = Objects.requireNonNull(host, "host");
    this.extras = Objects.requireNonNull(extras, "extras");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  @Override
  public String hostname() {
    return host.hostname();
  }

  @Override
  public List<IpAddress> addresses() {
    return host.addresses();
  }

  @Override
  public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
    SystemInfo facts = host.systemInfo(metricsPort, publicIp);
    try {
      Map<String, JsonNode> objects =
          extras.collect().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return objects == null || objects.isEmpty() ? facts : facts.withExtra(objects);
    } catch (TimeoutException e) {
      LOG.debug("system_info extras not ready within {} ms; sent without them", timeout.toMillis());
    } catch (ExecutionException | RuntimeException e) {
      LOG.debug("system_info extras failed ({}); sent without them", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return facts;
  }
}
