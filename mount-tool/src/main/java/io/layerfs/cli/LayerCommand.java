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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code layerfs layer ls}. */
@Command(name = "layer", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Lists the layers in the store.", subcommands = {LayerCommand.Ls.class})
final class LayerCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: use 'layerfs layer ls'");
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Lists the layers, each stored once under its chain ID.")
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
                List<LayerStore.LayerInfo> layers = store.open(ImageCommand.cwd()).layers();
                if (json) {
                    List<Map<String, Object>> rows = new ArrayList<>();
                    for (LayerStore.LayerInfo l : layers) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("chainId", l.chainId().toString());
                        m.put("diffId", l.diffId().toString());
                        m.put("parent", l.parent() == null ? null : l.parent().toString());
                        m.put("size", l.size());
                        m.put("created", l.created());
                        rows.add(m);
                    }
                    ImageCommand.printJson(out, rows);
                } else {
                    out.printf("%-12s  %-12s  %-12s  %12s%n", "CHAIN ID", "DIFF ID", "PARENT", "SIZE");
                    for (LayerStore.LayerInfo l : layers) {
                        out.printf("%-12s  %-12s  %-12s  %12d%n", l.chainId().shortHex(), l.diffId().shortHex(),
                                l.parent() == null ? "-" : l.parent().shortHex(), l.size());
                    }
                }
            } catch (IOException e) {
                throw StoreOptions.failure(e);
            }
            return ExitCode.OK.code;
        }
    }
}
