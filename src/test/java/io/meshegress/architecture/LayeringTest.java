package io.meshegress.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The layering ARCHITECTURE.md describes, enforced: no package depends on itself through others (each
 * {@code io.meshegress.X}, sub-packages included as their own slices, is a slice), and the pure layers
 * (policy, config, dns, transport, text, tls) never reach up into the proxy, the commands or the manifests.
 * Inside {@code proxy}, from the bottom: {@code proxy.timer} (timers, nothing else of the proxy), the spine
 * {@code proxy} itself (the route table, the upstream connector, the relay; it may use the timers), the
 * connection head {@code proxy.head} (how every listener kind opens a connection: above the spine), and the
 * listener kinds {@code proxy.http} and {@code proxy.sni} on top, neither of which imports the other.
 */
@AnalyzeClasses(packages = "io.meshegress", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("io.meshegress.(**)").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule pureLayersStayBelowTheProxy = noClasses()
            .that().resideInAnyPackage("io.meshegress.policy..", "io.meshegress.config..", "io.meshegress.dns..",
                    "io.meshegress.transport..", "io.meshegress.text..", "io.meshegress.tls..")
            .should().dependOnClassesThat().resideInAnyPackage("io.meshegress.proxy..", "io.meshegress.server..",
                    "io.meshegress.cli..", "io.meshegress.mesh..", "io.meshegress.control..");

    @ArchTest
    static final ArchRule timersKnowNothingOfTheProxy = noClasses()
            .that().resideInAPackage("io.meshegress.proxy.timer")
            .should().dependOnClassesThat().resideInAnyPackage("io.meshegress.proxy", "io.meshegress.proxy.head",
                    "io.meshegress.proxy.http", "io.meshegress.proxy.sni");

    @ArchTest
    static final ArchRule spineKnowsNoHeadAndNoListenerKind = noClasses()
            .that().resideInAPackage("io.meshegress.proxy")
            .should().dependOnClassesThat().resideInAnyPackage("io.meshegress.proxy.head",
                    "io.meshegress.proxy.http", "io.meshegress.proxy.sni");

    @ArchTest
    static final ArchRule headKnowsNoListenerKind = noClasses()
            .that().resideInAPackage("io.meshegress.proxy.head")
            .should().dependOnClassesThat().resideInAnyPackage("io.meshegress.proxy.http", "io.meshegress.proxy.sni");

    @ArchTest
    static final ArchRule httpListenerKnowsNoSniListener = noClasses()
            .that().resideInAPackage("io.meshegress.proxy.http")
            .should().dependOnClassesThat().resideInAPackage("io.meshegress.proxy.sni");

    @ArchTest
    static final ArchRule sniListenerKnowsNoHttpListener = noClasses()
            .that().resideInAPackage("io.meshegress.proxy.sni")
            .should().dependOnClassesThat().resideInAPackage("io.meshegress.proxy.http");

    @ArchTest
    static final ArchRule policyKnowsNoConfig = noClasses()
            .that().resideInAPackage("io.meshegress.policy..")
            .should().dependOnClassesThat().resideInAPackage("io.meshegress.config..");
}
