package io.sigma.agent.bench;

import io.sigma.agent.bench.SoakSampler.Sample;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The soak's samples as four small charts stacked in one PNG (RSS, heap after GC, threads, open fds
 * over minutes), each with the healthy windows of the fault schedule shaded.
 */
final class SoakChart {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 230;

  private SoakChart() {}

  static void write(List<Sample> samples, FaultSchedule schedule, Path png, double minutes)
      throws IOException {
    List<SoakTest.Metric> metrics = SoakTest.METRICS;
    BufferedImage image =
        new BufferedImage(WIDTH, HEIGHT * metrics.size(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    double[] x = samples.stream().mapToDouble(s -> s.seconds() / 60).toArray();
    for (int i = 0; i < metrics.size(); i++) {
      SoakTest.Metric m = metrics.get(i);
      double[] y = samples.stream().mapToDouble(m.value()).toArray();
      double max = 0;
      for (double v : y) {
        max = Math.max(max, v);
      }
      String title =
          String.format(
              Locale.ROOT,
              "%s%s, %.0f-minute soak under faults%s",
              m.name(),
              m.unit().isEmpty() ? "" : " (" + m.unit() + ")",
              minutes,
              i == 0 ? " (grey: healthy API)" : "");
      XYChart chart =
          new XYChartBuilder()
              .width(WIDTH)
              .height(HEIGHT)
              .title(title)
              .xAxisTitle(i == metrics.size() - 1 ? "minutes" : "")
              .yAxisTitle(m.unit())
              .build();
      chart.getStyler().setLegendVisible(false);
      chart.getStyler().setYAxisMin(0.0);
      chart.getStyler().setYAxisMax(max * 1.25 + 1);
      chart.getStyler().setXAxisMin(0.0);
      chart.getStyler().setXAxisMax(minutes);
      for (FaultSchedule.Window w : schedule.healthyWindows()) {
        XYSeries band =
            chart.addSeries(
                "healthy " + w.from(),
                new double[] {w.from() / 60, w.from() / 60, w.to() / 60, w.to() / 60},
                new double[] {0, max * 1.25 + 1, max * 1.25 + 1, 0});
        band.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
        band.setFillColor(new Color(0, 0, 0, 25));
        band.setLineColor(new Color(0, 0, 0, 0));
        band.setMarker(SeriesMarkers.NONE);
      }
      XYSeries series = chart.addSeries(m.name(), x, y);
      series.setMarker(SeriesMarkers.CIRCLE);
      series.setLineColor(new Color(31, 119, 180));
      series.setMarkerColor(new Color(31, 119, 180));
      g.drawImage(BitmapEncoder.getBufferedImage(chart), 0, i * HEIGHT, null);
    }
    g.dispose();
    Files.createDirectories(png.toAbsolutePath().getParent());
    ImageIO.write(image, "png", png.toFile());
  }
}
