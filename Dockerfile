# mesh-egress container image: `docker build -t mesh-egress:0.1.0 .`
# The in-cluster manifests (`mesh-egress istio`) run it with the config mounted at /etc/mesh-egress.

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
RUN ./mvnw -q -B dependency:go-offline
COPY src src
RUN ./mvnw -q -B -DskipTests package

FROM eclipse-temurin:17-jre
# A fixed non-root user; the Deployment runs with runAsUser 10001 and a read-only root filesystem.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mesh-egress
COPY --from=build /src/target/mesh-egress.jar /opt/mesh-egress/mesh-egress.jar
COPY bin/mesh-egress /opt/mesh-egress/mesh-egress
# Record the class-data-sharing archive with this image's JVM (bin/mesh-egress maps it at every start): a run on
# the embedded defaults, ended by SIGTERM once it listens.
RUN /opt/mesh-egress/mesh-egress run 2>/tmp/training.log & pid=$!; \
    until grep -q "listening: admin" /tmp/training.log; do sleep 0.2; done; \
    kill -TERM $pid && wait $pid && test -s /opt/mesh-egress/mesh-egress.jsa && rm /tmp/training.log
USER 10001
EXPOSE 8080 8443 9901
# Heap sized from the container's memory limit; exit (and be restarted) rather than limp on after an OOM.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData"
ENTRYPOINT ["/opt/mesh-egress/mesh-egress"]
CMD ["run", "-c", "/etc/mesh-egress/egress.yaml", "--admin-listen", "0.0.0.0:9901"]
