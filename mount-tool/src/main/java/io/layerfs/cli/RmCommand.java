package io.layerfs.cli;

import java.io.IOException;
import java.util.concurrent.Callable;

import io.layerfs.store.LayerStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code layerfs rm NAME}. */
@Command(name = "rm", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Removes a container and its upper directory. Unmount it first.")
final class RmCommand implements Callable<Integer> {
    @Mixin
    StoreOptions store;
    @Parameters(paramLabel = "NAME", description = "The container.")
    String name;

    @Override
    public Integer call() throws CliException {
        try {
            LayerStore s = store.open(ImageCommand.cwd());
            s.remove(name);
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        return ExitCode.OK.code;
    }
}
