package io.layerfs.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Background mode. A JVM cannot fork, so {@code layerfs mount} starts a second JVM (same java,
 * same JVM options, same class path) running {@code mount --daemon-child} with the checked request,
 * under setsid(1) so that it outlives the caller's session, with "/" as its working directory.
 *
 * <p>The protocol: the child mounts, prints the line {@value #READY} on its stdout and then points
 * its stdout and stderr at a log file ({@code WORKDIR/layerfs.log}, or /dev/null without a
 * workdir). The parent relays the child's stderr while it waits, and exits 0 on READY. If the child
 * exits first, its error lines have been relayed and the parent exits non-zero.
 */
final class BackgroundLauncher {
    static final String READY = "READY";
    static final String CHILD_FLAG = "--daemon-child";
    static final String LOG_FILE = "layerfs.log";
    /** Set (true) by the launcher script on a mount server it starts detached. */
    static final String DETACHED_PROPERTY = "layerfs.detached";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    /** How long the parent keeps relaying after READY, until the child has let go of the pipe. */
    private static final long DRAIN_MILLIS = 2000;

    private BackgroundLauncher() {
    }

    static int launch(MountRequest request, boolean debug, PrintWriter out, PrintWriter err) throws CliException {
        List<String> command = childCommand(javaCommand(), jvmArguments(), absoluteClassPath(),
                childArguments(request, debug));
        Process child;
        try {
            child = new ProcessBuilder(command)
                    .directory(new File("/"))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "cannot start the background server: " + e.getMessage(),
                    "setsid(1) comes with util-linux; or serve from this process: layerfs mount --foreground ...");
        }
        return awaitReady(child, READY_TIMEOUT, out, err);
    }

    /** {@code setsid JAVA JVM-OPTIONS -cp CLASSPATH io.layerfs.cli.Main ARGS}. */
    static List<String> childCommand(String java, List<String> jvmArguments, String classPath, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add("setsid");
        command.add(java);
        command.addAll(jvmArguments);
        command.add("-cp");
        command.add(classPath);
        command.add(Main.class.getName());
        command.addAll(args);
        return command;
    }

    /**
     * The child's arguments: the checked request in the long form, with the mount point last after
     * {@code --}, which is how {@link #findServer} recognizes the process later.
     */
    static List<String> childArguments(MountRequest request, boolean debug) {
        List<String> args = new ArrayList<>(List.of("mount", CHILD_FLAG));
        for (Path lower : request.lowers()) {
            args.add("--lower");
            args.add(lower.toString());
        }
        if (request.upper() != null) {
            args.add("--upper");
            args.add(request.upper().toString());
            args.add("--work");
            args.add(request.work().toString());
        }
        for (String option : request.fuseOptions()) {
            args.add("-o");
            args.add(option);
        }
        if (debug) {
            args.add("--debug");
        }
        if (request.tuning().isVolatile()) {
            args.add("--volatile");
        }
        if (request.tuning().trace() != null) {
            args.add("--trace");
            args.add(request.tuning().trace().toString());
            if (request.tuning().traceLookups()) {
                args.add("--trace-lookups");
            }
        }
        args.add("--");
        args.add(request.mountpoint().toString());
        return args;
    }

    /**
     * Waits for the child's READY line, relaying its other output meanwhile. Returns OK once ready;
     * otherwise the child's exit code (its own error lines relayed), or FAILURE.
     */
    static int awaitReady(Process child, Duration timeout, PrintWriter out, PrintWriter err) throws CliException {
        Thread errRelay = new Thread(() -> relay(child.getErrorStream(), err), "layerfs-child-stderr");
        errRelay.setDaemon(true);
        errRelay.start();
        CompletableFuture<Boolean> ready = new CompletableFuture<>();
        Thread outReader = new Thread(() -> ready.complete(readUntilReady(child.getInputStream(), out)),
                "layerfs-child-stdout");
        outReader.setDaemon(true);
        outReader.start();
        try {
            boolean isReady;
            try {
                isReady = ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                child.destroy();
                errRelay.join(DRAIN_MILLIS);
                throw new CliException(ExitCode.FAILURE, "the mount was not ready after "
                        + timeout.toSeconds() + " s; stopped the server (pid " + child.pid() + ")");
            }
            if (isReady) {
                errRelay.join(DRAIN_MILLIS);
                return ExitCode.OK.code;
            }
            int status = child.waitFor();
            errRelay.join(DRAIN_MILLIS);
            for (ExitCode c : ExitCode.values()) {
                if (c.code == status && c != ExitCode.OK) {
                    return status;
                }
            }
            throw new CliException(ExitCode.FAILURE,
                    "the background server exited with status " + status + " before the mount was ready");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCode.FAILURE, "interrupted while waiting for the mount");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** True on READY; false when the child closed its stdout without saying it. */
    private static boolean readUntilReady(InputStream stdout, PrintWriter out) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals(READY)) {
                    return true;
                }
                synchronized (out) {
                    out.println(line);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // The child is gone; its exit status tells the rest.
        }
        return false;
    }

    private static void relay(InputStream stderr, PrintWriter err) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stderr, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (err) {
                    err.println(line);
                    err.flush();
                }
            }
        } catch (IOException e) {
            // Nothing more to relay.
        }
    }

    /**
     * Child side: tells the parent the mount is ready, then stops using the pipes it may no longer
     * be reading. The log file starts with a line naming the mount.
     */
    static void reportReady(PrintWriter out, MountRequest request) {
        Path log = request.work() == null ? Path.of("/dev/null") : request.work().resolve(LOG_FILE);
        // The parent returns as soon as it reads READY, and its caller may look at the log and at our
        // descriptors at once: so the redirect and the first log line come first, and READY goes to
        // the pipe through a second descriptor of it, opened before fd 1 is replaced.
        try (java.io.FileOutputStream toParent = new java.io.FileOutputStream("/proc/self/fd/1")) {
            Stdio.redirectTo(log);
            logServing(request);
            toParent.write((READY + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            toParent.flush();
        } catch (java.io.IOException e) {
            out.println(READY);
            out.flush();
            Stdio.redirectTo(log);
            logServing(request);
        }
    }

    /**
     * The log's first line. Written before READY, so it is made without java.time's formatting and
     * without ProcessHandle, whose first uses in a fresh JVM took 8-10 ms and 2-4 ms of every
     * mount's start.
     */
    private static void logServing(MountRequest request) {
        System.err.println("layerfs: " + utcTimestamp(System.currentTimeMillis()) + " pid " + ownPid()
                + " serving " + request.mountpoint());
        System.err.flush();
    }

    /** {@code 2026-12-07T09:33:29.887Z}: the UTC time of epoch milliseconds, ISO 8601 (years 0-9999). */
    static String utcTimestamp(long epochMillis) {
        long days = Math.floorDiv(epochMillis, 86_400_000L);
        long msOfDay = Math.floorMod(epochMillis, 86_400_000L);
        // the proleptic Gregorian date of a day number, counted in 400-year eras from 0000-03-01
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long monthFromMarch = (5 * dayOfYear + 2) / 153;
        long day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1;
        long month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        StringBuilder b = new StringBuilder(24);
        pad(b, year, 4).append('-');
        pad(b, month, 2).append('-');
        pad(b, day, 2).append('T');
        pad(b, msOfDay / 3_600_000, 2).append(':');
        pad(b, msOfDay / 60_000 % 60, 2).append(':');
        pad(b, msOfDay / 1_000 % 60, 2).append('.');
        return pad(b, msOfDay % 1_000, 3).append('Z').toString();
    }

    private static StringBuilder pad(StringBuilder b, long value, int width) {
        String digits = Long.toString(value);
        for (int i = digits.length(); i < width; i++) {
            b.append('0');
        }
        return b.append(digits);
    }

    /** This process's id, from /proc/self (ProcessHandle where /proc is not mounted). */
    private static long ownPid() {
        try {
            return Long.parseLong(java.nio.file.Files.readSymbolicLink(Path.of("/proc/self")).toString());
        } catch (IOException | NumberFormatException e) {
            return ProcessHandle.current().pid();
        }
    }

    /** The background server of the mount at mountpoint (a real path), found by its command line. */
    static Optional<ProcessHandle> findServer(Path mountpoint) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(Arrays::asList)
                        .map(a -> isServerOf(a, mountpoint) || isDetachedServerOf(a, mountpoint)).orElse(false))
                .findFirst();
    }

    /**
     * Whether this JVM is a server that the launcher script started detached (one JVM instead of two):
     * it serves in the background itself, saying READY as a child of {@link #launch} does.
     */
    static boolean isDetached() {
        return Boolean.getBoolean(DETACHED_PROPERTY);
    }

    /**
     * A server started by the launcher script has its caller's command line ({@code -o ... MERGED} in
     * any order): its mount point is found by parsing that line as the server did, from the directory
     * the script named.
     */
    static boolean isDetachedServerOf(List<String> args, Path mountpoint) {
        if (!args.contains("-D" + DETACHED_PROPERTY + "=true")) {
            return false;
        }
        int main = args.indexOf(Main.class.getName());
        String cwdPrefix = "-D" + Main.CWD_PROPERTY + "=";
        Optional<String> cwd = args.stream().filter(a -> a.startsWith(cwdPrefix)).findFirst();
        if (main < 0 || cwd.isEmpty()) {
            return false;
        }
        Path dir = Path.of(cwd.get().substring(cwdPrefix.length()));
        return Main.mountpointArgument(args.subList(main + 1, args.size()).toArray(String[]::new), dir)
                .map(m -> asListed(dir.resolve(m)).equals(mountpoint)).orElse(false);
    }

    /** As the mount table lists path; a mount point whose server died cannot be resolved, its parent can. */
    private static Path asListed(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException | java.nio.file.InvalidPathException e) {
            Path normal = path.normalize();
            Path parent = normal.getParent();
            try {
                return parent == null ? normal : parent.toRealPath().resolve(normal.getFileName());
            } catch (IOException again) {
                return normal;
            }
        }
    }

    static boolean isServerOf(List<String> args, Path mountpoint) {
        int n = args.size();
        return n >= 2 && args.contains(CHILD_FLAG) && args.get(n - 2).equals("--")
                && args.get(n - 1).equals(mountpoint.toString());
    }

    private static String javaCommand() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * This JVM's options (-D, -X, -XX), minus a debugger agent whose port would clash, plus
     * {@link #serverOptions}.
     */
    private static List<String> jvmArguments() {
        List<String> args = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp")) {
                args.add(a);
            }
        }
        return serverOptions(args);
    }

    /** The server's own JVM options, one per line, each with the measurement behind it. */
    static final String SERVER_OPTIONS = "server-jvm.options";

    /** Options that set the same thing as the key: given any of them, the key's line is not added. */
    private static final Map<String, List<String>> SAME_SETTING = Map.of(
            "-Xmn", List.of("-Xmn", "-XX:NewSize=", "-XX:MaxNewSize="),
            "-Xms", List.of("-Xms", "-XX:InitialHeapSize="));

    /**
     * The given JVM options and those of {@link #SERVER_OPTIONS} (shared with ./layerfs, which
     * starts the server itself), each unless the same setting is given already.
     */
    static List<String> serverOptions(List<String> given) {
        List<String> args = new ArrayList<>(given);
        for (String option : serverOptionLines()) {
            List<String> same = sameSetting(option);
            if (given.stream().noneMatch(g -> same.stream().anyMatch(g::startsWith))) {
                args.add(option);
            }
        }
        return args;
    }

    /** The prefixes of options that set what option sets: "-XX:Name=" or an -X size option's. */
    private static List<String> sameSetting(String option) {
        int eq = option.indexOf('=');
        if ((option.startsWith("-XX:") || option.startsWith("-D")) && eq > 0) {
            return List.of(option.substring(0, eq + 1));
        }
        for (Map.Entry<String, List<String>> e : SAME_SETTING.entrySet()) {
            if (option.startsWith(e.getKey())) {
                return e.getValue();
            }
        }
        return List.of(option);
    }

    static List<String> serverOptionLines() {
        try (InputStream in = BackgroundLauncher.class.getResourceAsStream(SERVER_OPTIONS)) {
            if (in == null) {
                throw new IllegalStateException("resource " + SERVER_OPTIONS + " missing from the build");
            }
            List<String> lines = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    lines.add(t);
                }
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The child runs in "/", so relative class path entries are made absolute. */
    private static String absoluteClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e).toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
