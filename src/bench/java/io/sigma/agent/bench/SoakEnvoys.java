package io.sigma.agent.bench;

import com.google.rpc.Code;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.sigma.agent.xds.TypeUrls;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The soak's Envoys: a few worker threads, each looping over ADS sessions against the agent's xDS
 * server. A session opens a stream (on a fresh gRPC connection about half of the time), subscribes
 * to Clusters then Listeners like Envoy, ACKs each response (NACKs one in seven, sending back the
 * version it had), stays 3-20 s taking whatever the agent pushes, and disconnects. Every Cluster
 * and Listener response is checked: one without resources is an empty config pushed to Envoy,
 * recorded as a violation.
 */
final class SoakEnvoys implements AutoCloseable {
  /** One response that carried no resources: the failure the soak looks for. */
  record EmptyPush(double atSeconds, String nodeId, String type, String version) {}

  private static final long RESPONSE_TIMEOUT_SECONDS = 15;

  /** Every NACK_EVERY-th response of a worker is NACKed. */
  private static final int NACK_EVERY = 7;

  private static final double NEW_CONNECTION_PROBABILITY = 0.5;

  private final int port;
  private final List<String> nodeIds;
  private final LongSupplier millisSinceStart;
  private final List<Thread> workers = new CopyOnWriteArrayList<>();
  private volatile boolean running = true;

  final AtomicLong sessions = new AtomicLong();
  final AtomicLong responses = new AtomicLong();
  final AtomicLong acks = new AtomicLong();
  final AtomicLong nacks = new AtomicLong();
  final AtomicLong sessionErrors = new AtomicLong();
  final List<EmptyPush> emptyPushes = new CopyOnWriteArrayList<>();
  final List<String> errorSamples = new CopyOnWriteArrayList<>();

  /** Versions seen per node, to show that config churn reached the Envoys. */
  final Map<String, Long> versionsSeen = new ConcurrentHashMap<>();

  SoakEnvoys(int port, List<String> nodeIds, LongSupplier millisSinceStart) {
    this.port = port;
    this.nodeIds = List.copyOf(nodeIds);
    this.millisSinceStart = millisSinceStart;
  }

  /** Starts {@code count} workers, each with its own random sequence. */
  void start(int count, long seed) {
    for (int i = 0; i < count; i++) {
      SplittableRandom random = new SplittableRandom(seed + i);
      String nodeId = nodeIds.get(i % nodeIds.size());
      Thread t = new Thread(() -> loop(nodeId, random), "soak-envoy-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
  }

  /**
   * One session against a healthy agent, checked strictly: both types answered with resources. The
   * soak runs it before its clock starts, to know the agent serves config.
   */
  void handshakeOnce(String nodeId) throws InterruptedException {
    ManagedChannel channel = channel();
    try {
      Stream stream = new Stream(channel, nodeId);
      for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER)) {
        stream.send(request(nodeId, type, "", ""));
        DiscoveryResponse r = stream.next();
        if (r == null || r.getResourcesCount() == 0) {
          throw new IllegalStateException(
              "warm-up: node "
                  + nodeId
                  + " got "
                  + (r == null ? "no " + TypeUrls.shortName(type) + " response" : "an empty one"));
        }
        stream.send(request(nodeId, type, r.getVersionInfo(), r.getNonce()));
      }
      stream.cancel();
    } finally {
      channel.shutdownNow();
    }
  }

