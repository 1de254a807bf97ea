package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.testing.Configs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The manifests `istio` writes, checked against the schemas and followed route by route to a listener. */
class MeshManifestsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<ObjectNode> generate(String text) throws Exception {
        String yaml = Configs.withDefaultListeners(text);
        EgressConfig c = ConfigLoader.parse("t.yaml", yaml);
        List<ObjectNode> objects = ManifestGenerator.generate(c, yaml);
        assertThat(ManifestValidator.load().validate(objects)).isEmpty();
        return objects;
    }

    static JsonNode find(List<ObjectNode> objects, String kind, String name) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)
                && o.path("metadata").path("name").asText().equals(name)).findFirst().orElseThrow(
                        () -> new AssertionError("no " + kind + " " + name));
    }

    static final String WRITEUP = Configs.WRITEUP;

    @Test
    void theWriteUpsCaseRoutesAsItIntends() throws Exception {
        List<ObjectNode> objects = generate(WRITEUP);
        assertThat(objects).extracting(o -> o.path("kind").asText()).containsExactly(
                "Service", "EndpointSlice", "ServiceEntry", "VirtualService");
        JsonNode service = find(objects, "Service", "mesh-egress");
        assertThat(service.path("spec").has("selector")).isFalse();
        assertThat(service.path("spec").has("ipFamilyPolicy")).as("one family: the cluster's default").isFalse();
        assertThat(service.path("metadata").path("annotations").path("networking.istio.io/exportTo").asText())
                .isEqualTo("*");
        assertThat(service.path("spec").path("ports").toString()).isEqualTo(
                "[{\"name\":\"http-80\",\"port\":80,\"targetPort\":8080,\"protocol\":\"TCP\"},"
                        + "{\"name\":\"tls-443\",\"port\":443,\"targetPort\":8443,\"protocol\":\"TCP\"}]");
        JsonNode slice = find(objects, "EndpointSlice", "mesh-egress-ipv4");
        assertThat(slice.path("metadata").path("labels").path("kubernetes.io/service-name").asText()).isEqualTo("mesh-egress");
        JsonNode se = find(objects, "ServiceEntry", "wildcard-qq-com").path("spec");
        assertThat(se.path("hosts").toString()).isEqualTo("[\"*.qq.com\"]");
        assertThat(se.path("resolution").asText()).isEqualTo("NONE");
        assertThat(se.path("location").asText()).isEqualTo("MESH_EXTERNAL");
        // The write-up's ServiceEntry forgot port 80; here both ports are declared.
        assertThat(se.path("ports").toString()).isEqualTo("[{\"number\":80,\"name\":\"http-80\",\"protocol\":\"HTTP\"},"
                + "{\"number\":443,\"name\":\"tls-443\",\"protocol\":\"TLS\"}]");
        JsonNode vs = find(objects, "VirtualService", "wildcard-qq-com").path("spec");
        assertThat(vs.path("http").get(0).path("match").toString()).isEqualTo("[{\"port\":80}]");
        assertThat(vs.path("http").get(0).path("route").get(0).path("destination").toString())
                .isEqualTo("{\"host\":\"mesh-egress.default.svc.cluster.local\",\"port\":{\"number\":80}}");
        assertThat(vs.path("tls").get(0).path("match").toString())
                .isEqualTo("[{\"port\":443,\"sniHosts\":[\"*.qq.com\"]}]");
        assertThat(se.path("exportTo").toString()).isEqualTo("[\"*\"]");
        assertThat(vs.path("exportTo").toString()).isEqualTo("[\"*\"]");
    }

    @Test
    void legacyEndpointsAddTheV1ObjectBesideTheSlices() throws Exception {
        List<ObjectNode> objects = generate(WRITEUP.replace("mesh:\n", "mesh:\n  legacyEndpoints: true\n"));
        JsonNode endpoints = find(objects, "Endpoints", "mesh-egress");
        assertThat(endpoints.path("subsets").toString()).isEqualTo("[{\"addresses\":[{\"ip\":\"10.0.0.1\"}],"
                + "\"ports\":[{\"name\":\"http-80\",\"port\":8080,\"protocol\":\"TCP\"},"
                + "{\"name\":\"tls-443\",\"port\":8443,\"protocol\":\"TCP\"}]}]");
        assertThat(endpoints.path("metadata").path("labels").path("endpointslice.kubernetes.io/skip-mirror").asText())
                .isEqualTo("true");
        assertThat(objects).anyMatch(o -> o.path("kind").asText().equals("EndpointSlice"));
    }

    @Test
    void addressesOfBothFamiliesMakeADualStackServiceWithASlicePerFamily() throws Exception {
        List<ObjectNode> objects = generate(WRITEUP.replace("\"10.0.0.1\"", "\"10.0.0.1\", \"fd00::1\""));
        JsonNode spec = find(objects, "Service", "mesh-egress").path("spec");
        assertThat(spec.path("ipFamilyPolicy").asText()).isEqualTo("PreferDualStack");
        assertThat(spec.path("ipFamilies").toString()).isEqualTo("[\"IPv4\",\"IPv6\"]");
        assertThat(find(objects, "EndpointSlice", "mesh-egress-ipv4").path("addressType").asText()).isEqualTo("IPv4");
        assertThat(find(objects, "EndpointSlice", "mesh-egress-ipv6").path("addressType").asText()).isEqualTo("IPv6");
        JsonNode v6only = find(generate(WRITEUP.replace("\"10.0.0.1\"", "\"fd00::1\"")), "Service", "mesh-egress");
        assertThat(v6only.path("spec").path("ipFamilies").toString()).isEqualTo("[\"IPv6\"]");
    }

    @Test
    void theWriteUpsCaseMatchesItsGoldenFile() throws Exception {
        String yaml = io.meshegress.cli.CliAccess.toYaml(generate(WRITEUP));
        String golden = new String(getClass().getResourceAsStream("/mesh/writeup.golden.yaml").readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(yaml).isEqualTo(golden);
    }

    static Stream<Path> examples() throws Exception {
        return Files.list(Path.of("examples")).filter(p -> p.toString().endsWith(".yaml")).sorted();
    }

    /**
     * Follows every (host, port) from the VirtualService through the proxy Service's port and targetPort to the
     * listener behind it: a TLS route must end at an sni listener whose upstream port is the port the
     * application asked for, an HTTP route at the http listener.
     */
    @ParameterizedTest
    @MethodSource("examples")
    void everyRouteOfEveryExampleEndsAtAListenerThatKeepsThePort(Path example) throws Exception {
        String text = Files.readString(example);
        EgressConfig c = ConfigLoader.parse(example.toString(), text);
        List<ObjectNode> objects = ManifestGenerator.generate(c, text);
        assertThat(ManifestValidator.load().validate(objects)).as(example.toString()).isEmpty();
        JsonNode servicePorts = find(objects, "Service", "mesh-egress").path("spec").path("ports");
        int routes = 0;
        for (EgressConfig.Destination d : c.mesh().destinations()) {
            JsonNode vs = find(objects, "VirtualService", ManifestNames.forDestination(d.hosts())).path("spec");
            for (int q : d.tls()) {
                JsonNode route = routeFor(vs.path("tls"), q);
                assertThat(route.path("match").get(0).path("sniHosts")).hasSize(d.hosts().size());
                int target = targetPort(servicePorts, route.path("route").get(0).path("destination").path("port").path("number").asInt());
                EgressConfig.SniListener listener = c.sni().stream().filter(s -> s.listen().port() == target)
                        .findFirst().orElseThrow(() -> new AssertionError("no sni listener on " + target));
                if (listener.upstreamPortFromHeader()) {
                    // The sidecar's PROXY header carries the port the application asked for: q leaves as q.
                    assertThat(objects).as(example + " tls " + q).anyMatch(o -> o.path("kind").asText()
                            .equals("DestinationRule") && o.path("spec").path("trafficPolicy").has("proxyProtocol"));
                    assertThat(listener.proxyProtocol().required()).isTrue();
                } else {
                    assertThat(listener.upstreamPort()).as(example + " tls " + q).isEqualTo(q);
                }
                routes++;
            }
            for (int p : d.http()) {
                JsonNode route = routeFor(vs.path("http"), p);
                int target = targetPort(servicePorts, route.path("route").get(0).path("destination").path("port").path("number").asInt());
                assertThat(target).isEqualTo(c.http().listen().port());
                routes++;
            }
        }
        assertThat(routes).isPositive();
    }

    @Test
    void nonStandardTlsPortsGoToTheSniListenerOfThatPort() throws Exception {
        List<ObjectNode> objects = generate("""
                sni:
                  - listen: "0.0.0.0:8443"
                    upstreamPort: 443
                  - listen: "0.0.0.0:9443"
                mesh:
                  proxy: {addresses: ["10.0.0.1", "10.0.0.2", "fd00::1"]}
                  destinations:
                    - hosts: ["*.qq.com"]
                      tls: [443, 9443]
                    - hosts: ["api.github.com"]
                      http: [80]
                      tls: [443]
                """);
        JsonNode ports = find(objects, "Service", "mesh-egress").path("spec").path("ports");
        assertThat(targetPort(ports, 443)).isEqualTo(8443);
        assertThat(targetPort(ports, 9443)).isEqualTo(9443);
        assertThat(targetPort(ports, 80)).isEqualTo(8080);
        assertThat(find(objects, "EndpointSlice", "mesh-egress-ipv4").path("endpoints")).hasSize(2);
        assertThat(find(objects, "EndpointSlice", "mesh-egress-ipv6").path("endpoints")).hasSize(1);
        assertThat(find(objects, "ServiceEntry", "api-github-com").path("spec").path("ports")).hasSize(2);
    }

    @Test
    void inClusterDeploymentProbesReachTheAdminListenerItsConfigOpens() throws Exception {
        String yaml = Files.readString(Path.of("examples/in-cluster.yaml"));
        List<ObjectNode> objects = generate(yaml);
        assertThat(objects).extracting(o -> o.path("kind").asText()).startsWith(
                "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler");
        JsonNode deployment = find(objects, "Deployment", "mesh-egress");
        JsonNode pod = deployment.path("spec").path("template");
        assertThat(pod.path("metadata").path("annotations").path("sidecar.istio.io/inject").asText()).isEqualTo("false");
        JsonNode container = pod.path("spec").path("containers").get(0);
        assertThat(container.path("image").asText()).isEqualTo("registry.example.com/mesh-egress:0.1.0");
        assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(pod.path("spec").path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        // The config the pod runs: the ConfigMap's file, mounted where the args point, plus --admin-listen.
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));
        String configPath = args.get(args.indexOf("-c") + 1);
        JsonNode mount = container.path("volumeMounts").get(0);
        assertThat(configPath).isEqualTo(mount.path("mountPath").asText() + "/egress.yaml");
        assertThat(mount.has("subPath")).as("a subPath mount never sees ConfigMap updates").isFalse();
        String podConfig = find(objects, "ConfigMap", "mesh-egress").path("data").path("egress.yaml").asText();
        assertThat(podConfig).isEqualTo(yaml);
        EgressConfig running = ConfigLoader.parse(configPath, podConfig)
                .withAdmin(new EgressConfig.Admin(ListenAddress.parse(args.get(args.indexOf("--admin-listen") + 1))));
        // Each probe's named port is the admin container port, which is the port the admin listener binds,
        // on every interface (kubelet probes the pod IP).
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
            String portName = container.path(probe).path("httpGet").path("port").asText();
            int port = -1;
            for (JsonNode p : container.path("ports")) {
                if (p.path("name").asText().equals(portName)) {
                    port = p.path("containerPort").asInt();
                }
            }
            assertThat(port).isEqualTo(running.admin().listen().port());
            assertThat(running.admin().listen().isWildcard()).isTrue();
        }
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/readyz");
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/healthz");
        JsonNode hpa = find(objects, "HorizontalPodAutoscaler", "mesh-egress").path("spec");
        assertThat(hpa.path("minReplicas").asInt()).isEqualTo(2);
        assertThat(hpa.path("maxReplicas").asInt()).isEqualTo(6);
        JsonNode se = find(objects, "ServiceEntry", "wildcard-qq-com").path("spec");
        assertThat(se.path("exportTo").toString()).isEqualTo("[\"*\"]");
        assertThat(find(objects, "Service", "mesh-egress").path("metadata").path("namespace").asText()).isEqualTo("egress");
    }

    @Test
    void namesAreStableValidAndDistinct() {
        assertThat(ManifestNames.forDestination(List.of(io.meshegress.policy.HostPattern.parse("*.qq.com"))))
                .isEqualTo("wildcard-qq-com");
        String two = ManifestNames.forDestination(List.of(io.meshegress.policy.HostPattern.parse("api.github.com"),
                io.meshegress.policy.HostPattern.parse("uploads.github.com")));
        assertThat(two).matches("api-github-com-[0-9a-f]{8}");
        assertThat(two).isEqualTo(ManifestNames.forDestination(List.of(io.meshegress.policy.HostPattern.parse("api.github.com"),
                io.meshegress.policy.HostPattern.parse("uploads.github.com"))));
        String longName = ManifestNames.forDestination(List.of(io.meshegress.policy.HostPattern.parse(
                "a-very-long-label-that-goes-on.and-another-long-label-that-goes-on.example.com")));
        assertThat(longName.length()).isLessThanOrEqualTo(63);
        assertThat(longName).matches("[a-z]([-a-z0-9]*[a-z0-9])?");
    }

    @Test
    void aTlsPortWithoutItsListenerIsAnErrorNamingPortAndListener() {
        assertThatThrownBy(() -> generate("""
                mesh:
                  destinations:
                    - hosts: ["*.qq.com"]
                      tls: [443, 9443]
                """)).isInstanceOf(ConfigException.class)
                .hasMessage("t.yaml:4:18: mesh.destinations[0].tls[1]: TLS port 9443 has no sni listener whose upstream "
                        + "port is 9443; add one, e.g. sni: [{listen: \"0.0.0.0:9443\"}] (its upstream port is its own port)");
    }

    @Test
    void otherMeshErrors() {
        assertThatThrownBy(() -> generate("http: null\nmesh:\n  destinations:\n    - hosts: [a.b]\n      http: [80]\n"))
                .hasMessageContaining("mesh.destinations[0].http[0]: port 80 is plain HTTP but the http listener is off");
        assertThatThrownBy(() -> generate("mesh:\n  destinations:\n    - hosts: [\"*\"]\n      tls: [443]\n"))
                .hasMessageContaining("mesh.destinations[0].hosts[0]: \"*\" cannot be a ServiceEntry host");
        assertThatThrownBy(() -> generate("mesh:\n  destinations:\n    - hosts: [10.1.2.3]\n      tls: [443]\n"))
                .hasMessageContaining("an IP address cannot be a ServiceEntry host");
        assertThatThrownBy(() -> generate("""
                sni: [{listen: "0.0.0.0:8443", upstreamPort: 443}, {listen: "0.0.0.0:80"}]
                mesh:
                  destinations:
                    - hosts: [a.b]
                      http: [80]
                    - hosts: [c.d]
                      tls: [80]
                """)).hasMessageContaining("mesh.destinations[1].tls[0]: port 80 is TLS here but HTTP in "
                + "mesh.destinations[0].http[0]");
        assertThatThrownBy(() -> generate("mesh:\n  exportTo: [Bad_NS]\n")).hasMessageContaining("mesh.exportTo[0]");
    }

    @Test
    void theValidatorRejectsWhatAClusterWould() throws Exception {
        List<ObjectNode> good = generate(WRITEUP);
        ManifestValidator v = ManifestValidator.load();
        ObjectNode se = find(good, "ServiceEntry", "wildcard-qq-com").deepCopy();
        ((ObjectNode) se.path("spec").path("ports").get(0)).remove("name");
        ((ObjectNode) se.path("spec")).put("portz", 1);
        ((com.fasterxml.jackson.databind.node.ArrayNode) se.path("spec").path("hosts")).add("*");
        assertThat(v.validate(se)).anySatisfy(p -> assertThat(p).contains("ServiceEntry wildcard-qq-com: /spec/ports/0")
                        .contains("name"))
                .anySatisfy(p -> assertThat(p).contains("portz"))
                .anySatisfy(p -> assertThat(p).isEqualTo("ServiceEntry wildcard-qq-com: /spec/hosts: hostname cannot be wildcard"));
        ObjectNode vs = find(good, "VirtualService", "wildcard-qq-com").deepCopy();
        ObjectNode match = (ObjectNode) vs.path("spec").path("tls").get(0).path("match").get(0);
        match.remove("sniHosts");
        assertThat(v.validate(vs)).anySatisfy(p -> assertThat(p).contains("/spec/tls/0/match/0").contains("sniHosts"));
        match.putArray("sniHosts").add("www.other.com");
        assertThat(v.validate(vs)).contains("VirtualService wildcard-qq-com: /spec/tls/0/match/0/sniHosts: "
                + "\"www.other.com\" is not within the VirtualService's hosts");
        ObjectNode service = find(good, "Service", "mesh-egress").deepCopy();
        ((ObjectNode) service.path("spec").path("ports").get(0)).put("port", "eighty");
        ((ObjectNode) service.path("metadata")).put("name", "Mesh_Egress");
        assertThat(v.validate(service)).anySatisfy(p -> assertThat(p).contains("/spec/ports/0/port"))
                .anySatisfy(p -> assertThat(p).contains("/metadata/name: \"Mesh_Egress\" is not a valid DNS-1035 label"));
        List<ObjectNode> broken = new ArrayList<>(good);
        ObjectNode badRoute = find(good, "VirtualService", "wildcard-qq-com").deepCopy();
        ((ObjectNode) badRoute.path("spec").path("tls").get(0).path("route").get(0).path("destination").path("port"))
                .put("number", 9443);
        broken.set(broken.size() - 1, badRoute);
        assertThat(v.validate(broken)).contains("VirtualService wildcard-qq-com: routes to port 9443, which the proxy "
                + "Service does not have");
    }

    @Test
    void yamlOutputReadsBackAsTheSameObjects() throws Exception {
        List<ObjectNode> objects = generate(Files.readString(Path.of("examples/in-cluster.yaml")));
        String yaml = io.meshegress.cli.CliAccess.toYaml(objects);
        assertThat(yaml).contains("- '*.qq.com'", "sidecar.istio.io/inject: \"false\"");
        ObjectMapper reader = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        List<JsonNode> back = reader.readValues(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory().createParser(yaml),
                JsonNode.class).readAll();
        assertThat(back).isEqualTo(objects);
    }

    static JsonNode routeFor(JsonNode routes, int port) {
        for (JsonNode r : routes) {
            if (r.path("match").get(0).path("port").asInt() == port) {
                return r;
            }
        }
        throw new AssertionError("no route for port " + port);
    }

    static int targetPort(JsonNode servicePorts, int port) {
        for (JsonNode p : servicePorts) {
            if (p.path("port").asInt() == port) {
                return p.path("targetPort").asInt();
            }
        }
        throw new AssertionError("the proxy Service has no port " + port);
    }
}
