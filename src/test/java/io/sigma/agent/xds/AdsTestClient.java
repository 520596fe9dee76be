package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.rpc.Code;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A grpc-java ADS client that behaves like Envoy: it subscribes per type and ACKs or NACKs each
 * response with its nonce. It reads a response only when a test calls {@link #next()} (manual
 * flow control), so a test that does not call it plays a stuck Envoy.
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
    AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(client.new Observer());
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
    send(request(response.getTypeUrl(), previousVersion, response.getNonce()).toBuilder()
        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(message))
        .build());
  }

  DiscoveryRequest request(String typeUrl, String versionInfo, String nonce) {
    DiscoveryRequest.Builder request = DiscoveryRequest.newBuilder()
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
      throw new AssertionError("no DiscoveryResponse within " + TIMEOUT_SECONDS + " s for node " + nodeId
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

  /** The gRPC status the stream ended with, waiting up to {@link #TIMEOUT_SECONDS}. */
  Status awaitClosed() throws Exception {
    return closed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** Ends the stream from the client side, as an Envoy that goes away. */
  @Override
  public void close() {
    if (!closed.isDone()) {
      call.cancel("test done", null);
    }
  }

  private final class Observer implements ClientResponseObserver<DiscoveryRequest, DiscoveryResponse> {
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
