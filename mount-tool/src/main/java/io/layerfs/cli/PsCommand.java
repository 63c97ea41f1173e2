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

/** {@code layerfs ps}. */
@Command(name = "ps", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Lists the containers.")
final class PsCommand implements Callable<Integer> {
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
            List<LayerStore.ContainerInfo> cs = store.open(ImageCommand.cwd()).containers();
            if (json) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (LayerStore.ContainerInfo c : cs) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", c.name());
                    m.put("image", c.image().toString());
                    m.put("created", c.created());
                    rows.add(m);
                }
                ImageCommand.printJson(out, rows);
            } else {
                out.printf("%-24s  %-12s  %s%n", "NAME", "IMAGE ID", "CREATED");
                for (LayerStore.ContainerInfo c : cs) {
                    out.printf("%-24s  %-12s  %s%n", c.name(), c.image().shortHex(), c.created());
                }
            }
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        return ExitCode.OK.code;
    }
}
