package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Binding and stopping the xDS server; default config, so HTTP/2 must be enabled by the server. */
class XdsServerIT {

  private static ActorTestKit testKit;
  private static ActorRef<SnapshotRegistry.Command> registry;
  private static AdsService service;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create();
    registry = testKit.spawn(SnapshotRegistry.create());
    service = new AdsService(registry, XdsEvents.NO_OP, Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void defaultBindAddressIsLoopback() {
    assertEquals("127.0.0.1", XdsServer.DEFAULT_BIND_HOST);
  }

  @Test
  void servesOnTheBoundPortAndStoppingEndsTheStreams() throws Exception {
    XdsServer server = XdsServer.start(testKit.system(), service, XdsServer.DEFAULT_BIND_HOST, 0)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(server.port() > 0);
    assertEquals(InetAddress.getLoopbackAddress(), server.localAddress().getAddress());
    registry.tell(new SnapshotRegistry.SetSnapshot(
        new RouteResourceMapper().map(List.of(route("a", 10001, "a.example", 80))).toSnapshot("stopping", 1)));
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
        InsecureChannelCredentials.create()).build();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "stopping")) {
      envoy.subscribe(TypeUrls.CLUSTER);
      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals("1", clusters.getVersionInfo());

      server.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);

      Status status = envoy.awaitClosed();
      assertNotEquals(Status.Code.OK, status.getCode());
      TestProbe<XdsStatus> probe = testKit.createTestProbe();
      probe.awaitAssert(Duration.ofSeconds(10), () -> {
        registry.tell(new SnapshotRegistry.GetStatus(probe.ref()));
        assertEquals(List.of(), probe.receiveMessage().node("stopping").streams());
        return null;
      });
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void responsesAreNotCompressedEvenWhenTheClientOffersGzip() throws Exception {
    XdsServer server = XdsServer.start(testKit.system(), service, XdsServer.DEFAULT_BIND_HOST, 0)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    registry.tell(new SnapshotRegistry.SetSnapshot(
        new RouteResourceMapper().map(List.of(route("a", 10001, "a.example", 80))).toSnapshot("plain", 1)));
    CompletableFuture<Metadata> responseHeaders = new CompletableFuture<>();
    ClientInterceptor recordHeaders = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onHeaders(Metadata received) {
                responseHeaders.complete(received);
                super.onHeaders(received);
              }
            }, headers);
          }
        };
      }
    };
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
        InsecureChannelCredentials.create()).intercept(recordHeaders).build();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "plain")) {
      envoy.subscribe(TypeUrls.CLUSTER);
      assertEquals("1", envoy.next(TypeUrls.CLUSTER).getVersionInfo());

      Metadata headers = responseHeaders.get(10, TimeUnit.SECONDS);
      String encoding = headers.get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER));
      assertTrue(encoding == null || encoding.equals("identity"), "grpc-encoding " + encoding);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void bindingABusyPortFails() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      ExecutionException failure = assertThrows(ExecutionException.class,
          () -> XdsServer.start(testKit.system(), service, "127.0.0.1", busy.getLocalPort())
              .toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(failure.getCause().getMessage().contains(String.valueOf(busy.getLocalPort())),
          failure.getCause().getMessage());
    }
  }
}
