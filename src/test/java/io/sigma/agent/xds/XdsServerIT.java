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
import io.sigma.agent.testing.RawHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
    service = new AdsService(registry, new XdsEvents() {}, Clock.systemUTC());
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
    XdsServer server =
        XdsServer.start(testKit.system(), service, XdsServer.DEFAULT_BIND_HOST, 0)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertTrue(server.port() > 0);
    assertEquals(InetAddress.getLoopbackAddress(), server.localAddress().getAddress());
    registry.tell(
        new SnapshotRegistry.SetSnapshot(
            new RouteResourceMapper()
                .map(List.of(route("a", 10001, "a.example", 80)))
                .toSnapshot("stopping", 1)));
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "stopping")) {
      envoy.subscribe(TypeUrls.CLUSTER);
      DiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      assertEquals("1", clusters.getVersionInfo());

      server.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);

      Status status = envoy.awaitClosed();
      assertNotEquals(Status.Code.OK, status.getCode());
      TestProbe<XdsStatus> probe = testKit.createTestProbe();
      probe.awaitAssert(
          Duration.ofSeconds(10),
          () -> {
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
    XdsServer server =
        XdsServer.start(testKit.system(), service, XdsServer.DEFAULT_BIND_HOST, 0)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    registry.tell(
        new SnapshotRegistry.SetSnapshot(
            new RouteResourceMapper()
                .map(List.of(route("a", 10001, "a.example", 80)))
                .toSnapshot("plain", 1)));
    CompletableFuture<Metadata> responseHeaders = new CompletableFuture<>();
    ClientInterceptor recordHeaders =
        new ClientInterceptor() {
          @Override
          public <Q, R> ClientCall<Q, R> interceptCall(
              MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(
                next.newCall(method, options)) {
              @Override
              public void start(Listener<R> listener, Metadata headers) {
                super.start(
                    new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                        listener) {
                      @Override
                      public void onHeaders(Metadata received) {
                        responseHeaders.complete(received);
                        super.onHeaders(received);
                      }
                    },
                    headers);
              }
            };
          }
        };
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .intercept(recordHeaders)
            .build();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "plain")) {
      envoy.subscribe(TypeUrls.CLUSTER);
      assertEquals("1", envoy.next(TypeUrls.CLUSTER).getVersionInfo());

      Metadata headers = responseHeaders.get(10, TimeUnit.SECONDS);
      String encoding =
          headers.get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER));
      assertTrue(encoding == null || encoding.equals("identity"), "grpc-encoding " + encoding);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** A short handshake timeout, so a test sees it pass in well under a second. */
  private static final Duration HANDSHAKE = Duration.ofMillis(500);

  /** For a real client (once warmed up, see {@link #warmUpAdsClient}): ample, and soon passed. */
  private static final Duration CLIENT_HANDSHAKE = Duration.ofSeconds(1);

  private static final Duration AWAIT = Duration.ofSeconds(10);

  private static InetSocketAddress target(XdsServer server) {
    return new InetSocketAddress("127.0.0.1", server.port());
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheHandshakeTimeout() throws Exception {
    XdsServer server =
        XdsServer.start(testKit.system(), service, "127.0.0.1", 0, HANDSHAKE)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    try (RawHttp silent = RawHttp.connect(InetAddress.getByName("127.0.0.2"), target(server))) {
      assertTrue(silent.closedWithin(AWAIT), "a silent connection was still open after " + AWAIT);
    } finally {
      server.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aConnectionTricklingSomethingElseThanHttp2IsClosedAfterTheHandshakeTimeout()
      throws Exception {
    XdsServer server =
        XdsServer.start(testKit.system(), service, "127.0.0.1", 0, HANDSHAKE)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    try (RawHttp slow = RawHttp.connect(InetAddress.getByName("127.0.0.2"), target(server))) {
      slow.send("GET / HTTP/1.1\r\nHost: agent\r\nX-Slow: ");
      boolean closed = false;
      for (int i = 0; i < 100 && !closed; i++) {
        try {
          slow.send("a");
        } catch (IOException gone) {
          break;
        }
        closed = slow.closedWithin(Duration.ofMillis(100));
      }
      assertTrue(closed, "a connection trickling an HTTP/1.1 head was still open after " + AWAIT);
    } finally {
      server.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * One ADS stream against an unguarded-in-practice server (default 10 s handshake): the first
   * HTTP/2 connection of a cold JVM loads grpc-java's and Pekko's HTTP/2 classes, which took
   * seconds on a busy machine; the guarded test must not count that.
   */
  private static void warmUpAdsClient() throws Exception {
    XdsServer warmUp =
        XdsServer.start(testKit.system(), service, "127.0.0.1", 0)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    registry.tell(
        new SnapshotRegistry.SetSnapshot(
            new RouteResourceMapper()
                .map(List.of(route("a", 10001, "a.example", 80)))
                .toSnapshot("warm-up", 1)));
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", warmUp.port(), InsecureChannelCredentials.create())
            .build();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "warm-up")) {
      envoy.subscribe(TypeUrls.CLUSTER);
      assertEquals("1", envoy.next(TypeUrls.CLUSTER).getVersionInfo());
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      warmUp.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anAdsStreamStaysOpenPastTheHandshakeTimeout() throws Exception {
    warmUpAdsClient();
    XdsServer server =
        XdsServer.start(testKit.system(), service, "127.0.0.1", 0, CLIENT_HANDSHAKE)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    registry.tell(
        new SnapshotRegistry.SetSnapshot(
            new RouteResourceMapper()
                .map(List.of(route("a", 10001, "a.example", 80)))
                .toSnapshot("past-handshake", 1)));
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
    try (AdsTestClient envoy = AdsTestClient.connect(channel, "past-handshake")) {
      envoy.subscribe(TypeUrls.CLUSTER);
      DiscoveryResponse first = envoy.next(TypeUrls.CLUSTER);
      assertEquals("1", first.getVersionInfo());
      envoy.ack(first);
      // a connection opened after the ADS one is closed by its handshake deadline: by then the
      // ADS connection's deadline has passed too
      try (RawHttp later = RawHttp.connect(InetAddress.getByName("127.0.0.2"), target(server))) {
        assertTrue(later.closedWithin(AWAIT), "the handshake deadline never passed");
      }
      registry.tell(
          new SnapshotRegistry.SetSnapshot(
              new RouteResourceMapper()
                  .map(
                      List.of(
                          route("a", 10001, "a.example", 80), route("b", 10002, "b.example", 80)))
                  .toSnapshot("past-handshake", 2)));
      DiscoveryResponse second = envoy.next(TypeUrls.CLUSTER);
      assertEquals("2", second.getVersionInfo(), "the same stream still gets updates");
      assertEquals(2, second.getResourcesCount());
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.stop(Duration.ofMillis(500)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void bindingABusyPortFails() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      ExecutionException failure =
          assertThrows(
              ExecutionException.class,
              () ->
                  XdsServer.start(testKit.system(), service, "127.0.0.1", busy.getLocalPort())
                      .toCompletableFuture()
                      .get(10, TimeUnit.SECONDS));
      assertTrue(
          failure.getCause().getMessage().contains(String.valueOf(busy.getLocalPort())),
          failure.getCause().getMessage());
    }
  }
}
