package io.meshegress.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/grafana/mesh-egress.json against Grafana's dashboard kind (src/test/resources/grafana, transcribed from
 * Grafana's CUE with its origin), and what an import needs: the export wrapper's {@code __inputs} (Grafana asks
 * for each on import and writes the choice wherever {@code ${NAME}} stands), the job, namespace and instance
 * variables in every query, {@code $__rate_interval} in every rate, a legend for every target.
 */
class DashboardSchemaTest {
    static final Path DASHBOARD = Path.of("deploy/grafana/mesh-egress.json");
    static final ObjectMapper JSON = new ObjectMapper();
    static Schema schema;
    static JsonNode dashboard;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = DashboardSchemaTest.class.getResourceAsStream("/grafana/dashboard.schema.json")) {
            schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(JSON.readTree(in));
        }
        dashboard = JSON.readTree(DASHBOARD.toFile());
    }

    static List<String> errors(JsonNode d) {
        return schema.validate(d).stream().map(e -> e.getInstanceLocation() + ": " + e.getMessage()).toList();
    }

    @Test
    void theTranscribedSchemaIsAValidDraft2020_12Schema() throws Exception {
        Schema meta = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
        try (InputStream in = DashboardSchemaTest.class.getResourceAsStream("/grafana/dashboard.schema.json")) {
            assertThat(meta.validate(JSON.readTree(in))).isEmpty();
        }
    }

    @Test
    void theDashboardIsAGrafanaDashboard() {
        assertThat(errors(dashboard)).isEmpty();
    }

    @Test
    void theSchemaRefusesWhatGrafanaWould() throws Exception {
        for (String[] broken : new String[][] {
                {"/panels/0", "type", "\"\""},
                {"/panels/0/gridPos", "w", "25"},
                {"/panels/0/gridPos", "x", "-1"},
                {"/templating/list/1", "hide", "3"},
                {"/templating/list/1", "type", "\"dropdown\""},
                {"", "graphTooltip", "\"shared\""},
                {"", "schemaVersion", "\"39\""},
                {"/panels/0/fieldConfig/defaults", "unit", "7"}}) {
            JsonNode copy = dashboard.deepCopy();
            ((ObjectNode) copy.at(broken[0])).set(broken[1], JSON.readTree(broken[2]));
            assertThat(errors(copy)).as(broken[0] + "/" + broken[1] + " = " + broken[2]).isNotEmpty();
        }
        JsonNode noName = dashboard.deepCopy();
        ((ObjectNode) noName.at("/templating/list/1")).remove("name");
        assertThat(errors(noName)).isNotEmpty();
    }

    @Test
    void importAsksForThePrometheusDataSourceAndEveryPanelUsesIt() throws Exception {
        JsonNode inputs = dashboard.path("__inputs");
        assertThat(inputs).hasSize(1);
        assertThat(inputs.get(0).path("name").asText()).isEqualTo("DS_PROMETHEUS");
        assertThat(inputs.get(0).path("type").asText()).isEqualTo("datasource");
        assertThat(inputs.get(0).path("pluginId").asText()).isEqualTo("prometheus");
        assertThat(inputs.get(0).path("label").asText()).isNotBlank();
        // Every ${DS_...} in the file is a declared input (import substitutes only those).
        Matcher m = Pattern.compile("\\$\\{(DS_[A-Z_]+)}").matcher(Files.readString(DASHBOARD));
        while (m.find()) {
            assertThat(m.group(1)).isEqualTo("DS_PROMETHEUS");
        }
        JsonNode datasource = variable("datasource");
        assertThat(datasource.path("type").asText()).isEqualTo("datasource");
        assertThat(datasource.path("query").asText()).isEqualTo("prometheus");
        assertThat(datasource.path("current").path("value").asText()).isEqualTo("${DS_PROMETHEUS}");
        for (JsonNode p : dashboard.path("panels")) {
            assertThat(p.path("datasource").path("uid").asText()).as(p.path("title").asText()).isEqualTo("${datasource}");
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
            }
        }
    }

    @Test
    void everyQueryFollowsTheVariablesUsesTheRateIntervalAndHasALegend() {
        for (String name : List.of("job", "namespace", "instance")) {
            JsonNode v = variable(name);
            assertThat(v.path("type").asText()).as(name).isEqualTo("query");
            assertThat(v.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
        }
        // Outside Kubernetes there is no namespace label: "All" must match the empty value.
        assertThat(variable("namespace").path("allValue").asText()).isEqualTo(".*");
        assertThat(variable("instance").path("allValue").asText()).isEqualTo(".*");
        List<String> exprs = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            for (JsonNode t : p.path("targets")) {
                String expr = t.path("expr").asText();
                exprs.add(expr);
                assertThat(t.path("legendFormat").asText()).as(expr).isNotBlank();
                Matcher selectors = Pattern.compile("meshegress_\\w+|jvm_\\w+|process_\\w+").matcher(expr);
                while (selectors.find()) {
                    String rest = expr.substring(selectors.end());
                    assertThat(rest).as(expr).startsWith("{");
                    String labels = rest.substring(0, rest.indexOf('}'));
                    assertThat(labels).as(expr).contains("job=~\"$job\"", "instance=~\"$instance\"",
                            "namespace=~\"$namespace\"");
                }
                Matcher ranges = Pattern.compile("\\[([^]]+)]").matcher(expr);
                while (ranges.find()) {
                    // rate() over $__rate_interval; the reload panel's increase() counts over a fixed 5m on purpose.
                    assertThat(ranges.group(1)).as(expr).isIn("$__rate_interval", "5m");
                    if (ranges.group(1).equals("5m")) {
                        assertThat(expr).startsWith("sum by (result) (increase(");
                    }
                }
            }
        }
        assertThat(exprs).hasSizeGreaterThanOrEqualTo(12);
    }

    static JsonNode variable(String name) {
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("name").asText().equals(name)) {
                return v;
            }
        }
        throw new AssertionError("no variable " + name);
    }
}
