package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.layerfs.store.LayerStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code layerfs df}: like docker system df -v. */
@Command(name = "df", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Shows the space images, layers and containers take (shared vs unique per image).")
final class DfCommand implements Callable<Integer> {
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
            LayerStore.Usage u = store.open(ImageCommand.cwd()).df();
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                List<Map<String, Object>> images = new ArrayList<>();
                for (LayerStore.ImageUsage i : u.images()) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("id", i.id().toString());
                    r.put("tags", i.tags());
                    r.put("size", i.size());
                    r.put("shared", i.shared());
                    r.put("unique", i.unique());
                    r.put("containers", i.containers());
                    images.add(r);
                }
                List<Map<String, Object>> layers = new ArrayList<>();
                for (LayerStore.LayerUsage l : u.layers()) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("chainId", l.chainId().toString());
                    r.put("size", l.size());
                    r.put("diskBytes", l.diskBytes());
                    r.put("images", l.images());
                    layers.add(r);
                }
                List<Map<String, Object>> containers = new ArrayList<>();
                for (LayerStore.ContainerUsage c : u.containers()) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("name", c.name());
                    r.put("image", c.image().toString());
                    r.put("upperBytes", c.upperBytes());
                    containers.add(r);
                }
                m.put("images", images);
                m.put("layers", layers);
                m.put("containers", containers);
                ImageCommand.printJson(out, m);
            } else {
                out.println("Images:");
                out.printf("%-12s  %-30s  %12s  %12s  %12s  %10s%n", "IMAGE ID", "TAGS", "SIZE", "SHARED", "UNIQUE",
                        "CONTAINERS");
                for (LayerStore.ImageUsage i : u.images()) {
                    out.printf("%-12s  %-30s  %12d  %12d  %12d  %10d%n", i.id().shortHex(),
                            i.tags().isEmpty() ? "<none>" : String.join(",", i.tags()), i.size(), i.shared(),
                            i.unique(), i.containers());
                }
                out.println();
                out.println("Layers:");
                out.printf("%-12s  %12s  %12s  %6s%n", "CHAIN ID", "SIZE", "ON DISK", "IMAGES");
                for (LayerStore.LayerUsage l : u.layers()) {
                    out.printf("%-12s  %12d  %12d  %6d%n", l.chainId().shortHex(), l.size(), l.diskBytes(), l.images());
                }
                out.println();
                out.println("Containers:");
                out.printf("%-20s  %-12s  %12s%n", "NAME", "IMAGE", "UPPER");
                for (LayerStore.ContainerUsage c : u.containers()) {
                    out.printf("%-20s  %-12s  %12d%n", c.name(), c.image().shortHex(), c.upperBytes());
                }
            }
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        return ExitCode.OK.code;
    }
}
