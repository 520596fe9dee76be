# syntax=docker/dockerfile:1
# sigma-agent: build with Maven, run on a slim JRE.
#   docker build -t sigma-agent .
#   docker run -d --name sigma-agent --network host --pid host --restart unless-stopped \
#     -v /etc/hostname:/etc/host_hostname:ro -v sigma-agent-state:/var/lib/sigma-agent \
#     -e SIGMA_API_URL=https://sigma.example.com/api -e SIGMA_API_KEY=... sigma-agent --port-scan
# --network host: the agent reports the host's addresses and scans the host's ports;
# --pid host: attributing ports to processes needs the host's /proc/<pid>.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY src ./src
# The same build as the README's.
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre
# iproute2: `ss` for port attribution; util-linux: `nsenter` fallback; curl: HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 util-linux curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/sigma-agent
COPY --from=build /src/target/sigma-agent.jar /opt/sigma-agent/sigma-agent.jar
COPY bin/sigma-agent /opt/sigma-agent/sigma-agent
# Class-data sharing archive from a short training run: start-up drops by about a second.
RUN /opt/sigma-agent/sigma-agent --train-cds

# Every setting is an environment variable (see `sigma-agent --help`); the common ones:
#   SIGMA_API_URL            sigma-api base URL (default http://localhost:3000/api)
#   SIGMA_API_KEY            API key (X-Api-Key)
#   AGENT_INTERVAL           heartbeat interval in seconds (60)
#   AGENT_HOSTNAME           hostname to register (default: /etc/host_hostname mounted from the host)
#   AGENT_ALIAS              alias to register
#   AGENT_METRICS_PORT       /metrics and /ports/allocate (9102; 0 disables)
#   AGENT_PORT_SCAN          true to scan AGENT_PORT_SCAN_RANGE (10000-30000)
#   AGENT_XDS_ENABLED        true to run the Envoy xDS control plane on AGENT_XDS_PORT (18000)
#   AGENT_MANAGEMENT_PORT    health endpoints /alive and /ready (8558, bound to 127.0.0.1)
ENV AGENT_STATE_DIR=/var/lib/sigma-agent \
    AGENT_HOST_HOSTNAME_FILE=/etc/host_hostname
VOLUME ["/var/lib/sigma-agent"]
STOPSIGNAL SIGTERM
# /alive (pekko-management, bound to 127.0.0.1 by default): 200 while the actor system runs and
# the heartbeat loop turns, 503 otherwise. No check when the endpoints are off (port 0).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD [ "${AGENT_MANAGEMENT_PORT:-8558}" = 0 ] \
   || curl -fsS "http://127.0.0.1:${AGENT_MANAGEMENT_PORT:-8558}/alive" >/dev/null || exit 1
ENTRYPOINT ["/opt/sigma-agent/sigma-agent"]
