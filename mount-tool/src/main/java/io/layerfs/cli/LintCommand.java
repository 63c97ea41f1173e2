package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import io.layerfs.inspect.Finding;
import io.layerfs.inspect.LayerRef;
import io.layerfs.inspect.LayerStack;
import io.layerfs.inspect.Lint;
import io.layerfs.inspect.Rules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerfs lint SOURCE...}: the problems {@link Lint} finds in a stack of layers (directories, or
 * tars when every SOURCE is a file), and in a workdir.
 */
@Command(name = "lint", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {
            "Finds problems in layer directories or layer tars that bite users, each with a short "
                    + "explanation: whiteouts that hide nothing, whiteouts inside an opaque directory, mixed "
                    + "encodings in one layer, .wh..wh..opq files that kernel overlayfs shows as ordinary "
                    + "files, .wh. entries beside the name they white out, bare .wh. and aufs .wh..wh.* "
                    + "names, opaque markers on non-directories, ignored xattr whiteouts, leftovers in a "
                    + "workdir (--work), and files identical to the lower file they shadow (with the bytes "
                    + "wasted).",
            "",
            "SOURCE... are layer directories, or layer tars (plain, gzip, bzip2 or zstd), highest first "
                    + "(the order of lowerdir=), like --lower. Checks that need the layers below a layer "
                    + "skip the lowest one. In a tar, .wh..wh..opq is the format's opaque marker, and any "
                    + "marker that is not a .wh. entry (a 0/0 device, an overlay xattr) is a finding.",
            "",
            "Exit status 0: nothing found; 1: findings were printed.",
            "",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  layerfs lint /img/top /img/base --upper /c/upper --work /c/work",
            "  layerfs lint --mount /c/merged --json",
            "  layerfs lint top.tar.gz mid.tar base.tar.zst",
            "",
        })
final class LintCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    StackOptions stack = new StackOptions();

    @Option(names = "--work", paramLabel = "DIR",
            description = "Also check this workdir for leftovers (skipped for a live --mount: its "
                    + "workdir is in use).")
    String work;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Parameters(paramLabel = "SOURCE", arity = "0..*", description = "Layer directories or layer tars, highest first.")
    List<String> sources = new ArrayList<>();

    private final Host host;
    private final Path cwd;

    LintCommand(Host host, Path cwd) {
        this.host = host;
        this.cwd = cwd;
    }

    @Override
    public Integer call() throws CliException {
        List<Path> tars = tars();
        StackOptions.Resolved resolved = tars == null ? stack.resolve(host, cwd, sources)
                : new StackOptions.Resolved(tars, null, null, Rules.LAYERFS, "layer tars", List.of());
        LayerStack layers = tars == null ? resolved.open() : openTars(tars);
        List<Finding> findings;
        try {
            findings = new ArrayList<>(Lint.check(layers));
            if (work != null) {
                findings.addAll(Lint.checkWorkdir(StackOptions.path(cwd, work)));
            }
        } catch (NotDirectoryException e) {
            throw new CliException(ExitCode.BAD_LAYER, e.getFile() + " is not a directory");
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_LAYER, "cannot read the layers: " + Preflight.reason(e));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ImageCommand.printJson(out, json(findings, layers));
        } else {
            text(out, findings, layers, resolved);
        }
        out.flush();
        return findings.isEmpty() ? ExitCode.OK.code : ExitCode.FINDINGS.code;
    }

    /** The SOURCEs as layer tars, if they are files; null if they are directories (or none are given). */
    private List<Path> tars() throws CliException {
        List<Path> files = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        for (String s : sources) {
            Path p = StackOptions.path(cwd, s);
            (Files.isRegularFile(p) ? files : dirs).add(p);
        }
        if (files.isEmpty()) {
            return null;
        }
        if (!dirs.isEmpty()) {
            throw new CliException(ExitCode.USAGE, "give layer tars or layer directories, not both",
                    dirs.get(0) + " is not a file; " + files.get(0) + " is");
        }
        if (!stack.lowers.isEmpty() || stack.upper != null || stack.mount != null || stack.container != null
                || stack.image != null) {
            throw new CliException(ExitCode.USAGE, "layer tars are a stack of their own",
                    "give the tars alone, highest first, without --lower/--upper/--mount/--container/--image");
        }
        if (stack.rules != null && !stack.rules.equals(Rules.LAYERFS.id())) {
            throw new CliException(ExitCode.USAGE, "--rules does not apply to layer tars",
                    "a tar is read as the OCI image spec says");
        }
        return files;
    }

    private static LayerStack openTars(List<Path> tars) throws CliException {
        try {
            return LayerStack.ofTars(tars, Rules.LAYERFS);
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_LAYER, "layer " + e.getFile() + " does not exist");
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_LAYER, "cannot read the layer tars: " + Preflight.reason(e));
        }
    }

    private static void text(PrintWriter out, List<Finding> findings, LayerStack layers,
                             StackOptions.Resolved resolved) {
        for (String n : resolved.notes()) {
            out.println("Note: " + n);
        }
        if (findings.isEmpty()) {
            out.println("no problems found in " + layers.layers().size()
                    + (layers.layers().size() == 1 ? " layer" : " layers")
                    + (layers.layers().size() == 1 ? " (checks that need the layers below were skipped)" : ""));
            return;
        }
        LayerRef current = null;
        Set<Finding.Check> seen = new LinkedHashSet<>();
        long bytes = 0;
        for (Finding f : findings) {
            if (!f.layer().equals(current)) {
                current = f.layer();
                out.println(current.name() + "  " + current.root());
            }
            out.println("  " + f.path() + ": " + f.check().id() + ": " + f.message());
            seen.add(f.check());
            bytes += f.bytes();
        }
        out.println();
        out.println("Why these matter:");
        for (Finding.Check c : seen) {
            out.println("  " + c.id() + ": " + c.explanation());
        }
        out.println();
        out.println(findings.size() + (findings.size() == 1 ? " finding" : " findings")
                + (bytes > 0 ? "; " + bytes + " bytes wasted" : ""));
    }

    private static Map<String, Object> json(List<Finding> findings, LayerStack layers) {
        Map<String, Object> m = InspectJson.object();
        m.put("layers", InspectJson.layers(layers.layers()));
        List<Object> list = new ArrayList<>();
        Map<String, Object> checks = InspectJson.object();
        long bytes = 0;
        for (Finding f : findings) {
            Map<String, Object> fm = InspectJson.object();
            fm.put("check", f.check().id());
            fm.put("layer", f.layer().name());
            fm.put("layerPath", f.layer().root().toString());
            fm.put("path", f.path());
            fm.put("marker", f.markerPath());
            fm.put("message", f.message());
            fm.put("bytes", f.bytes());
            list.add(fm);
            checks.put(f.check().id(), f.check().explanation());
            bytes += f.bytes();
        }
        m.put("findings", list);
        m.put("checks", checks);
        m.put("bytesWasted", bytes);
        return m;
    }
}
