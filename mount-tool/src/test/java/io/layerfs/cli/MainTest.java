package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import org.junit.jupiter.api.io.TempDir;

/** The whole command line through {@link Main#run}, on a {@link FakeHost}: output and exit codes. */
class MainTest {
    @TempDir
    Path dir;

    private final FakeHost host = new FakeHost();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.run(args, host, dir, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private List<String> errLines() {
        return err.toString().lines().toList();
    }

    @Test
    void version_printsProjectVersion() {
        assertEquals(0, run("--version"));
        assertTrue(out.toString().startsWith("layerfs "), out.toString());
        assertTrue(!out.toString().startsWith("layerfs unknown"), "version.properties not filtered");
    }

    @Test
    void help_everyCommand_listsEveryExitCode() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"mount", "--help"},
                new String[] {"umount", "--help"}, new String[] {"explain", "--help"},
                new String[] {"whiteouts", "--help"}, new String[] {"lint", "--help"},
                new String[] {"convert", "--help"})) {
            out.getBuffer().setLength(0);
            assertEquals(0, run(args));
            for (ExitCode c : ExitCode.values()) {
                assertTrue(out.toString().contains("  " + c.code + "  " + c.name()), String.join(" ", args) + ": " + c);
            }
            assertEquals(1, out.toString().split("Exit codes:", -1).length - 1, String.join(" ", args));
        }
    }

    /** picocli breaks a longer footer line at the usage width, out of its column; none may need it. */
    @Test
    void help_footerLines_fitTheUsageWidth() {
        CommandLine root = Main.commandLine(host, dir);
        List<CommandLine> all = new java.util.ArrayList<>(List.of(root));
        for (int i = 0; i < all.size(); i++) {
            all.addAll(all.get(i).getSubcommands().values());
        }
        Set<String> over = new java.util.TreeSet<>();
        for (CommandLine c : all) {
            int width = c.getCommandSpec().usageMessage().width();
            for (String line : c.getCommandSpec().usageMessage().footer()) {
                for (String l : line.split("%n|\n", -1)) {
                    if (l.length() > width) {
                        over.add(c.getCommandName() + " (" + l.length() + " > " + width + "): " + l);
                    }
                }
            }
        }
        assertEquals(Set.of(), over);
    }

    @Test
    void helpCommand_showsTheCommandsHelp() {
        assertEquals(0, run("help", "umount"));
        assertTrue(out.toString().startsWith("Usage: layerfs umount"), out.toString());
    }

    @Test
    void mountHelp_teachesBothForms() {
        run("mount", "--help");

        assertTrue(out.toString().contains("-o lowerdir="));
        assertTrue(out.toString().contains("--lower"));
        assertTrue(out.toString().contains("mount_program"));
    }

    @Test
    void exitCodes_areDistinct_butForLintsFindings() {
        Set<Integer> codes = new HashSet<>();
        for (ExitCode c : ExitCode.values()) {
            assertTrue(codes.add(c.code) || c == ExitCode.FINDINGS, c.name());
        }
        assertEquals(1, ExitCode.FINDINGS.code, "lint answers 1 for findings, as diff(1) does for differences");
    }

    @Test
    void noCommand_isUsage_withHint() {
        assertEquals(ExitCode.USAGE.code, run());
        assertTrue(errLines().get(0).startsWith("layerfs: missing command"), err.toString());
        assertTrue(errLines().contains("hint: see 'layerfs --help'"), err.toString());
    }

    @Test
    void unknownFlag_isUsage_oneProblemLine() {
        assertEquals(ExitCode.USAGE.code, run("mount", "--lowr", "/m"));
        assertTrue(errLines().get(0).startsWith("layerfs: unknown option: '--lowr'"), err.toString());
        assertEquals("hint: see 'layerfs mount --help'", errLines().get(errLines().size() - 1));
    }

    @Test
    void missingMountpoint_isUsage() {
        assertEquals(ExitCode.USAGE.code, run("mount", "-o", "lowerdir=/a"));
        assertTrue(errLines().get(0).startsWith("layerfs: missing required parameter: 'MERGED'"), err.toString());
    }

    @Test
    void mount_missingLower_failsBeforeMounting() throws IOException {
        Files.createDirectories(dir.resolve("m"));

        assertEquals(ExitCode.BAD_LAYER.code, run("mount", "-o", "lowerdir=nope,upperdir=u,workdir=w", "m"));
        assertEquals(List.of("layerfs: lowerdir " + dir.resolve("nope") + " does not exist"), errLines());
        assertEquals("", out.toString());
    }

    @Test
    void mount_busyMountpoint_saysHowToFreeIt() throws IOException {
        Path m = Files.createDirectories(dir.resolve("m")).toRealPath();
        Files.createDirectories(dir.resolve("l"));
        host.mounted(m, "fuse.layerfs");

        assertEquals(ExitCode.BAD_MOUNTPOINT.code, run("mount", "--lower", "l", "m"));
        assertEquals("hint: unmount it first: layerfs umount " + m, errLines().get(1));
    }

    @Test
    void mount_unknownOptionWarning_comesBeforeTheError() {
        assertEquals(ExitCode.BAD_LAYER.code, run("mount", "-o", "lowerdir=nope,bogus", "m"));
        assertEquals("layerfs: warning: ignoring unknown option bogus", errLines().get(0));
    }

    @Test
    void podmanCall_withoutCommand_isMount() throws IOException {
        Files.createDirectories(dir.resolve("m"));

        assertEquals(ExitCode.BAD_LAYER.code, run("-o", "lowerdir=nope,upperdir=u,workdir=w", "m"));
        assertEquals(List.of("layerfs: lowerdir " + dir.resolve("nope") + " does not exist"), errLines());
    }

    @Test
    void podmanCall_mountpointFirst_isMount() throws IOException {
        Files.createDirectories(dir.resolve("m"));

        assertEquals(ExitCode.BAD_LAYER.code, run("m", "-olowerdir=nope"));
    }

    @Test
    void commandNames_areTheFullTreesNames() {
        assertEquals(Main.commandLine(host, dir).getSubcommands().keySet(), Main.COMMAND_NAMES);
    }

    @Test
    void mountHelp_isTheSameFromTheMountOnlyTree() {
        StringWriter full = new StringWriter();
        CommandLine all = Main.commandLine(host, dir);
        all.setOut(new PrintWriter(full, true));
        all.execute("mount", "--help");

        assertEquals(0, run("mount", "--help"));
        assertEquals(full.toString(), out.toString());
    }

    @Test
    void mountUsageError_isTheSameFromTheMountOnlyTree() {
        StringWriter full = new StringWriter();
        CommandLine all = Main.commandLine(host, dir);
        all.setErr(new PrintWriter(full, true));
        int fullCode = all.execute("mount", "--lowr", "x", "m");

        assertEquals(fullCode, run("mount", "--lowr", "x", "m"));
        assertEquals(full.toString(), err.toString());
    }

    /** podman's command line is read without picocli; every line read that way must read the same with it. */
    @Test
    void plainMount_readsAsPicocliDoes_orLeavesTheLineToIt() {
        List<String[]> plain = List.of(
                new String[] {"mount", "-o", "lowerdir=a:b,upperdir=u,workdir=w", "m"},
                new String[] {"mount", "m", "-o", "lowerdir=a"},
                new String[] {"mount", "-olowerdir=a,upperdir=u", "-o", "workdir=w", "m"},
                new String[] {"mount", "-o", "", "m"},
                new String[] {"mount", "-o", "context=\"x,y\"", "-o", "=a", "mount"},
                new String[] {"mount", "-o", "lowerdir=@a", "@m"});
        for (String[] args : plain) {
            MountCommand fast = Main.plainMount(args, host, dir).orElseThrow(() -> new AssertionError(List.of(args)));
            CommandLine.ParseResult parsed = Main.mountCommandLine(host, dir).parseArgs(args).subcommand();
            MountCommand slow = (MountCommand) parsed.commandSpec().userObject();
            assertEquals(slow.options, fast.options, List.of(args).toString());
            assertEquals(slow.mountpoint, fast.mountpoint, List.of(args).toString());
            // nothing else was given
            assertEquals(Set.of("-o"), parsed.matchedOptions().stream().map(o -> o.shortestName()).collect(
                    java.util.stream.Collectors.toSet()), List.of(args).toString());
        }
        List<String[]> other = List.of(
                new String[] {"mount", "-o", "x"},
                new String[] {"mount", "-o", "x", "m", "n"},
                new String[] {"mount", "-o"},
                new String[] {"mount", "m", "-o"},
                new String[] {"mount", "-o", "-f", "m"},
                new String[] {"mount", "-o-f", "m"},
                new String[] {"mount", "-o=x", "m"},
                new String[] {"mount", "-f", "-o", "x", "m"},
                new String[] {"mount", "--help"},
                new String[] {"mount", "-o", "x", "--", "m"},
                new String[] {"mount", "-o", "x", "-", "m"},
                new String[] {"mount", "--lower", "x", "m"},
                new String[] {"umount", "m"},
                new String[] {"mount"});
        for (String[] args : other) {
            assertTrue(Main.plainMount(args, host, dir).isEmpty(), List.of(args).toString());
        }
    }

    @Test
    void plainMount_errorsAsThroughPicocli() {
        // the same one-line error and exit code as the option-parsing path (there --debug makes it a picocli line)
        int code = run("mount", "-o", "lowerdir=" + dir.resolve("missing"), "m");
        String fast = err.toString();
        err.getBuffer().setLength(0);
        int slow = run("mount", "-o", "lowerdir=" + dir.resolve("missing"), "--volatile", "m");

        assertEquals(slow, code);
        assertEquals(err.toString(), fast);
        assertTrue(fast.startsWith("layerfs: "), fast);
    }

    @Test
    void withImplicitMount_onlyForTheFuseOverlayfsForm() {
        Set<String> commands = Set.of("mount", "umount");

        assertArrayEquals(new String[] {"mount", "-o", "x", "m"},
                Main.withImplicitMount(new String[] {"-o", "x", "m"}, commands));
        assertArrayEquals(new String[] {"--help", "-o"}, Main.withImplicitMount(new String[] {"--help", "-o"}, commands));
        assertArrayEquals(new String[] {"umount", "-o"}, Main.withImplicitMount(new String[] {"umount", "-o"}, commands));
        assertArrayEquals(new String[] {"mout", "--", "-o"},
                Main.withImplicitMount(new String[] {"mout", "--", "-o"}, commands));
    }

    @Test
    void mistypedCommand_isUsage_withSuggestion() {
        assertEquals(ExitCode.USAGE.code, run("mout", "/m"));
        assertTrue(err.toString().contains("Did you mean: layerfs mount"), err.toString());
    }

    @Test
    void umount_notMounted() throws IOException {
        Path m = Files.createDirectories(dir.resolve("m")).toRealPath();

        assertEquals(ExitCode.NOT_MOUNTED.code, run("umount", "m"));
        assertEquals(List.of("layerfs: " + m + " is not mounted"), errLines());
    }

    @Test
    void umount_missingDirectory() {
        assertEquals(ExitCode.BAD_MOUNTPOINT.code, run("umount", "gone"));
        assertEquals(List.of("layerfs: " + dir.resolve("gone") + " does not exist"), errLines());
    }

    @Test
    void umount_refusesANonFuseMount() throws IOException {
        Path m = Files.createDirectories(dir.resolve("m")).toRealPath();
        host.mounted(m, "ext4");

        assertEquals(ExitCode.BAD_MOUNTPOINT.code, run("umount", "m"));
        assertEquals("layerfs: " + m + " is not a FUSE mount (type ext4)", errLines().get(0));
    }
}
