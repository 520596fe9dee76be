package io.sigma.agent.bench;

import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Entry point of {@code mvn -B -Pbench verify [-Dbench=NAME]}: runs one benchmark by name, or all
 * of them in order. Each benchmark is a class in this package with a {@code main(String[])} that
 * prints its figures side by side with its baseline.
 */
public final class Benchmarks {
  /** {name, class in this package}; one line per benchmark. */
  private static final String[][] BENCHMARKS = {
    {"devapi", "DevApiThroughput"},
    {"ports", "PortScanBenchmark"},
    {"startup", "StartupBenchmark"},
    {"allocation", "AllocationBenchmark"},
    {"xds", "XdsFanoutBenchmark"},
    {"fleet", "FleetSimulation"},
    {"soak", "SoakTest"},
    {"hostile-api", "HostileApiBenchmark"},
    {"slowloris", "SlowlorisBenchmark"},
  };

  private Benchmarks() {}

  public static void main(String[] args) throws Exception {
    String which = args.length == 0 ? "all" : args[0];
    boolean known = Arrays.stream(BENCHMARKS).anyMatch(b -> b[0].equals(which));
    if (!which.equals("all") && !known) {
      System.err.println(
          "unknown benchmark '"
              + which
              + "'; known: "
              + Arrays.stream(BENCHMARKS).map(b -> b[0]).toList());
      System.exit(2);
    }
    for (String[] b : BENCHMARKS) {
      if (which.equals("all") || which.equals(b[0])) {
        System.out.println("=== benchmark " + b[0] + " ===");
        Method main =
            Class.forName(Benchmarks.class.getPackageName() + "." + b[1])
                .getMethod("main", String[].class);
        main.invoke(null, (Object) new String[0]);
      }
    }
  }
}
