package io.sigma.agent.reload;

import java.util.function.Consumer;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The one place that touches {@code sun.misc.Signal} (module jdk.unsupported, there since Java 1.x
 * and kept for exactly this use): the JVM's own handling of SIGHUP runs the shutdown hooks, so the
 * agent stopped on {@code systemctl reload} or a closed terminal; and its SIGTERM and SIGINT
 * handling looks the same to the shutdown hooks, so the agent could not say which one stopped it.
 * Handlers are process-wide by nature: {@code Main} installs them once.
 */
public final class ProcessSignals {
  private ProcessSignals() {}

  /** Runs {@code onHangup} on every SIGHUP instead of stopping the JVM. */
  public static void onHangup(Runnable onHangup) {
    Signal.handle(new Signal("HUP"), signal -> runGuarded("SIGHUP", onHangup));
  }

  /**
   * Calls {@code beforeStop} with "SIGTERM" or "SIGINT" when one arrives, then stops the JVM as it
   * would have (shutdown hooks, exit status 128 + the signal's number: 143, 130).
   */
  public static void onStop(Consumer<String> beforeStop) {
    for (String name : new String[] {"TERM", "INT"}) {
      Signal signal = new Signal(name);
      SignalHandler[] jvmDefault = new SignalHandler[1];
      try {
        jvmDefault[0] =
            Signal.handle(
                signal,
                received -> {
                  runGuarded("SIG" + name, () -> beforeStop.accept("SIG" + name));
                  jvmDefault[0].handle(received);
                });
      } catch (IllegalArgumentException e) {
        continue; // the JVM does not let it be handled (-Xrs): it stops without a named reason
      }
      if (jvmDefault[0] == SignalHandler.SIG_IGN || jvmDefault[0] == SignalHandler.SIG_DFL) {
        // Ignored (nohup, a background job's SIGINT) or the OS default (-Xrs): a native
        // disposition cannot be chained to, so it stays as it was.
        Signal.handle(signal, jvmDefault[0]);
      }
    }
  }

  private static void runGuarded(String signal, Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      LoggerFactory.getLogger(ProcessSignals.class)
          .error("Handling {} failed: {}", signal, e.toString());
    }
  }
}
