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

/** {@code layerfs create IMAGE --name NAME}. */
@Command(name = "create", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Creates a container: an empty upper and work directory over IMAGE's layers. "
                + "Mount it with 'layerfs mount --container NAME MERGED'.")
final class CreateCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;
    @Mixin
    StoreOptions store;
    @Parameters(paramLabel = "IMAGE", description = "Image name or ID.")
    String image;
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The container's name.")
    String name;

    @Override
    public Integer call() throws CliException {
        try {
            LayerStore.ContainerInfo c = store.open(ImageCommand.cwd()).create(image, name);
            spec.commandLine().getOut().println(c.name());
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        return ExitCode.OK.code;
    }
}
