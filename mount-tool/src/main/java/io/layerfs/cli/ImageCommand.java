package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import io.layerfs.store.ImportProgress;
import io.layerfs.store.LayerStore;
import io.layerfs.sys.Sys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code layerfs image import|ls|export|history|rm}. */
@Command(name = "image", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Imports and lists images in the store.",
        subcommands = {ImageCommand.Import.class, ImageCommand.Ls.class, ImageCommand.Export.class,
            ImageCommand.History.class, ImageCommand.Rm.class})
final class ImageCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: use 'layerfs image import|ls|export|history|rm'");
    }

    static Path cwd() {
        return Path.of("").toAbsolutePath();
    }

    static void printJson(PrintWriter out, Object value) {
        out.println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(value));
    }

    @Command(name = "import", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Imports an OCI image layout directory, an OCI archive or a docker save tarball.",
                "Every blob is checked against its digest and every layer against the config's diff_ids "
                        + "before it is stored; a layer already stored is not stored again."})
    static final class Import implements Callable<Integer> {
        @Spec
        private CommandSpec spec;
        @Mixin
        StoreOptions store;
        @Parameters(paramLabel = "PATH", description = "OCI layout directory, OCI archive or docker save tarball.")
        Path path;
        @Option(names = "--tag", paramLabel = "NAME", description = "Name the image (default: the name in the archive).")
        String tag;
        @Option(names = "--max-layer-size", paramLabel = "BYTES",
                description = "Refuse a layer larger than this, uncompressed (default: 64 GiB).")
        long maxLayerBytes = LayerStore.DEFAULT_MAX_LAYER_BYTES;
        @Option(names = {"-q", "--quiet"}, description = "No progress bar (there is none unless stderr is a terminal).")
        boolean quiet;

        @Override
        public Integer call() throws CliException {
            LayerStore s = store.open(cwd());
            ImportProgress progress = quiet || !stderrIsTerminal() ? ImportProgress.NONE
                    : new ProgressBar(spec.commandLine().getErr(), System::nanoTime);
            try {
                LayerStore.ImportResult r = s.importImage(cwd().resolve(path), tag, maxLayerBytes, progress);
                spec.commandLine().getOut().println(r.id() + (r.tag() == null ? "" : " " + r.tag())
                        + " (" + r.layers().size() + " layers, " + r.newLayers() + " new)");
            } catch (IOException e) {
                throw StoreOptions.failure(e);
            }
            return ExitCode.OK.code;
        }
    }

    /** Whether file descriptor 2 is a terminal: the progress bar is for people, never for logs or pipes. */
    static boolean stderrIsTerminal() {
        try {
            return Sys.get().isatty(2);
        } catch (LinkageError e) {
            return false; // no native binding: no bar
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Lists the images.")
    static final class Ls implements Callable<Integer> {
        @Spec
        private CommandSpec spec;
        @Mixin
        StoreOptions store;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws CliException {
            PrintWriter out = spec.commandLine().getOut();
            try {
                List<LayerStore.ImageInfo> images = store.open(cwd()).images();
                if (json) {
                    List<Map<String, Object>> rows = new ArrayList<>();
                    for (LayerStore.ImageInfo i : images) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("id", i.id().toString());
                        m.put("tags", i.tags());
                        m.put("layers", i.layers().stream().map(Object::toString).toList());
                        m.put("size", i.size());
                        m.put("created", i.created());
                        rows.add(m);
                    }
                    printJson(out, rows);
                } else {
                    out.printf("%-12s  %-40s  %6s  %12s%n", "IMAGE ID", "TAGS", "LAYERS", "SIZE");
                    for (LayerStore.ImageInfo i : images) {
                        out.printf("%-12s  %-40s  %6d  %12d%n", i.id().shortHex(),
                                i.tags().isEmpty() ? "<none>" : String.join(",", i.tags()), i.layers().size(), i.size());
                    }
                }
            } catch (IOException e) {
                throw StoreOptions.failure(e);
            }
            return ExitCode.OK.code;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Writes an image as an OCI layout directory, or as a docker save archive when the name "
                    + "ends in .tar (podman load, skopeo copy docker-archive:).",
                "Config and layers are the stored bytes: the image keeps its ID."})
    static final class Export implements Callable<Integer> {
        @Mixin
        StoreOptions store;
        @Parameters(index = "0", paramLabel = "IMAGE", description = "Image name or ID.")
        String image;
        @Parameters(index = "1", paramLabel = "DIR|FILE.tar", description = "Where to write it (must not exist).")
        Path target;
        @Option(names = "--format", paramLabel = "oci|docker",
                description = "oci: a layout directory (or an OCI archive for FILE.tar); docker: a docker save archive.")
        String format;

        @Override
        public Integer call() throws CliException {
            try {
                Path t = cwd().resolve(target);
                store.open(cwd()).export(image, t, io.layerfs.store.ImageExporter.formatFor(t, format));
            } catch (IOException e) {
                throw StoreOptions.failure(e);
            }
            return ExitCode.OK.code;
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Shows how an image was built, newest step first: layer, size, created by.")
    static final class History implements Callable<Integer> {
        @Spec
        private CommandSpec spec;
        @Mixin
        StoreOptions store;
        @Parameters(paramLabel = "IMAGE", description = "Image name or ID.")
        String image;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws CliException {
            PrintWriter out = spec.commandLine().getOut();
            try {
                List<LayerStore.HistoryEntry> rows = store.open(cwd()).history(image);
                if (json) {
                    List<Map<String, Object>> list = new ArrayList<>();
                    for (LayerStore.HistoryEntry h : rows) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("layer", h.layer() == null ? null : h.layer().toString());
                        m.put("size", h.size());
                        m.put("created", h.created());
                        m.put("createdBy", h.createdBy());
                        m.put("comment", h.comment());
                        list.add(m);
                    }
                    printJson(out, list);
                } else {
                    out.printf("%-12s  %-25s  %12s  %s%n", "LAYER", "CREATED", "SIZE", "CREATED BY");
                    for (LayerStore.HistoryEntry h : rows) {
                        String by = h.createdBy() == null ? "" : h.createdBy();
                        out.printf("%-12s  %-25s  %12d  %s%n", h.layer() == null ? "<missing>" : h.layer().shortHex(),
                                h.created() == null ? "" : h.created(), h.size(), by.length() > 60 ? by.substring(0, 57) + "..." : by);
                    }
                }
            } catch (IOException e) {
                throw StoreOptions.failure(e);
            }
            return ExitCode.OK.code;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Removes an image name, or the image when it is its last name or an ID.",
                "Refused while a container uses the image; its layers go at the next 'layerfs gc'."})
    static final class Rm implements Callable<Integer> {
        @Spec
        private CommandSpec spec;
        @Mixin
        StoreOptions store;
        @Parameters(paramLabel = "IMAGE", arity = "1..*", description = "Image names or IDs.")
        List<String> images;

        @Override
        public Integer call() throws CliException {
            try {
                LayerStore s = store.open(cwd());
                for (String i : images) {
                    spec.commandLine().getOut().println(s.removeImage(i));
                }
            } catch (IOException e) {
                throw StoreOptions.failure(e);
            }
            return ExitCode.OK.code;
        }
    }
}
