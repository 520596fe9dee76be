package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A grpc-java ADS client that behaves like Envoy: it subscribes per type and ACKs or NACKs each
 * response with its nonce. It reads a response only when a test calls {@link #next()} (manual flow
 * control), so a test that does not call it plays a stuck Envoy.
 */
final class AdsTestClient implements AutoCloseable {

  static final long TIMEOUT_SECONDS = 10;

  private final String nodeId;
  private final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
  private final CompletableFuture<Status> closed = new CompletableFuture<>();
  private volatile ClientCallStreamObserver<DiscoveryRequest> call;

  private AdsTestClient(String nodeId) {
    this.nodeId = nodeId;
  }

  /** Opens an ADS stream; {@code nodeId} "" sends requests without a node. */
  static AdsTestClient connect(ManagedChannel channel, String nodeId) {
    AdsTestClient client = new AdsTestClient(nodeId);
    AggregatedDiscoveryServiceGrpc.newStub(channel)
        .streamAggregatedResources(client.new Observer());
    assertNotNull(client.call);
    return client;
  }

  void send(DiscoveryRequest request) {
    synchronized (this) {
      call.onNext(request);
    }
  }

  /** Envoy's first request for a type (or after a reconnect, with the version it has). */
  void subscribe(String typeUrl, String versionInfo) {
    send(request(typeUrl, versionInfo, ""));
  }

  void subscribe(String typeUrl) {
    subscribe(typeUrl, "");
  }

  void ack(DiscoveryResponse response) {
    send(request(response.getTypeUrl(), response.getVersionInfo(), response.getNonce()));
  }

  void nack(DiscoveryResponse response, String previousVersion, String message) {
    send(
        request(response.getTypeUrl(), previousVersion, response.getNonce()).toBuilder()
            .setErrorDetail(
                com.google.rpc.Status.newBuilder()
                    .setCode(Code.INVALID_ARGUMENT_VALUE)
                    .setMessage(message))
            .build());
  }

  DiscoveryRequest request(String typeUrl, String versionInfo, String nonce) {
    DiscoveryRequest.Builder request =
        DiscoveryRequest.newBuilder()
            .setTypeUrl(typeUrl)
            .setVersionInfo(versionInfo)
            .setResponseNonce(nonce);
    if (!nodeId.isEmpty()) {
      request.setNode(Node.newBuilder().setId(nodeId).setCluster("test"));
    }
    return request.build();
  }

  /** Reads the next response, waiting up to {@link #TIMEOUT_SECONDS}; fails the test if none. */
  DiscoveryResponse next() throws InterruptedException {
    call.request(1);
    DiscoveryResponse response = responses.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (response == null) {
      throw new AssertionError(
          "no DiscoveryResponse within "
              + TIMEOUT_SECONDS
              + " s for node "
              + nodeId
              + (closed.isDone() ? " (stream closed: " + closed.getNow(null) + ")" : ""));
    }
    return response;
  }

  /** Reads the next response and checks its type. */
  DiscoveryResponse next(String typeUrl) throws InterruptedException {
    DiscoveryResponse response = next();
    assertEquals(typeUrl, response.getTypeUrl(), "type of the next response");
    return response;
  }

  /**
   * Envoy's start-up on this stream: subscribes to Clusters, ACKs them, subscribes to Listeners and
   * ACKs them; returns {Clusters response, Listeners response}.
   */
  DiscoveryResponse[] handshake() throws InterruptedException {
    subscribe(TypeUrls.CLUSTER);
    DiscoveryResponse clusters = next(TypeUrls.CLUSTER);
    ack(clusters);
    subscribe(TypeUrls.LISTENER);
    DiscoveryResponse listeners = next(TypeUrls.LISTENER);
    ack(listeners);
    return new DiscoveryResponse[] {clusters, listeners};
  }

  /** Reads and ACKs responses until Clusters and Listeners at {@code version} have both arrived. */
  DiscoveryResponse[] readAndAckUntil(String version) throws InterruptedException {
    DiscoveryResponse clusters = null;
    DiscoveryResponse listeners = null;
    while (clusters == null || listeners == null) {
      DiscoveryResponse response = next();
      ack(response);
      if (version.equals(response.getVersionInfo())) {
        if (TypeUrls.CLUSTER.equals(response.getTypeUrl())) {
          clusters = response;
        } else if (TypeUrls.LISTENER.equals(response.getTypeUrl())) {
          listeners = response;
        }
      }
    }
    return new DiscoveryResponse[] {clusters, listeners};
  }

  /** The resources of {@code response} decoded as {@code type}. */
  static <T extends Message> List<T> unpack(DiscoveryResponse response, Class<T> type) {
    List<T> out = new ArrayList<>();
    for (Any any : response.getResourcesList()) {
      try {
        out.add(any.unpack(type));
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(
            "resource is not a " + type.getSimpleName() + ": " + any.getTypeUrl(), e);
      }
    }
    return out;
  }

  /** The names of the Clusters of a Cluster response. */
  static List<String> clusterNames(DiscoveryResponse clusters) {
    return unpack(clusters, Cluster.class).stream().map(Cluster::getName).toList();
  }

  /** The names of the Listeners of a Listener response. */
  static List<String> listenerNames(DiscoveryResponse listeners) {
    return unpack(listeners, Listener.class).stream().map(Listener::getName).toList();
  }

  /**
   * The gRPC status the stream ended with, waiting up to {@link #TIMEOUT_SECONDS}. Reads whatever
   * responses are still in flight first: grpc-java hands the status over only after the messages
   * before it, and this client reads only what a test asks for (a refused stream may have been sent
   * responses before its refusal, depending on when the node's snapshot reached it).
   */
  Status awaitClosed() throws Exception {
    call.request(Integer.MAX_VALUE);
    return closed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Half-closes the request side (gRPC onCompleted): the client sends nothing more but still reads.
   */
  void halfClose() {
    synchronized (this) {
      call.onCompleted();
    }
  }

  /** A request that names {@code otherNodeId} instead of this client's node. */
  DiscoveryRequest requestAs(String otherNodeId, String typeUrl) {
    return request(typeUrl, "", "").toBuilder()
        .setNode(Node.newBuilder().setId(otherNodeId))
        .build();
  }

  /** Ends the stream from the client side, as an Envoy that goes away. */
  @Override
  public void close() {
    if (!closed.isDone()) {
      call.cancel("test done", null);
    }
  }

  private final class Observer
      implements ClientResponseObserver<DiscoveryRequest, DiscoveryResponse> {
    @Override
    public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> requestStream) {
      requestStream.disableAutoRequestWithInitial(0);
      call = requestStream;
    }

    @Override
    public void onNext(DiscoveryResponse response) {
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
