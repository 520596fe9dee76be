package io.sigma.agent.net;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.scaladsl.model.HttpEntity;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Deadlines on one HTTP/1.1 connection, between the server layer and the handler (requests flow top
 * to bottom, responses back up):
 *
 * <ul>
 *   <li>head: while no request is in flight (from the connection's start, and from each response),
 *       the next request head must arrive within {@code headTimeout}, or the connection is closed.
 *       Pekko's own timeouts cannot do this: its idle timeout restarts with every byte, so a client
 *       trickling one header byte a second holds the connection forever, and its request timeout
 *       only starts once the head is parsed.
 *   <li>body: a streamed request body fails with {@link BodyTimeoutException} unless it has arrived
 *       completely within {@code bodyTimeout} of the handler starting to read it (Pekko starts its
 *       request timeout only at the end of the body). Bodies that came with the head (strict) have
 *       nothing to wait for.
 * </ul>
 *
 * When the head deadline passes the stage completes: the server layer sees the handler finish and
 * closes the connection.
 */
public final class RequestDeadlines
    extends GraphStage<BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse>> {

  /** A request body that did not arrive within the body timeout. */
  public static final class BodyTimeoutException extends TimeoutException {
    BodyTimeoutException(Duration timeout) {
      super("request body not received completely within " + timeout.toSeconds() + " s");
    }
  }

  /** The closure reason {@link GuardLog} gets for a head that did not arrive in time. */
  public static String headReason(Duration timeout) {
    return "no complete request head within " + timeout.toSeconds() + " s";
  }

  private final Inlet<HttpRequest> requestsIn = Inlet.create("RequestDeadlines.requestsIn");
  private final Outlet<HttpRequest> requestsOut = Outlet.create("RequestDeadlines.requestsOut");
  private final Inlet<HttpResponse> responsesIn = Inlet.create("RequestDeadlines.responsesIn");
  private final Outlet<HttpResponse> responsesOut = Outlet.create("RequestDeadlines.responsesOut");
  private final BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape =
      BidiShape.of(requestsIn, requestsOut, responsesIn, responsesOut);

  private final Duration headTimeout;
  private final Duration bodyTimeout;
  private final Runnable onHeadTimeout;
  private final ConnectionLimits.Lease lease;

  /**
   * {@code onHeadTimeout} runs when a connection is closed for its head (e.g. to log it); {@code
   * lease} is told when the connection waits for a head, and can evict it.
   */
  public RequestDeadlines(
      Duration headTimeout,
      Duration bodyTimeout,
      Runnable onHeadTimeout,
      ConnectionLimits.Lease lease) {
    this.headTimeout = headTimeout;
    this.bodyTimeout = bodyTimeout;
    this.onHeadTimeout = onHeadTimeout;
    this.lease = lease;
  }

  /** As a BidiFlow to {@code join} with a connection's handler flow. */
  public BidiFlow<HttpRequest, HttpRequest, HttpResponse, HttpResponse, NotUsed> bidiFlow() {
    return BidiFlow.fromGraph(this);
  }

  @Override
  public BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new TimerGraphStageLogic(shape) {
      private static final String HEAD = "head";
      private int inFlight;

      @Override
      public void preStart() {
        AsyncCallback<Done> evicted = createAsyncCallback(done -> completeStage());
        lease.onEvict(() -> evicted.invoke(Done.getInstance()));
        lease.awaitingHead();
        scheduleOnce(HEAD, headTimeout);
      }

      {
        setHandler(
            requestsIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                cancelTimer(HEAD);
                lease.inRequest();
                inFlight++;
                push(requestsOut, withBodyDeadline(grab(requestsIn), bodyTimeout));
              }

              @Override
              public void onUpstreamFinish() {
                cancelTimer(HEAD);
                complete(requestsOut);
              }
            });
        setHandler(
            requestsOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                pull(requestsIn);
              }
            });
        setHandler(
            responsesIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                push(responsesOut, grab(responsesIn));
                inFlight--;
                if (inFlight == 0 && !isClosed(requestsIn)) {
                  lease.awaitingHead();
                  scheduleOnce(HEAD, headTimeout);
                }
              }
            });
        setHandler(
            responsesOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                pull(responsesIn);
              }
            });
      }

      @Override
      public void onTimer(Object key) {
        onHeadTimeout.run();
        completeStage();
      }
    };
  }

  /**
   * {@code request} with its streamed body failing unless complete within {@code timeout} of being
   * read. A body with a declared length keeps it, so size limits still refuse an oversized body
   * from its Content-Length alone, before reading a byte.
   */
  static HttpRequest withBodyDeadline(HttpRequest request, Duration timeout) {
    RequestEntity entity = request.entity();
    if (entity.isStrict() || entity.isKnownEmpty()) {
      return request;
    }
    org.apache.pekko.stream.scaladsl.Flow<ByteString, ByteString, Object> deadline =
        Flow.of(ByteString.class)
            .completionTimeout(timeout)
            .mapError(TimeoutException.class, e -> new BodyTimeoutException(timeout))
            .<Object>mapMaterializedValue(m -> m)
            .asScala();
    if (entity instanceof HttpEntity.Default sized) {
      return request.withEntity(sized.transformDataBytes(sized.contentLength(), deadline));
    }
    if (entity instanceof HttpEntity.Chunked chunked) {
      return request.withEntity(chunked.transformDataBytes(deadline));
    }
    return request;
  }
}
