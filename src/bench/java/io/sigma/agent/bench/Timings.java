package io.sigma.agent.bench;

import java.util.Arrays;
import java.util.function.LongSupplier;

/** Timing loop shared by the micro-benchmarks. */
final class Timings {
  private Timings() {}

  /**
   * Runs {@code task} warmUp times, then returns the sorted durations (ns) of {@code runs} more.
   * The task returns a value that is summed, so the JIT cannot drop its work.
   */
  static long[] measure(int warmUp, int runs, LongSupplier task) {
    long sink = 0;
    for (int i = 0; i < warmUp; i++) {
      sink += task.getAsLong();
    }
    long[] nanos = new long[runs];
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      sink += task.getAsLong();
      nanos[i] = System.nanoTime() - start;
    }
    if (sink == Long.MIN_VALUE) {
      System.out.println("(keeps the JIT from dropping the work)");
    }
    Arrays.sort(nanos);
    return nanos;
  }
}
