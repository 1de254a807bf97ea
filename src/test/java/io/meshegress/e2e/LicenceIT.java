package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.JarProcess;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The built jar and the Debian package's copyright file against what is really in the jar. Which libraries are
 * shaded is read from the jar itself: a library on the classpath is in it when one of its classes or native
 * files is. Each such library's licence is read from its own POM (and its parents') in the local Maven
 * repository, never from our files; the copyright file must name every one of them with that licence, and no
 * other; and every licence or notice file the library ships must be in the jar, word for word.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LicenceIT {
    static final Path COPYRIGHT = Path.of("packaging/debian/copyright");
    static final Pattern LICENCE_FILE = Pattern.compile("(?i)^META-INF/[^/]*(LICENSE|NOTICE|COPYING)[^/]*$");

    /** groupId:artifactId of every shaded library, and the local jar it came from. */
    final Map<String, Path> shaded = new TreeMap<>();
    ZipFile jar;

    @BeforeAll
    void findTheShadedLibraries() throws Exception {
        jar = new ZipFile(JarProcess.jar().toFile());
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path library = Path.of(entry);
            Path pom = pomBeside(library);
            if (!entry.endsWith(".jar") || pom == null || library.toAbsolutePath().equals(JarProcess.jar().toAbsolutePath())) {
                continue;
            }
            if (contributesTo(library)) {
                shaded.put(coordinates(pom), library);
            }
        }
        // The jar is mesh-egress on Netty: a classpath that found no library would make every check below vacuous.
        assertThat(shaded).containsKeys("io.netty:netty-handler", "info.picocli:picocli", "org.slf4j:slf4j-api");
    }

    @Test
    void theJarCarriesOurLicenceAndNoticeFirst() throws Exception {
        String licence = entry("META-INF/LICENSE");
        assertThat(licence).startsWith(Files.readString(Path.of("LICENSE")));
        Path debian = Path.of("/usr/share/common-licenses/Apache-2.0");
        if (Files.isRegularFile(debian)) {
            // Debian's copy of the Apache License 2.0 is the outside reference for "the licence text, verbatim".
            assertThat(Files.readString(Path.of("LICENSE"))).isEqualTo(Files.readString(debian));
        }
        assertThat(entry("META-INF/NOTICE")).startsWith(Files.readString(Path.of("NOTICE")));
    }

    @Test
    void everyLicenceAndNoticeFileOfEveryShadedLibraryIsInTheJarWordForWord() throws Exception {
        List<String> missing = new ArrayList<>();
        int files = 0;
        for (Map.Entry<String, Path> library : shaded.entrySet()) {
            try (ZipFile source = new ZipFile(library.getValue().toFile())) {
                for (Enumeration<? extends ZipEntry> e = source.entries(); e.hasMoreElements(); ) {
                    ZipEntry file = e.nextElement();
                    if (file.isDirectory() || !LICENCE_FILE.matcher(file.getName()).matches()) {
                        continue;
                    }
                    files++;
                    String text = read(source, file).strip();
                    ZipEntry same = jar.getEntry(file.getName());
                    if (same == null || !read(jar, same).contains(text)) {
                        missing.add(library.getKey() + " " + file.getName());
                    }
                }
            }
        }
        // slf4j's MIT, HdrHistogram's CC0/BSD, Jackson's, Guava's and Micrometer's files at least.
        assertThat(files).isGreaterThan(10);
        assertThat(missing).as("licence or notice files dropped from the jar").isEmpty();
    }

    @Test
    void theCopyrightFileNamesEveryShadedLibraryWithTheLicenceItsPomDeclares() throws Exception {
        Map<String, Set<String>> written = writtenLicences(Files.readString(COPYRIGHT));
        Map<String, Set<String>> declared = new TreeMap<>();
        for (Map.Entry<String, Path> library : shaded.entrySet()) {
            declared.put(library.getKey(), pomLicences(pomBeside(library.getValue())));
        }
        assertThat(written.keySet()).as("libraries the copyright file names").isEqualTo(declared.keySet());
        assertThat(written).isEqualTo(declared);
    }

    @Test
    void theJarsParagraphLicenceNamesEveryLicenceOfItsLibrariesEachWithItsText() throws Exception {
        String copyright = Files.readString(COPYRIGHT);
        Matcher m = Pattern.compile("(?m)^Files: usr/share/mesh-egress/mesh-egress.jar\n(?:[^\n]+\n)*?License: ([^\n]+)")
                .matcher(copyright);
        assertThat(m.find()).as("the jar's Files paragraph").isTrue();
        Set<String> expression = new TreeSet<>();
        for (String word : m.group(1).replaceAll("[()]", " ").trim().split("\\s+")) {
            if (!word.equals("and") && !word.equals("or")) {
                expression.add(word);
            }
        }
        Set<String> used = new TreeSet<>();
        writtenLicences(copyright).values().forEach(used::addAll);
        assertThat(expression).containsAll(used);
        for (String name : expression) {
            assertThat(copyright).as("a License paragraph for " + name)
                    .containsPattern("(?m)^License: " + Pattern.quote(name) + "\n ");
        }
    }

    /** {@code groupId:artifactId: A or B[, comment]} lines of the copyright file, as licence sets. */
    static Map<String, Set<String>> writtenLicences(String copyright) {
        Map<String, Set<String>> out = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^ ([a-z0-9.]+:[A-Za-z0-9._-]+): ([^,\n]+)").matcher(copyright);
        while (m.find()) {
            out.put(m.group(1), new TreeSet<>(List.of(m.group(2).trim().split("\\s+or\\s+"))));
        }
        return out;
    }

    /** Whether the jar holds one of this library's classes or native files (what shading copies). */
    boolean contributesTo(Path library) throws IOException {
        try (ZipFile source = new ZipFile(library.toFile())) {
            for (Enumeration<? extends ZipEntry> e = source.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                boolean content = (name.endsWith(".class") && !name.endsWith("module-info.class"))
                        || (name.startsWith("META-INF/native/") && name.endsWith(".so"));
                if (content && jar.getEntry(name) != null) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The POM Maven keeps beside a jar in a repository ({@code A-V.pom} for {@code A-V[-classifier].jar}). */
    static Path pomBeside(Path library) {
        Path version = library.getParent();
        if (version == null || version.getParent() == null) {
            return null;
        }
        Path pom = version.resolve(version.getParent().getFileName() + "-" + version.getFileName() + ".pom");
        return Files.isRegularFile(pom) ? pom : null;
    }

    static String coordinates(Path pom) throws Exception {
        Element project = parse(pom).getDocumentElement();
        String group = child(project, "groupId");
        if (group == null) {
            group = child(child(project, "parent", true), "groupId");
        }
        return group + ":" + child(project, "artifactId");
    }

    /** The licences a POM declares, or its nearest parent's, as Debian copyright-format short names. */
    static Set<String> pomLicences(Path pom) throws Exception {
        Element project = parse(pom).getDocumentElement();
        Element licences = child(project, "licenses", true);
        if (licences != null) {
            Set<String> names = new TreeSet<>();
            NodeList list = licences.getElementsByTagName("license");
            for (int i = 0; i < list.getLength(); i++) {
                Element l = (Element) list.item(i);
                names.add(shortName(child(l, "name"), child(l, "url")));
            }
            return names;
        }
        Element parent = child(project, "parent", true);
        assertThat(parent).as(pom + " declares no licence and has no parent").isNotNull();
        // The repository root is as many levels above this POM's version directory as groupId/artifactId/version.
        String group = child(project, "groupId") != null ? child(project, "groupId") : child(parent, "groupId");
        Path root = pom.getParent();
        for (int i = 0; i < group.split("\\.").length + 2; i++) {
            root = root.getParent();
        }
        String pg = child(parent, "groupId");
        String pa = child(parent, "artifactId");
        String pv = child(parent, "version");
        return pomLicences(root.resolve(pg.replace('.', '/')).resolve(pa).resolve(pv).resolve(pa + "-" + pv + ".pom"));
    }

    /**
     * A POM's licence name and URL as the short name of the Debian copyright format (section 7.2: Expat for the
     * MIT licence). An unknown one fails: a new licence is for a person to read.
     */
    static String shortName(String name, String url) {
        String both = (name + " " + url).toLowerCase(Locale.ROOT);
        if (both.contains("apache") && both.contains("2.0")) {
            return "Apache-2.0";
        }
        if (both.contains("publicdomain/zero") || both.contains("cc0")) {
            return "CC0-1.0";
        }
        if (both.contains("bsd-2-clause")) {
            return "BSD-2-clause";
        }
        if (both.contains("epl-2.0") || both.contains("epl-v20")) {
            return "EPL-2.0";
        }
        if (both.contains("lgpl-2.1")) {
            return "LGPL-2.1";
        }
        if (name.trim().equalsIgnoreCase("MIT") || both.contains("/license/mit") || both.contains("/licenses/mit")) {
            return "Expat";
        }
        throw new AssertionError("a licence this test does not know: " + name + " " + url);
    }

    static Document parse(Path xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(xml.toFile());
    }

    static String child(Element parent, String name) {
        Element e = child(parent, name, true);
        return e == null ? null : e.getTextContent().trim();
    }

    static Element child(Element parent, String name, boolean element) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    String entry(String name) throws IOException {
        ZipEntry e = jar.getEntry(name);
        assertThat(e).as(name + " in the jar").isNotNull();
        return read(jar, e);
    }

    static String read(ZipFile zip, ZipEntry entry) throws IOException {
        try (InputStream in = zip.getInputStream(entry)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
