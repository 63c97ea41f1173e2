package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import io.layerfs.store.Digest;
import io.layerfs.store.LayerStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code layerfs gc}. */
@Command(name = "gc", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Removes the layers that no image and no container uses.")
final class GcCommand implements Callable<Integer> {
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
            LayerStore.GcResult r = store.open(ImageCommand.cwd()).gc();
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("removedLayers", r.removedLayers().stream().map(Digest::toString).toList());
                m.put("bytes", r.bytes());
                ImageCommand.printJson(out, m);
            } else {
                for (Digest d : r.removedLayers()) {
                    out.println("removed layer " + d);
                }
                out.println(r.removedLayers().size() + " layers removed, " + r.bytes() + " bytes freed");
            }
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        return ExitCode.OK.code;
    }
}
