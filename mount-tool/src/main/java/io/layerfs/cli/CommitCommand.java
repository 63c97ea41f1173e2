package io.layerfs.cli;

import java.io.IOException;
import java.util.concurrent.Callable;

import io.layerfs.store.LayerStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerfs commit NAME --tag NEW}. */
@Command(name = "commit", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Stores a container's changes as a new layer and a new image on top of its image.",
            "The layer tar is deterministic: the same upper gives the same digest. Unmount first for a "
                    + "consistent snapshot."})
final class CommitCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;
    @Mixin
    StoreOptions store;
    @Parameters(paramLabel = "NAME", description = "The container.")
    String name;
    @Option(names = "--tag", paramLabel = "NEW", description = "Name the new image.")
    String tag;
    @Option(names = {"-m", "--message"}, paramLabel = "TEXT", description = "A comment for the image history.")
    String message;

    @Override
    public Integer call() throws CliException {
        try {
            LayerStore.ImportResult r = store.open(ImageCommand.cwd()).commit(name, tag, message);
            spec.commandLine().getOut().println(r.id() + (r.tag() == null ? "" : " " + r.tag()));
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        return ExitCode.OK.code;
    }
}
