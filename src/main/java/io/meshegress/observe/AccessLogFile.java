package io.meshegress.observe;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The access-log file, opened for append, and why it cannot be, in words a user can act on: {@code run} opens
 * it, {@code check} (a unit's {@code ExecStartPre}) tries the same without creating or changing anything, and
 * both say the same thing when it fails.
 */
public final class AccessLogFile {

    /** The log cannot be opened for append; the message says which file and why. */
    public static final class CannotOpen extends IOException {
        CannotOpen(Path file, String why) {
            super("cannot open the access log " + file + " for append: " + why);
        }
    }

    private AccessLogFile() {
    }

    /** Opens the file for append, creating it if it is missing (as {@code run} does). */
    public static OutputStream openForAppend(Path file) throws CannotOpen {
        try {
            return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new CannotOpen(file, why(file, e));
        }
    }

    /**
     * Whether {@link #openForAppend} would succeed for the running user, asked without creating the file or
     * writing a byte: an existing file is opened for append and closed; for a missing one the kernel is asked
     * (access(2)) whether its directory takes a new file. A missing file is never created here: a {@code check}
     * run by root would leave a file the service's account cannot write.
     */
    public static void checkAppendable(Path file) throws CannotOpen {
        if (Files.exists(file)) {
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                return;
            } catch (IOException e) {
                throw new CannotOpen(file, why(file, e));
            }
        }
        Optional<String> missing = missingDirectory(file);
        if (missing.isPresent()) {
            throw new CannotOpen(file, missing.get());
        }
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isWritable(dir) || !Files.isExecutable(dir)) {
            throw new CannotOpen(file, "permission denied to create it in " + dir + " (" + ownerAndMode(dir) + ")");
        }
    }

    /** The reason an open failed, from the error and what the file system shows around the file. */
    static String why(Path file, IOException e) {
        if (Files.isDirectory(file)) {
            return "it is a directory";
        }
        if (e instanceof AccessDeniedException) {
            Path dir = file.toAbsolutePath().getParent();
            return Files.exists(file) ? "permission denied (" + ownerAndMode(file) + ")"
                    : "permission denied to create it in " + dir + " (" + ownerAndMode(dir) + ")";
        }
        if (e instanceof NoSuchFileException || !Files.exists(file)) {
            Optional<String> missing = missingDirectory(file);
            if (missing.isPresent()) {
                return missing.get();
            }
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason().toLowerCase(java.util.Locale.ROOT); // "read-only file system", ...
        }
        return String.valueOf(e.getMessage());
    }

    /** The first ancestor of the file that is missing or is not a directory, said as such; empty when none. */
    private static Optional<String> missingDirectory(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path first = null;
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isDirectory(p)) {
                break;
            }
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(p)) {
                return Optional.of(p + " is not a directory");
            }
            first = p;
        }
        return first == null ? Optional.empty() : Optional.of("no such directory " + (first.equals(dir) ? dir
                : dir + " (" + first + " is missing)"));
    }

    /** {@code owner root, mode 0644, running as uid 998}: what decides a permission, side by side. */
    private static String ownerAndMode(Path p) {
        String owner;
        String mode;
        try {
            owner = Files.getOwner(p).getName();
            mode = String.format("%04o", (Integer) Files.getAttribute(p, "unix:mode") & 07777);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            owner = "unknown";
            mode = "unknown";
        }
        return "owner " + owner + ", mode " + mode + ", running as " + runningUser();
    }

    private static String runningUser() {
        try {
            // /proc/self belongs to the process's effective user: the one the kernel checks.
            return "uid " + Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "user " + System.getProperty("user.name");
        }
    }
}
