package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.rpc.Code;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A grpc-java Delta ADS client that behaves like Envoy with {@code api_type: DELTA_GRPC}: it
 * subscribes per type (wildcard, optionally with the versions it holds after a reconnect), ACKs or
 * NACKs each response with its nonce, and keeps what it was sent (per type: name to version). It
 * reads a response only when a test calls {@link #next()} (manual flow control), so a test that
 * does not call it plays a stuck Envoy.
 */
final class DeltaAdsTestClient implements AutoCloseable {

  static final long TIMEOUT_SECONDS = AdsTestClient.TIMEOUT_SECONDS;

  private final String nodeId;
  private final BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
  private final CompletableFuture<Status> closed = new CompletableFuture<>();
  private volatile ClientCallStreamObserver<DeltaDiscoveryRequest> call;

  /** One response was asked for (flow control) and has not arrived yet; test thread only. */
  private boolean asked;

  /** What this Envoy holds, per type: resource name to version (applied as responses are read). */
  final Map<String, Map<String, String>> held = new TreeMap<>();

  private DeltaAdsTestClient(String nodeId) {
    this.nodeId = nodeId;
  }

  /** Opens a Delta ADS stream; {@code nodeId} "" sends requests without a node. */
  static DeltaAdsTestClient connect(ManagedChannel channel, String nodeId) {
    DeltaAdsTestClient client = new DeltaAdsTestClient(nodeId);
    AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(client.new Observer());
    assertNotNull(client.call);
    return client;
  }

  void send(DeltaDiscoveryRequest request) {
    synchronized (this) {
      call.onNext(request);
    }
  }

  /** Envoy's wildcard subscription to a type (no names), as LDS and CDS do. */
  void subscribe(String typeUrl) {
    send(request(typeUrl, ""));
  }

  /** A reconnecting Envoy's wildcard subscription, naming the versions it still holds. */
  void subscribe(String typeUrl, Map<String, String> initialVersions) {
    send(request(typeUrl, "").toBuilder().putAllInitialResourceVersions(initialVersions).build());
  }

  void ack(DeltaDiscoveryResponse response) {
    send(request(response.getTypeUrl(), response.getNonce()));
  }

  void nack(DeltaDiscoveryResponse response, String message) {
    send(
        request(response.getTypeUrl(), response.getNonce()).toBuilder()
            .setErrorDetail(
                com.google.rpc.Status.newBuilder()
                    .setCode(Code.INVALID_ARGUMENT_VALUE)
                    .setMessage(message))
            .build());
  }

  DeltaDiscoveryRequest request(String typeUrl, String nonce) {
    DeltaDiscoveryRequest.Builder request =
        DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setResponseNonce(nonce);
    if (!nodeId.isEmpty()) {
      request.setNode(Node.newBuilder().setId(nodeId).setCluster("test"));
    }
    return request.build();
  }

  /**
   * Reads the next response (waiting up to {@link #TIMEOUT_SECONDS}; fails the test if none) and
   * applies it to {@link #held}.
   */
  DeltaDiscoveryResponse next() throws InterruptedException {
    DeltaDiscoveryResponse response = poll(Duration.ofSeconds(TIMEOUT_SECONDS));
    if (response == null) {
      throw new AssertionError(
          "no DeltaDiscoveryResponse within "
              + TIMEOUT_SECONDS
              + " s for node "
              + nodeId
              + (closed.isDone() ? " (stream closed: " + closed.getNow(null) + ")" : ""));
    }
    return response;
  }

  /**
   * Reads the next response if one comes within {@code wait} (asking the server for at most one at
   * a time) and applies it to {@link #held}; null if none came.
   */
  DeltaDiscoveryResponse poll(Duration wait) throws InterruptedException {
    if (!asked) {
      asked = true;
      call.request(1);
    }
    DeltaDiscoveryResponse response = responses.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
    if (response == null) {
      return null;
    }
    asked = false;
    Map<String, String> type = held.computeIfAbsent(response.getTypeUrl(), t -> new TreeMap<>());
    for (Resource resource : response.getResourcesList()) {
      type.put(resource.getName(), resource.getVersion());
    }
    response.getRemovedResourcesList().forEach(type::remove);
    return response;
  }

  /** Reads the next response and checks its type. */
  DeltaDiscoveryResponse next(String typeUrl) throws InterruptedException {
    DeltaDiscoveryResponse response = next();
    assertEquals(typeUrl, response.getTypeUrl(), "type of the next response");
    return response;
  }

  /** The names this Envoy holds of {@code typeUrl}, sorted. */
  List<String> heldNames(String typeUrl) {
    return List.copyOf(held.getOrDefault(typeUrl, Map.of()).keySet());
  }

  /**
   * Envoy's start-up on this stream: subscribes to Clusters, ACKs them, subscribes to Listeners and
   * ACKs them; returns {Clusters response, Listeners response}.
   */
  DeltaDiscoveryResponse[] handshake() throws InterruptedException {
    subscribe(TypeUrls.CLUSTER);
    DeltaDiscoveryResponse clusters = next(TypeUrls.CLUSTER);
    ack(clusters);
    subscribe(TypeUrls.LISTENER);
    DeltaDiscoveryResponse listeners = next(TypeUrls.LISTENER);
    ack(listeners);
    return new DeltaDiscoveryResponse[] {clusters, listeners};
  }

  /** The gRPC status the stream ended with, reading whatever is still in flight first. */
  Status awaitClosed() throws Exception {
    call.request(Integer.MAX_VALUE);
    return closed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** Half-closes the request side: the client sends nothing more but still reads. */
  void halfClose() {
    synchronized (this) {
      call.onCompleted();
    }
  }

  /** Ends the stream from the client side, as an Envoy that goes away. */
  @Override
  public void close() {
    if (!closed.isDone()) {
      call.cancel("test done", null);
    }
  }

  private final class Observer
      implements ClientResponseObserver<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
    @Override
    public void beforeStart(ClientCallStreamObserver<DeltaDiscoveryRequest> requestStream) {
      requestStream.disableAutoRequestWithInitial(0);
      call = requestStream;
    }

    @Override
    public void onNext(DeltaDiscoveryResponse response) {
      responses.add(response);
    }

    @Override
    public void onError(Throwable error) {
      closed.complete(Status.fromThrowable(error));
    }

    @Override
    public void onCompleted() {
      closed.complete(Status.OK);
    }
  }
}
