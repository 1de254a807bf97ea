package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The command line as a user meets it, against the built jar: `--version` names the version, the commit and the
 * build date; a bare `mesh-egress` lists every command; the man pages (rendered by man from what the package
 * ships) and the bash completion (run by bash, and registered by zsh) know every command and every option that
 * the jar's own --help shows.
 */
class CommandLineDocsIT {
    static final Path GENERATED = Path.of("target", "command-line");
    static final Path MAN = Path.of("target", "deb", "man");
    static final String BASH = GENERATED.resolve("completion/mesh-egress.bash").toAbsolutePath().toString();

    @Test
    void versionNamesTheVersionTheCommitAndTheBuildDate() throws Exception {
        JarProcess v = JarProcess.runToEnd("--version");
        assertThat(v.exitCode()).isZero();
        List<String> out = v.out();
        assertThat(out.get(0)).matches("mesh-egress [0-9]+\\.[0-9]+\\.[0-9]+.*");
        Command git = Command.run(List.of("git", "rev-parse", "HEAD"));
        assertThat(git.exitCode()).as("built from a git checkout").isZero();
        assertThat(out.get(1)).isEqualTo("commit " + git.out().strip());
        assertThat(out.get(2)).startsWith("built ");
        Instant built = Instant.parse(out.get(2).substring("built ".length()));
        assertThat(built).isBetween(Instant.now().minus(Duration.ofDays(1)), Instant.now());
    }

    @Test
    void aBareCommandListsEveryCommand() throws Exception {
        Set<String> commands = commands();
        assertThat(commands).contains("run", "check", "istio", "learn");
        JarProcess bare = JarProcess.runToEnd();
        assertThat(bare.exitCode()).isEqualTo(2);
        String err = String.join("\n", bare.err());
        assertThat(err).startsWith("a command is required: " + String.join(", ", commands));
        for (String c : commands) {
            assertThat(err).containsPattern("(?m)^  " + c + " ");
        }
    }

    @Test
    void theManPagesShowEveryCommandAndOption() throws Exception {
        String main = man("mesh-egress");
        assertThat(main).contains("EXIT STATUS", "FILES", "/etc/mesh-egress/egress.yaml");
        for (String c : commands()) {
            assertThat(main).contains(c);
            String page = man("mesh-egress-" + c);
            for (String option : options(c)) {
                assertThat(page).as("mesh-egress-%s(1) names %s", c, option).contains(option);
            }
            // A parameter label that asciidoctor reads as markup swallows options from the synopsis and leaves
            // its marks behind (one did: "[?...]" before the closing "_" is an attribute list to it).
            String synopsis = page.substring(page.indexOf("SYNOPSIS"), page.indexOf("DESCRIPTION"));
            assertThat(synopsis.chars().filter(ch -> ch == '[').count()).as(synopsis)
                    .isEqualTo(synopsis.chars().filter(ch -> ch == ']').count());
            assertThat(synopsis).as(synopsis).doesNotContain("*").doesNotContain("] ]");
        }
    }

    @Test
    void bashCompletesEveryCommandAndOptionAndZshRegistersIt() throws Exception {
        assertThat(complete("mesh-egress", "")).containsAll(commands());
        for (String c : List.of("run", "check", "istio", "learn")) {
            assertThat(complete("mesh-egress", c, "--")).as("options of %s", c).containsAll(options(c));
        }
        Command zsh = Command.run(List.of("zsh", "-fc", "autoload -U compinit && compinit -u -D; source " + BASH
                + "; print -r -- ${_comps[mesh-egress]}"));
        assertThat(zsh.exitCode()).as(zsh.err()).isZero();
        assertThat(zsh.out()).contains("_complete_mesh-egress");
    }

    /** The commands the jar's --help lists. */
    private static Set<String> commands() throws Exception {
        JarProcess help = JarProcess.runToEnd("--help");
        Set<String> commands = new LinkedHashSet<>();
        boolean inCommands = false;
        for (String line : help.out()) {
            if (line.equals("Commands:")) {
                inCommands = true;
            } else if (inCommands && line.matches("  [a-z]+ .*|  [a-z]+")) {
                commands.add(line.strip().split(" ")[0]);
            } else if (inCommands && !line.startsWith("   ")) {
                inCommands = false;
            }
        }
        return commands;
    }

    /** The long options the jar's `COMMAND --help` shows. */
    private static List<String> options(String command) throws Exception {
        JarProcess help = JarProcess.runToEnd(command, "--help");
        Matcher m = Pattern.compile("(?<![\\w-])--[a-z][a-z-]+").matcher(String.join("\n", help.out()));
        Set<String> options = new LinkedHashSet<>();
        while (m.find()) {
            options.add(m.group());
        }
        assertThat(options).contains("--help");
        return new ArrayList<>(options);
    }

    private static String man(String page) throws Exception {
        Path troff = MAN.resolve(page + ".1");
        assertThat(troff).as("built by packaging/build-deb from the generated page").isRegularFile();
        Command man = Command.run(List.of("env", "MANWIDTH=200", "man", "-l", troff.toString()));
        assertThat(man.exitCode()).as(man.err()).isZero();
        return man.out();
    }

    private static List<String> complete(String... words) throws Exception {
        String line = String.join(" ", words);
        String script = "source " + BASH + "; COMP_WORDS=(" + String.join(" ", quoted(words)) + "); COMP_CWORD="
                + (words.length - 1) + "; COMP_LINE='" + line + "'; COMP_POINT=" + line.length()
                + "; _complete_mesh-egress; printf '%s\\n' \"${COMPREPLY[@]}\"";
        Command bash = Command.run(List.of("bash", "-c", script));
        assertThat(bash.exitCode()).as(bash.err()).isZero();
        return bash.out().lines().map(String::strip).toList();
    }

    private static List<String> quoted(String... words) {
        return List.of(words).stream().map(w -> "'" + w + "'").toList();
    }
}
