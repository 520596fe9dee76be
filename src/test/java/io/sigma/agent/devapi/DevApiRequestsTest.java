package io.sigma.agent.devapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.Json;
import io.sigma.agent.api.StaticRoute;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DevApiRequestsTest {
  private static final String NODE = "0b7e7bde-3a3c-4a4f-9d7e-0c9f3e8f1a21";
  private final DevApiRequests requests = new DevApiRequests(Json.newMapper());

  private static String q(String singleQuoted) {
    return singleQuoted.replace('\'', '"');
  }

  private static int statusOf(Runnable r) {
    return assertThrows(ApiRejection.class, r::run).status();
  }

  @Test
  void parsesAFullRegistrationKeepingSystemInfoVerbatim() {
    var in =
        requests.register(
            requests.parse(
                q(
                    "{'hostname':'relay-hk-01','alias':'hk01.example.com',"
                        + "'ip_addresses':[{'ip':'10.0.0.5','label':'internal'},{'ip':'2001:db8::7'}],"
                        + "'ssh_port':2222,'system_info':{'cpu_cores':2,'load_avg':[0.1,0.2,0.3],'future':{'x':1}}}")));
    assertEquals("relay-hk-01", in.hostname());
    assertEquals("hk01.example.com", in.alias());
    assertEquals(
        List.of(new IpAddress("10.0.0.5", "internal"), new IpAddress("2001:db8::7", "")),
        in.ipAddresses());
    assertEquals(2222, in.sshPort());
    assertEquals(1, in.systemInfo().get("future").get("x").intValue());
  }

  @Test
  void registrationDefaults() {
    var in = requests.register(requests.parse(q("{'hostname':'h'}")));
    assertNull(in.alias());
    assertEquals(List.of(), in.ipAddresses());
    assertEquals(22, in.sshPort());
    assertNull(in.systemInfo());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{}",
        "{'hostname':''}",
        "{'hostname':'   '}",
        "{'hostname':null}",
        "{'hostname':5}",
        "{'hostname':'h','ip_addresses':[{'ip':'999.1.1.1'}]}",
        "{'hostname':'h','ip_addresses':[{'ip':'example.com'}]}",
        "{'hostname':'h','ip_addresses':[{'label':'x'}]}",
        "{'hostname':'h','ip_addresses':['10.0.0.1']}",
        "{'hostname':'h','ip_addresses':{'ip':'10.0.0.1'}}",
        "{'hostname':'h','ssh_port':'22'}",
        "{'hostname':'h','ssh_port':0}",
        "{'hostname':'h','ssh_port':70000}",
        "{'hostname':'h','ssh_port':22.5}",
        "{'hostname':'h','alias':7}",
        "{'hostname':'h','system_info':'big'}",
        "{'hostname':'h','system_info':[1]}"
      })
  void rejectsBadRegistrations(String body) {
    assertEquals(400, statusOf(() -> requests.register(requests.parse(q(body)))), body);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "not json",
        "{\"hostname\":",
        "[]",
        "\"text\"",
        "42",
        "null",
        "{\"hostname\":\"h\"} trailing"
      })
  void rejectsBodiesThatAreNotAJsonObject(String body) {
    assertEquals(400, statusOf(() -> requests.parse(body)), body);
  }

  @Test
  void heartbeatKeepsAbsentSystemInfoAsNull() {
    var in = requests.heartbeat(requests.parse(q("{'hostname':'h','ip_addresses':[]}")));
    assertEquals("h", in.hostname());
    assertEquals(List.of(), in.ipAddresses());
    assertNull(in.systemInfo());
    assertEquals(400, statusOf(() -> requests.heartbeat(requests.parse(q("{'ip_addresses':[]}")))));
    assertEquals(
        400,
        statusOf(
            () ->
                requests.heartbeat(
                    requests.parse(q("{'hostname':'h','ip_addresses':[{'ip':'1.2.3'}]}")))));
  }

  @Test
  void createNodeDefaultsAndChecks() {
    var in =
        requests.createNode(
            requests.parse(
                q(
                    "{'vps_id':'"
                        + NODE
                        + "','node_id':'n1',"
                        + "'description':null,'admin_port':null}")));
    assertEquals("", in.description());
    assertNull(in.adminPort());
    assertEquals("active", in.status());
    for (String bad :
        List.of(
            "{'node_id':'n1'}",
            "{'vps_id':'nope','node_id':'n1'}",
            "{'vps_id':'" + NODE + "'}",
            "{'vps_id':'" + NODE + "','node_id':'n','admin_port':'x'}",
            "{'vps_id':'" + NODE + "','node_id':'n','admin_port':-1}")) {
      assertEquals(400, statusOf(() -> requests.createNode(requests.parse(q(bad)))), bad);
    }
  }

  @Test
  void syncStaticDefaultsAndChecks() {
    var in =
        requests.syncStatic(
            requests.parse(
                q(
                    "{'envoy_node_id':'"
                        + NODE
                        + "','routes':["
                        + "{'name':'a','listen_port':10001,'backend_host':'h','backend_port':80},"
                        + "{'name':'b','listen_port':10002,'backend_host':null,'backend_port':null,"
                        + "'cluster_type':'static','connect_timeout_secs':2,'proxy_protocol':2}]}")));
    assertEquals(
        List.of(
            new StaticRoute("a", 10001, "h", 80, "logical_dns", 5, 0),
            new StaticRoute("b", 10002, null, null, "static", 2, 2)),
        in.routes());
    String prefix = "{'envoy_node_id':'" + NODE + "','routes':";
    for (String bad :
        List.of(
            "{'routes':[]}",
            prefix + "null}",
            prefix + "{}}",
            prefix + "[{'listen_port':1}]}",
            prefix + "[{'name':'a'}]}",
            prefix + "[{'name':'a','listen_port':70000}]}",
            prefix + "[{'name':'a','listen_port':1,'proxy_protocol':3}]}",
            prefix + "[{'name':'a','listen_port':1},{'name':'b','listen_port':1}]}",
            prefix + "[{'name':'a','listen_port':1,'connect_timeout_secs':-1}]}",
            prefix + "[5]}")) {
      assertEquals(400, statusOf(() -> requests.syncStatic(requests.parse(q(bad)))), bad);
    }
  }

  @Test
  void queryParameters() {
    assertNull(DevApiRequests.intParam("page", null));
    assertNull(DevApiRequests.intParam("page", ""));
    assertEquals(3, DevApiRequests.intParam("page", "3"));
    assertEquals(-1, DevApiRequests.intParam("page", "-1"));
    assertEquals(400, statusOf(() -> DevApiRequests.intParam("page", "two")));
    assertEquals(400, statusOf(() -> DevApiRequests.intParam("per_page", "99999999999")));
    assertNull(DevApiRequests.uuidParam("vps_id", null));
    assertEquals(NODE, DevApiRequests.uuidParam("vps_id", NODE.toUpperCase()));
    assertEquals(400, statusOf(() -> DevApiRequests.uuidParam("vps_id", "1-1-1-1-1")));
    assertTrue(DevApiRequests.isUuid(NODE));
  }
}
