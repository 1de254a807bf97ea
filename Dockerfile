# syntax=docker/dockerfile:1
# mesh-egress container image. Build and push to your own registry (docs/operations.md, Container image):
#   docker build --build-arg COMMIT=$(git rev-parse HEAD) -t registry.example.com/mesh-egress:0.1.0 .
#   docker push registry.example.com/mesh-egress:0.1.0
# Run it as the in-cluster manifests do: non-root, read-only root filesystem, the config mounted read-only:
#   docker run --read-only --tmpfs /tmp -v "$PWD/egress.yaml:/etc/mesh-egress/egress.yaml:ro" \
#     -p 8080:8080 -p 8443:8443 registry.example.com/mesh-egress:0.1.0
# The build stage copies exactly what the build reads (LICENSE and NOTICE go into the jar); e2e.DockerfileIT
# builds from those files alone and compares the jar with the one ./mvnw package makes.

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml LICENSE NOTICE ./
COPY src src
# The alert rules, built into the jar (`istio` emits them as a PrometheusRule).
COPY deploy/prometheus/rules.yaml deploy/prometheus/rules.yaml
# The git commit that --version names (the build sees no .git).
ARG COMMIT=unknown
# No Debian package here (-P '!deb'); Maven's downloads stay in BuildKit's cache between builds.
RUN --mount=type=cache,target=/root/.m2 ./mvnw -q -B -DskipTests -P '!deb' -Dbuild.commit=${COMMIT} package

FROM eclipse-temurin:17-jre
# A fixed non-root user; the Deployment runs with runAsUser 10001 and a read-only root filesystem.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mesh-egress
COPY --from=build /src/target/mesh-egress.jar /opt/mesh-egress/mesh-egress.jar
COPY bin/mesh-egress /opt/mesh-egress/mesh-egress
# Record the class-data-sharing archive with this image's JVM (bin/mesh-egress maps it at every start: root's
# file in root's directory, which no other account can change): a run on the embedded defaults, ended by
# SIGTERM once it listens.
RUN /opt/mesh-egress/mesh-egress run 2>/tmp/training.log & pid=$!; \
    until grep -q "listening: admin" /tmp/training.log; do sleep 0.2; done; \
    kill -TERM $pid && wait $pid && test -s /opt/mesh-egress/mesh-egress.jsa && rm /tmp/training.log
USER 10001
EXPOSE 8080 8443 9901
# Heap sized from the container's memory limit; exit (and be restarted) rather than limp on after an OOM. Netty
# unpacks its native transport into java.io.tmpdir: with a read-only root, mount a tmpfs on /tmp.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData"
ENTRYPOINT ["/opt/mesh-egress/mesh-egress"]
CMD ["run", "-c", "/etc/mesh-egress/egress.yaml", "--admin-listen", "0.0.0.0:9901"]
