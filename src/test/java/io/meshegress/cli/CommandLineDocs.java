package io.meshegress.cli;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Build-time generator (Maven runs it in the package phase; see pom.xml, "command-line-docs"): the man pages
 * (AsciiDoc, one per command, which packaging/build-deb turns into troff) and the bash completion script (zsh
 * loads it through bashcompinit), all from the same picocli model the jar parses its command line with, so
 * neither can drift from the commands and options that exist.
 *
 * <pre>CommandLineDocs OUTPUT-DIR</pre> writes OUTPUT-DIR/man/*.adoc and OUTPUT-DIR/completion/mesh-egress.bash.
 */
public final class CommandLineDocs {
    private CommandLineDocs() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        CommandLine cli = Main.withEveryCommand();
        File man = Files.createDirectories(out.resolve("man")).toFile();
        int status = ManPageGenerator.generateManPage(man, null, new boolean[0], true, cli.getCommandSpec());
        if (status != 0) {
            throw new IllegalStateException("ManPageGenerator failed with " + status);
        }
        Path completion = Files.createDirectories(out.resolve("completion"));
        // Sourced, never run: without picocli's #! line (Debian's bash-completion directory wants none).
        String script = AutoComplete.bash("mesh-egress", cli).replaceFirst("\\A#![^\n]*\n", "");
        Files.writeString(completion.resolve("mesh-egress.bash"), script);
    }
}
