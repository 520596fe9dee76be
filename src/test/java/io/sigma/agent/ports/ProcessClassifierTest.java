package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProcessClassifierTest {

  @ParameterizedTest
  @CsvSource({
    "envoy, ENVOY",
    "Envoy, ENVOY",
    "ENVOY, ENVOY",
    "envoy.bin, ENVOY",
    "sshd, SSHD",
    "sshd-session, SSHD",
    "nginx, NGINX",
    "NGINX, NGINX",
    "'nginx: worker', NGINX",
    "node_exporter, NODE_EXPORTER",
    "node-exporter, NODE_EXPORTER",
    "prometheus-node, NODE_EXPORTER",
    "xray, XRAY",
    "Xray, XRAY",
    "' xray ', XRAY",
    "java, OTHER",
    "nginxfoo, OTHER",
    "xrayer, OTHER",
    "openssh, OTHER",
    "my-envoy, OTHER",
    "systemd-resolve, OTHER",
  })
  void classifiesCaseInsensitively(String name, ListenerSource expected) {
    assertEquals(expected, ProcessClassifier.classify(name));
  }

  @Test
  void missingNamesAreUnknown() {
    assertEquals(ListenerSource.UNKNOWN, ProcessClassifier.classify(null));
    assertEquals(ListenerSource.UNKNOWN, ProcessClassifier.classify(""));
    assertEquals(ListenerSource.UNKNOWN, ProcessClassifier.classify("  "));
  }

  @Test
  void labelsAreLowerCaseNames() {
    assertEquals("node_exporter", ListenerSource.NODE_EXPORTER.label());
    assertEquals("unknown", ListenerSource.UNKNOWN.label());
    assertEquals("envoy", ListenerSource.ENVOY.label());
  }
}
