package io.sigma.agent.bench;

import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.SecondCounts;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Requests per second over the run as a PNG line chart (XChart, headless): what the API received
 * (all kinds, and registrations alone), what the agents sent, the steady rate and the 2× goal line,
 * and the outage window (503, then refused) marked by vertical lines.
 */
final class FleetChart {
  private static final Color RECEIVED = new Color(0x1f77b4);
  private static final Color REGISTER = new Color(0xd62728);
  private static final Color ENVOY = new Color(0x2ca02c);
  private static final Color SENT = new Color(0x7f7f7f);

  private FleetChart() {}

  static void write(FleetReport report, Path png) throws IOException {
    FleetPhases phases = report.phases();
    FleetSimulationSettings s = report.settings();
    XYChart chart =
        new XYChartBuilder()
            .width(1400)
            .height(640)
            .title(
                String.format(
                    Locale.ROOT,
                    "%d simulated agents through a %d s sigma-api outage "
                        + "(interval %d s, backoff cap %d s)",
                    s.agents(),
                    s.outage().toSeconds(),
                    s.interval().toSeconds(),
                    s.backoffMax().toSeconds()))
            .xAxisTitle("seconds since the first agent started")
            .yAxisTitle("requests per second")
            .build();
    Styler styler = chart.getStyler();
    styler.setLegendPosition(Styler.LegendPosition.InsideNW);
    styler.setAntiAlias(true);
    styler.setAnnotationLineColor(Color.DARK_GRAY);
    styler.setAnnotationLineStroke(
        new BasicStroke(
            1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    styler.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    styler.setAnnotationTextFontColor(Color.DARK_GRAY);
    chart.getStyler().setYAxisMin(0.0);

    long origin = phases.fleetStart().getEpochSecond();
    series(
        chart,
        "sent by the agents (attempts)",
        report.sent(),
        origin,
        SecondCounts::total,
        SENT,
        SeriesLines.DOT_DOT,
        1.2f);
    series(
        chart,
        "received by sigma-api (all)",
        report.received(),
        origin,
        SecondCounts::total,
        RECEIVED,
        SeriesLines.SOLID,
        2.0f);
    series(
        chart,
        "received: registrations",
        report.received(),
        origin,
        c -> c.count(EndpointKind.REGISTER),
        REGISTER,
        SeriesLines.SOLID,
        1.2f);
    ToLongFunction<SecondCounts> envoy =
        c -> c.count(EndpointKind.ENVOY_NODES) + c.count(EndpointKind.ENVOY_ROUTES);
    if (report.received().stream().mapToLong(envoy).sum() > 0) {
      series(
          chart,
          "received: envoy polls",
          report.received(),
          origin,
          envoy,
          ENVOY,
          SeriesLines.SOLID,
          1.2f);
    }

    double steady = report.steadyRate();
    double top =
        Math.max(
            steady * FleetReport.GOAL_RATIO,
            Math.max(
                report.received().stream().mapToLong(SecondCounts::total).max().orElse(1),
                report.sent().stream().mapToLong(SecondCounts::total).max().orElse(1)));
    chart.addAnnotation(new AnnotationLine(steady, false, false));
    chart.addAnnotation(new AnnotationLine(steady * FleetReport.GOAL_RATIO, false, false));
    double right = phases.secondsSinceStart(phases.watchEnd());
    chart.addAnnotation(
        new AnnotationText(
            String.format(Locale.ROOT, "steady %.0f/s", steady),
            right - 12,
            steady + top * 0.03,
            false));
    chart.addAnnotation(
        new AnnotationText(
            "goal: 2 x steady", right - 14, steady * FleetReport.GOAL_RATIO + top * 0.03, false));

    double outage = phases.secondsSinceStart(phases.outageStart());
    double refused = phases.secondsSinceStart(phases.refusedFrom());
    double back = phases.secondsSinceStart(phases.apiBack());
    chart.addAnnotation(new AnnotationLine(outage, true, false));
    chart.addAnnotation(new AnnotationLine(refused, true, false));
    chart.addAnnotation(new AnnotationLine(back, true, false));
    double labelY = top * 1.02;
    chart.addAnnotation(
        new AnnotationText("API answers 503", (outage + refused) / 2, labelY, false));
    chart.addAnnotation(
        new AnnotationText("API refuses connections", (refused + back) / 2, labelY, false));
    chart.addAnnotation(new AnnotationText("API back", back + 8, labelY, false));
    chart.getStyler().setYAxisMax(top * 1.08);

    Files.createDirectories(png.toAbsolutePath().getParent());
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private static void series(
      XYChart chart,
      String name,
      List<SecondCounts> counts,
      long origin,
      ToLongFunction<SecondCounts> value,
      Color color,
      BasicStroke line,
      float width) {
    double[] x = new double[counts.size()];
    double[] y = new double[counts.size()];
    for (int i = 0; i < counts.size(); i++) {
      x[i] = counts.get(i).epochSecond() - origin;
      y[i] = value.applyAsLong(counts.get(i));
    }
    XYSeries series = chart.addSeries(name, x, y);
    series.setMarker(SeriesMarkers.NONE);
    series.setLineColor(color);
    series.setLineStyle(
        new BasicStroke(
            width,
            line.getEndCap(),
            line.getLineJoin(),
            line.getMiterLimit(),
            line.getDashArray(),
            line.getDashPhase()));
  }
}
