package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.layerfs.store.Changes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerfs diff NAME}: like docker diff, read from the container's upper directory. */
@Command(name = "diff", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Lists what a container changed against its image: A added, C changed, D deleted.")
final class DiffCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;
    @Mixin
    StoreOptions store;
    @Parameters(paramLabel = "NAME", description = "The container.")
    String name;
    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws CliException {
        PrintWriter out = spec.commandLine().getOut();
        try {
            List<Changes.Change> changes = store.open(ImageCommand.cwd()).diff(name);
            if (json) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (Changes.Change c : changes) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("kind", String.valueOf(c.kind()));
                    m.put("path", c.path());
                    rows.add(m);
                }
                ImageCommand.printJson(out, rows);
            } else {
                for (Changes.Change c : changes) {
                    out.println(c.kind() + " " + c.path());
                }
            }
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        return ExitCode.OK.code;
    }
}
