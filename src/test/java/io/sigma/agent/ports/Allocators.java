package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import java.time.Clock;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;

/** The real allocator (bind probes, 30 s reservations) as a running actor, for route tests. */
public final class Allocators {
  private Allocators() {}

  public static AllocationRoutes.Allocator real(ActorTestKit testKit, PortRange range) {
    return new AllocationRoutes.Allocator(
        testKit.spawn(
            PortAllocator.create(
                range,
                new LatestPortScan(),
                new BindProbe(),
                Duration.ofSeconds(30),
                Clock.systemUTC())),
        range);
  }
}