  private void loop(String nodeId, SplittableRandom random) {
    ManagedChannel channel = null;
    int[] answered = {0};
    while (running) {
      try {
        if (channel == null || random.nextDouble() < NEW_CONNECTION_PROBABILITY) {
          if (channel != null) {
            channel.shutdownNow();
          }
          channel = channel();
        }
        session(channel, nodeId, random, answered);
      } catch (InterruptedException e) {
        break;
      } catch (RuntimeException e) {
        sessionErrors.incrementAndGet();
        if (errorSamples.size() < 20) {
          errorSamples.add(String.format("%.0f s %s: %s", now(), nodeId, e));
        }
      }
    }
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  private void session(
      ManagedChannel channel, String nodeId, SplittableRandom random, int[] answered)
      throws InterruptedException {
    sessions.incrementAndGet();
    Stream stream = new Stream(channel, nodeId);
    Map<String, String> acked = new ConcurrentHashMap<>();
    try {
      stream.send(request(nodeId, TypeUrls.CLUSTER, "", ""));
      long stayUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(1 + random.nextInt(10));
      boolean listenersAsked = false;
      while (running && System.nanoTime() < stayUntil) {
        DiscoveryResponse r = stream.poll(500);
        if (r == null) {
          if (stream.failure != null) {
            throw new IllegalStateException("stream ended: " + stream.failure);
          }
          continue;
        }
        check(nodeId, r);
        String previous = acked.getOrDefault(r.getTypeUrl(), "");
        if (++answered[0] % NACK_EVERY == 0) {
          nacks.incrementAndGet();
          stream.send(
              request(nodeId, r.getTypeUrl(), previous, r.getNonce()).toBuilder()
                  .setErrorDetail(
                      com.google.rpc.Status.newBuilder()
                          .setCode(Code.INVALID_ARGUMENT_VALUE)
                          .setMessage("soak: rejected on purpose"))
                  .build());
        } else {
          acks.incrementAndGet();
          acked.put(r.getTypeUrl(), r.getVersionInfo());
          stream.send(request(nodeId, r.getTypeUrl(), r.getVersionInfo(), r.getNonce()));
        }
        if (!listenersAsked && TypeUrls.CLUSTER.equals(r.getTypeUrl())) {
          listenersAsked = true;
          stream.send(request(nodeId, TypeUrls.LISTENER, "", ""));
        }
      }
      if (!listenersAsked) {
        throw new IllegalStateException("no Cluster response within the session");
      }
    } finally {
      stream.cancel();
    }
  }

  private void check(String nodeId, DiscoveryResponse r) {
    responses.incrementAndGet();
    versionsSeen.merge(nodeId + " " + TypeUrls.shortName(r.getTypeUrl()), 1L, Long::sum);
    boolean served =
        TypeUrls.CLUSTER.equals(r.getTypeUrl()) || TypeUrls.LISTENER.equals(r.getTypeUrl());
    if (served && r.getResourcesCount() == 0) {
      emptyPushes.add(
          new EmptyPush(now(), nodeId, TypeUrls.shortName(r.getTypeUrl()), r.getVersionInfo()));
    }
  }

  private double now() {
    return millisSinceStart.getAsLong() / 1000.0;
  }

  private ManagedChannel channel() {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
        .maxInboundMessageSize(16 * 1024 * 1024)
        .build();
  }

  private static DiscoveryRequest request(
      String nodeId, String type, String version, String nonce) {
    return DiscoveryRequest.newBuilder()
        .setNode(Node.newBuilder().setId(nodeId).setCluster("soak"))
        .setTypeUrl(type)
        .setVersionInfo(version)
        .setResponseNonce(nonce)
        .build();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    for (Thread t : workers) {
      t.join(TimeUnit.SECONDS.toMillis(RESPONSE_TIMEOUT_SECONDS + 5));
    }
  }

  /** One ADS stream: responses queue up as they arrive. */
  private static final class Stream {
    private final BlockingQueue<DiscoveryResponse> queue = new LinkedBlockingQueue<>();
    private volatile ClientCallStreamObserver<DiscoveryRequest> call;
    private volatile Throwable failure;

    Stream(ManagedChannel channel, String nodeId) {
      AggregatedDiscoveryServiceGrpc.newStub(channel)
          .streamAggregatedResources(
              new ClientResponseObserver<DiscoveryRequest, DiscoveryResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> requestStream) {
                  call = requestStream;
                }

                @Override
                public void onNext(DiscoveryResponse value) {
                  queue.add(value);
                }

                @Override
                public void onError(Throwable t) {
                  failure = t;
                }

                @Override
                public void onCompleted() {
                  failure = new IllegalStateException("completed by the server");
                }
              });
    }

    synchronized void send(DiscoveryRequest request) {
      call.onNext(request);
    }

    DiscoveryResponse poll(long millis) throws InterruptedException {
      return queue.poll(millis, TimeUnit.MILLISECONDS);
    }

    DiscoveryResponse next() throws InterruptedException {
      return queue.poll(RESPONSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    void cancel() {
      call.cancel("soak: Envoy goes away", null);
    }
  }
}
