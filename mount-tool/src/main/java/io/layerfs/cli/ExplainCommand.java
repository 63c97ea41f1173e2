package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.layerfs.inspect.Cause;
import io.layerfs.inspect.Explanation;
import io.layerfs.inspect.LayerRef;
import io.layerfs.inspect.LayerStack;
import io.layerfs.inspect.Marker;
import io.layerfs.inspect.ObjectInfo;
import io.layerfs.inspect.Step;
import io.layerfs.inspect.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerfs explain PATH}: which layer supplies PATH, what it shadows, and if it is hidden,
 * which marker hides it ({@link LayerStack#explain}). Prints; the analysis is io.layerfs.inspect's.
 */
@Command(name = "explain", mixinStandardHelpOptions = true, versionProvider = io.layerfs.cli.Version.class, sortOptions = false,
        description = {
            "Explains why PATH is visible or hidden in a union: the layer that supplies it and its attributes "
                    + "there, every lower version it shadows, and if it is hidden, the whiteout or opaque "
                    + "directory that hides it (layer, marker path, encoding). Ancestor directories that "
                    + "matter are explained too.",
            "",
            "PATH is a path inside the union (/etc/passwd). The layers are read as plain directories; "
                    + "nothing is mounted or changed.",
            "",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  layerfs explain /etc/motd --lower /img/top --lower /img/base --upper /c/upper",
            "  layerfs explain /etc/motd --mount /c/merged",
            "  layerfs explain /etc/motd --mount /c/merged --rules kernel --json",
            "",
        })
final class ExplainCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    StackOptions stack = new StackOptions();

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Parameters(paramLabel = "PATH", description = "A path inside the union.")
    String path;

    private final Host host;
    private final Path cwd;

    ExplainCommand(Host host, Path cwd) {
        this.host = host;
        this.cwd = cwd;
    }

    @Override
    public Integer call() throws CliException {
        StackOptions.Resolved resolved = stack.resolve(host, cwd, List.of());
        LayerStack layers = resolved.open();
        String p = unionPath();
        Explanation e;
        try {
            e = layers.explain(p);
        } catch (IllegalArgumentException bad) {
            throw new CliException(ExitCode.USAGE, "bad path " + p + ": " + bad.getMessage());
        } catch (IOException io) {
            throw new CliException(ExitCode.BAD_LAYER, "cannot read the layers: " + Preflight.reason(io));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ImageCommand.printJson(out, json(e, layers, resolved));
        } else {
            text(out, e, layers, resolved);
        }
        out.flush();
        return ExitCode.OK.code;
    }

    /** PATH inside the union; with --mount, a path given through the mount point is taken as inside it. */
    private String unionPath() {
        if (stack.mount != null && path.startsWith("/")) {
            String merged = cwd.resolve(stack.mount).normalize().toString();
            if (path.equals(merged) || path.startsWith(merged + "/")) {
                return path.substring(merged.length());
            }
        }
        return path;
    }

    // ---- text ---------------------------------------------------------------------------------------

    static void text(PrintWriter out, Explanation e, LayerStack layers, StackOptions.Resolved resolved) {
        Step t = e.target();
        out.println(headline(t));
        Version shown = t.shown();
        if (shown != null) {
            out.println("  " + shown.object().summary() + ", modified "
                    + shown.object().mtime().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "  "
                    + shown.layer().resolve(rel(t.path())));
        }
        List<Step> ancestors = e.ancestorsThatMatter();
        if (!ancestors.isEmpty()) {
            out.println();
            out.println("Ancestors that matter:");
            for (Step a : ancestors) {
                out.println("  " + a.path() + "  " + ancestorSummary(a));
            }
        }
        if (!t.versions().isEmpty()) {
            out.println();
            out.println("In each layer, top first:");
            int width = 0;
            for (LayerRef l : layers.layers()) {
                width = Math.max(width, l.name().length());
            }
            for (Version v : t.versions()) {
                out.println("  " + pad(v.layer().name(), width) + "  " + versionSummary(v, t.path()));
                out.println("  " + pad("", width) + "  " + status(v, t));
            }
        }
        List<String> ignored = new ArrayList<>();
        for (Step a : ancestors) {
            for (String line : ignoredLines(a)) {
                ignored.add(a.path() + ": " + line);
            }
        }
        ignored.addAll(ignoredLines(t));
        if (!ignored.isEmpty()) {
            out.println();
            out.println("Markers " + readerName(e) + " ignores here:");
            for (String line : ignored) {
                out.println("  " + line);
            }
        }
        out.println();
        out.println("Layers (" + readerName(e) + " rules; from " + resolved.source() + "):");
        int width = 0;
        for (LayerRef l : layers.layers()) {
            width = Math.max(width, l.name().length());
        }
        for (int i = 0; i < layers.layers().size(); i++) {
            LayerRef l = layers.layers().get(i);
            out.println(("  " + pad(l.name(), width) + "  " + l.root() + "  " + resolved.label(i)).stripTrailing());
        }
        for (String n : resolved.notes()) {
            out.println("Note: " + n);
        }
    }

    private static String readerName(Explanation e) {
        switch (e.rules()) {
            case KERNEL: return "kernel overlayfs";
            case KERNEL_USERXATTR: return "kernel overlayfs (userxattr)";
            default: return "layerfs";
        }
    }

    static String headline(Step t) {
        if (t.visible()) {
            Version shown = t.shown();
            if (shown.object().isDirectory()) {
                StringBuilder b = new StringBuilder(t.path() + " is visible: a directory from " + t.supplier().name());
                if (t.merged().size() > 1) {
                    b.append(", merged with ").append(String.join(", ", names(t.merged().subList(1, t.merged().size()))));
                }
                if (t.stop() != null && t.stop().kind() != Cause.Kind.SHADOWED) {
                    b.append("; ").append(stopText(t.stop()));
                }
                return b.toString();
            }
            String shadows = t.versions().size() > 1 ? ", shadowing what is below" : "";
            return t.path() + " is visible: " + t.supplier().name() + " supplies it" + shadows;
        }
        if (t.hiddenBy() != null) {
            return t.path() + " is hidden: " + t.hiddenBy().describe(t.path());
        }
        return t.path() + " is not in any layer";
    }

    private static String ancestorSummary(Step a) {
        if (!a.visible()) {
            return a.hiddenBy() == null ? "not in any layer" : "hidden: " + a.hiddenBy().describe(a.path());
        }
        ObjectInfo o = a.shown().object();
        if (!o.isDirectory()) {
            return o.noun() + (o.linkTarget() != null ? " -> " + o.linkTarget() : "") + " from " + a.supplier().name()
                    + ", so nothing below it shows";
        }
        StringBuilder b = new StringBuilder("directory from " + a.supplier().name());
        if (a.merged().size() > 1) {
            b.append(", merged with ").append(String.join(", ", names(a.merged().subList(1, a.merged().size()))));
        }
        if (a.stop() != null) {
            b.append("; ").append(stopText(a.stop()));
        }
        return b.toString();
    }

    /** What ends the search at a visible directory. */
    private static String stopText(Cause c) {
        switch (c.kind()) {
            case OPAQUE:
                return "opaque in " + c.layer().name() + " (" + Cause.markerText(c.marker(), c.layer())
                        + "), so the layers below do not merge into it";
            case WHITEOUT:
                return "the merge stops at the whiteout in " + c.layer().name() + " ("
                        + c.marker().encoding().description() + " " + c.layer().resolve(c.marker().markerPath()) + ")";
            case MERGE_ENDED:
                return "the merge stops at " + c.layer().name() + ", which has a " + c.object().noun() + " there";
            default:
                return c.describe(c.at());
        }
    }

    private static String versionSummary(Version v, String path) {
        if (v.isWhiteout()) {
            Marker m = v.whiteout();
            return "whiteout (" + m.encoding().description() + ")  " + v.layer().resolve(m.markerPath());
        }
        StringBuilder b = new StringBuilder(v.object().summary() + "  " + v.layer().resolve(rel(path)));
        for (Marker m : v.opaque()) {
            b.append("  [opaque: ").append(m.encoding().description()).append(']');
        }
        return b.toString();
    }

    private static String status(Version v, Step t) {
        switch (v.status()) {
            case SUPPLIES:
                return v.object().isDirectory() && t.merged().size() > 1
                        ? "shown; the directories below merge into it" : "shown";
            case MERGED:
                return "merged into the directory shown";
            case HIDES:
                return "hides the name in the layers below";
            default:
                return v.cause() == null ? "hidden" : "hidden: " + v.cause().describe(t.path());
        }
    }

    private static List<String> ignoredLines(Step t) {
        List<String> out = new ArrayList<>();
        for (Version v : t.versions()) {
            for (Marker m : v.ignored()) {
                out.add(v.layer().name() + "  " + v.layer().resolve(m.markerPath()) + " (" + m.encoding().description()
                        + "): " + m.note());
            }
        }
        for (Step.Ignored i : t.ignored()) {
            out.add(i.layer().name() + "  " + i.layer().resolve(i.marker().markerPath()) + " ("
                    + i.marker().encoding().description() + "): " + i.marker().note());
        }
        return out;
    }

    private static List<String> names(List<LayerRef> layers) {
        List<String> out = new ArrayList<>();
        for (LayerRef l : layers) {
            out.add(l.name());
        }
        return out;
    }

    private static String rel(String unionPath) {
        return unionPath.equals("/") ? "." : unionPath.substring(1);
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.length()));
    }

    // ---- JSON ---------------------------------------------------------------------------------------

    static Map<String, Object> json(Explanation e, LayerStack layers, StackOptions.Resolved resolved) {
        Map<String, Object> m = InspectJson.object();
        m.put("path", e.path());
        m.put("rules", e.rules().id());
        m.put("source", resolved.source());
        List<Object> layerList = InspectJson.layers(layers.layers());
        for (int i = 0; i < layerList.size(); i++) {
            if (!resolved.label(i).isEmpty()) {
                @SuppressWarnings("unchecked")
                Map<String, Object> lm = (Map<String, Object>) layerList.get(i);
                lm.put("label", resolved.label(i));
            }
        }
        m.put("layers", layerList);
        m.putAll(step(e.target()));
        List<Object> ancestors = new ArrayList<>();
        for (Step a : e.ancestors()) {
            Map<String, Object> s = step(a);
            s.put("matters", e.matters(a));
            ancestors.add(s);
        }
        m.put("ancestors", ancestors);
        m.put("notes", new ArrayList<Object>(resolved.notes()));
        return m;
    }

    private static Map<String, Object> step(Step s) {
        Map<String, Object> m = InspectJson.object();
        m.put("path", s.path());
        m.put("visible", s.visible());
        m.put("supplier", s.supplier() == null ? null : s.supplier().name());
        m.put("object", s.shown() == null ? null : InspectJson.object(s.shown().object()));
        m.put("merged", InspectJson.names(s.merged()));
        m.put("hiddenBy", InspectJson.cause(s.hiddenBy(), s.path()));
        m.put("stop", InspectJson.cause(s.stop(), s.path()));
        List<Object> versions = new ArrayList<>();
        for (Version v : s.versions()) {
            Map<String, Object> vm = InspectJson.object();
            vm.put("layer", v.layer().name());
            vm.put("status", v.status().name().toLowerCase());
            vm.put("hostPath", v.layer().resolve(v.isWhiteout() ? v.whiteout().markerPath() : rel(s.path())).toString());
            vm.put("object", InspectJson.object(v.object()));
            vm.put("whiteout", v.whiteout() == null ? null : InspectJson.marker(v.whiteout(), v.layer()));
            vm.put("opaque", InspectJson.markers(v.opaque(), v.layer()));
            vm.put("ignored", InspectJson.markers(v.ignored(), v.layer()));
            vm.put("cause", InspectJson.cause(v.cause(), s.path()));
            versions.add(vm);
        }
        m.put("versions", versions);
        List<Object> ignored = new ArrayList<>();
        for (Step.Ignored i : s.ignored()) {
            Map<String, Object> im = InspectJson.marker(i.marker(), i.layer());
            im.put("layer", i.layer().name());
            ignored.add(im);
        }
        m.put("ignored", ignored);
        return m;
    }
}
