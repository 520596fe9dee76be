package io.sigma.agent;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import io.sigma.agent.api.GraphViolationFixture;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The allowed package graph of the agent (docs/architecture.md), as an explicit whitelist: for each
 * package under io.sigma.agent, the other agent packages its main classes may use. A dependency
 * outside the list fails the package's test with the edge and the classes that make it, e.g. {@code
 * metrics -> xds: io.sigma.agent.xds.XdsMetrics -> io.sigma.agent.xds.PollResult}. Only main code
 * is checked (tests and benchmarks may reach everywhere). A new package fails {@link
 * #everyPackageHasAWhitelist} until it gets its line here and its paragraph in the doc.
 *
 * <p>Layers: infrastructure (api, retry, host, net, web, logging) knows no feature; config parses
 * settings; metrics and health are shared by the features; the features (fleet, ports, xds,
 * staticsync) never know each other; only the root package io.sigma.agent (the guardian, Main)
 * wires everything, and nothing depends on it.
 */
class PackageGraphTest {
  private static final String ROOT = "io.sigma.agent";
  private static final String ROOT_NAME = "(root)";

  private static final Set<String> INFRASTRUCTURE =
      Set.of("api", "retry", "host", "net", "web", "logging");

  /** Which agent packages each package may depend on (besides itself and the JDK/libraries). */
  private static final Map<String, Set<String>> ALLOWED = new LinkedHashMap<>();

  static {
    // infrastructure: no feature, and only these edges between themselves
    ALLOWED.put("api", Set.of());
    ALLOWED.put("retry", Set.of());
    ALLOWED.put("host", Set.of("api"));
    ALLOWED.put("net", Set.of());
    ALLOWED.put("web", Set.of());
    ALLOWED.put("logging", Set.of("config")); // the LogLevel / LogFormat settings it applies
    // settings and their value types (PortRange, AllocationToken, ...): no feature
    ALLOWED.put("config", INFRASTRUCTURE);
    // shared by the features
    ALLOWED.put("metrics", INFRASTRUCTURE);
    ALLOWED.put("health", union(INFRASTRUCTURE, "config", "metrics"));
    ALLOWED.put("reload", union(INFRASTRUCTURE, "config"));
    // the shape every feature guardian has (routes, metrics binder, live settings, supervision)
    ALLOWED.put("feature", union(INFRASTRUCTURE, "config", "metrics", "reload"));
    // features: never each other
    Set<String> feature = union(INFRASTRUCTURE, "config", "metrics", "health", "reload", "feature");
    ALLOWED.put("fleet", feature);
    ALLOWED.put("ports", feature);
    ALLOWED.put("xds", feature);
    ALLOWED.put("staticsync", feature);
    // the embedded fake sigma-api of --dev
    ALLOWED.put("devapi", INFRASTRUCTURE);
  }

  private static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
          .importPackages(ROOT);

  @Test
  void api() {
    check("api");
  }

  @Test
  void retry() {
    check("retry");
  }

  @Test
  void host() {
    check("host");
  }

  @Test
  void net() {
    check("net");
  }

  @Test
  void web() {
    check("web");
  }

  @Test
  void logging() {
    check("logging");
  }

  @Test
  void config() {
    check("config");
  }

  @Test
  void metrics() {
    check("metrics");
  }

  @Test
  void health() {
    check("health");
  }

  @Test
  void reload() {
    check("reload");
  }

  @Test
  void fleet() {
    check("fleet");
  }

  @Test
  void ports() {
    check("ports");
  }

  @Test
  void xds() {
    check("xds");
  }

  @Test
  void staticsync() {
    check("staticsync");
  }

  @Test
  void devapi() {
    check("devapi");
  }

  @Test
  void everyPackageHasAWhitelist() {
    Set<String> unknown =
        MAIN.stream()
            .map(PackageGraphTest::packageOf)
            .filter(p -> !p.equals(ROOT_NAME) && !ALLOWED.containsKey(p))
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(
        Set.of(),
        unknown,
        "packages without a line in PackageGraphTest.ALLOWED (and docs/architecture.md)");
  }

  @Test
  void noCyclesBetweenPackages() {
    slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(MAIN);
  }

  @Test
  void importsTheMainClassesOnly() {
    assertTrue(MAIN.contain(Main.class), "main classes imported");
    assertFalse(MAIN.contain(PackageGraphTest.class), "test classes are not");
  }

  /** The check can fail: a class of api using ports is reported with its edge and classes. */
  @Test
  void anEdgeOutsideTheWhitelistFailsNamingIt() {
    JavaClasses bad = new ClassFileImporter().importClasses(GraphViolationFixture.class);
    EvaluationResult result = rule("api").evaluate(bad);
    assertTrue(result.hasViolation(), "api -> ports must be refused");
    String report = String.join("\n", result.getFailureReport().getDetails());
    assertTrue(
        report.contains(
            "api -> ports: io.sigma.agent.api.GraphViolationFixture"
                + " -> io.sigma.agent.ports.LatestPortScan"),
        report);
  }

  private static void check(String pkg) {
    rule(pkg).check(MAIN);
  }

  private static ArchRule rule(String pkg) {
    Set<String> allowed = ALLOWED.get(pkg);
    return ArchRuleDefinition.classes()
        .that()
        .resideInAPackage(ROOT + "." + pkg + "..")
        .should(dependOnlyOn(pkg, allowed))
        // staticsync arrives with i11-static; an empty package passes
        .allowEmptyShould(true);
  }

  private static ArchCondition<JavaClass> dependOnlyOn(String pkg, Set<String> allowed) {
    String description =
        "depend on no agent package but " + (allowed.isEmpty() ? "none" : new TreeSet<>(allowed));
    return new ArchCondition<>(description) {
      @Override
      public void check(JavaClass item, ConditionEvents events) {
        for (Dependency d : item.getDirectDependenciesFromSelf()) {
          JavaClass target = d.getTargetClass().getBaseComponentType();
          if (!target.getPackageName().startsWith(ROOT)) {
            continue;
          }
          String to = packageOf(target);
          boolean ok = to.equals(pkg) || allowed.contains(to);
          if (!ok) {
            events.add(
                SimpleConditionEvent.violated(
                    d,
                    pkg
                        + " -> "
                        + to
                        + ": "
                        + item.getName()
                        + " -> "
                        + target.getName()
                        + " ("
                        + d.getDescription()
                        + ")"));
          }
        }
      }
    };
  }

  /** The agent package a class belongs to: the first name under io.sigma.agent, or (root). */
  private static String packageOf(JavaClass c) {
    String name = c.getBaseComponentType().getPackageName();
    if (name.equals(ROOT)) {
      return ROOT_NAME;
    }
    String rest = name.substring(ROOT.length() + 1);
    int dot = rest.indexOf('.');
    return dot < 0 ? rest : rest.substring(0, dot);
  }

  private static Set<String> union(Set<String> base, String... more) {
    return Stream.concat(base.stream(), Stream.of(more)).collect(Collectors.toUnmodifiableSet());
  }
}
