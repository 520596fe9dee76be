# syntax=docker/dockerfile:1
# sigma-agent: build with Maven, run on a slim JRE as an unprivileged user (UID 10001).
#   docker build -t sigma-agent .
#   docker run -d --name sigma-agent --network host --pid host --restart unless-stopped \
#     --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
#     -v /etc/hostname:/etc/host_hostname:ro -v sigma-agent-state:/var/lib/sigma-agent \
#     -e SIGMA_API_URL=https://sigma.example.com/api -e SIGMA_API_KEY=... sigma-agent --port-scan
# --network host: the agent reports the host's addresses and scans the host's ports.
# --pid host: attributing ports to processes needs the host's /proc/<pid>.
# --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH: to name the processes behind the host's ports
#   (see "Capabilities" below); without them everything else works and those ports count as
#   source "unknown".

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when pom.xml changes, so a code
# change does not download anything. The README's build command on the pom alone resolves
# exactly what the real build below needs (every plugin, the Envoy protos, the gRPC code
# generator, every dependency), which dependency:go-offline does not guarantee.
COPY pom.xml .
RUN mvn -B -q -DskipTests package && rm -rf target
COPY src ./src
# The same build as the README's.
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre
# iproute2: `ss` for port attribution; curl: HEALTHCHECK; libcap2-bin: setcap, below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 curl libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
# Capabilities. Naming the process behind a port means reading /proc/<pid>/fd of processes of
# other users (root's sshd, envoy, ...), which takes two capabilities:
#   CAP_DAC_READ_SEARCH  list /proc/<pid>/fd (a 0500 directory owned by the process's user)
#   CAP_SYS_PTRACE       read the socket links in it (the kernel checks ptrace read access)
# Docker gives --cap-add capabilities to root only, not to a non-root user, so they are file
# capabilities of `ss` alone: ss gains them when it starts (if the container may have them:
# --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH), the JVM never holds any. Without the
# --cap-add flags the kernel refuses to start ss (one warning in the log; ports count as
# "unknown"). `--security-opt no-new-privileges` disables file capabilities: ss then runs but
# names nothing. The `nsenter` fallback needs root and stays unused here.
RUN setcap cap_dac_read_search,cap_sys_ptrace+ep "$(command -v ss)" \
 && getcap "$(command -v ss)" | grep -q cap_sys_ptrace
# A fixed numeric UID (Kubernetes' runAsNonRoot can check it) with a name for ps and logs.
RUN groupadd --system --gid 10001 sigma-agent \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin sigma-agent \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/sigma-agent
WORKDIR /opt/sigma-agent
COPY --from=build /src/target/sigma-agent.jar /opt/sigma-agent/sigma-agent.jar
COPY --chmod=0755 bin/sigma-agent /opt/sigma-agent/sigma-agent
COPY --chmod=0755 packaging/docker-entrypoint packaging/docker-healthcheck /opt/sigma-agent/
# Class-data sharing archive from a short training run: start-up drops by about a second.
# Built as root here; the agent only reads it.
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
# A named volume takes this directory's owner (10001); a bind-mounted host directory must be
# writable by UID 10001 (chown 10001 DIR).
VOLUME ["/var/lib/sigma-agent"]
USER 10001:10001
STOPSIGNAL SIGTERM
# /alive (bound to 127.0.0.1 by default): 200 while the actor system runs and the heartbeat loop
# turns, 503 otherwise. docker-healthcheck finds the port and address the agent really uses:
# its --management-port/--management-bind flags, else AGENT_MANAGEMENT_PORT/_BIND, else 8558;
# no check when the endpoints are off (port 0).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/opt/sigma-agent/docker-healthcheck"]
ENTRYPOINT ["/opt/sigma-agent/docker-entrypoint"]
