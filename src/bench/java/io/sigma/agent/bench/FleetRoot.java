package io.sigma.agent.bench;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** The guardian of the simulated fleet's actor system: spawns one agent hierarchy per message. */
final class FleetRoot {
  sealed interface Command {}

  /** Start agent {@code name} (e.g. {@code agent-00042}) with its own actors. */
  record SpawnAgent(String name, SimulatedAgent.Parts parts) implements Command {}

  private FleetRoot() {}

  static Behavior<Command> create() {
    return Behaviors.setup(
        ctx ->
            Behaviors.receive(Command.class)
                .onMessage(
                    SpawnAgent.class,
                    spawn -> {
                      ctx.spawn(SimulatedAgent.create(spawn.parts()), spawn.name());
                      return Behaviors.same();
                    })
                .build());
  }
}
