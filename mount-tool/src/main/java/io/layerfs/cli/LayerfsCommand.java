package io.layerfs.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code layerfs}: only dispatches; {@link Main} adds the subcommands. */
@Command(name = "layerfs", mixinStandardHelpOptions = true, versionProvider = Version.class,
        synopsisSubcommandLabel = "COMMAND",
        description = {
            "A union filesystem for container root filesystems: read-only image layers under one "
                    + "writable layer, with the semantics and on-disk format of Linux overlayfs, served "
                    + "through FUSE.",
            "",
            "Called without a command but with -o, as podman and buildah call a mount program "
                    + "(layerfs -o lowerdir=...,upperdir=...,workdir=... MERGED), it runs 'layerfs mount'.",
            "",
        },
        commandListHeading = "%nCommands:%n",
        footerHeading = "%nExamples:%n",
        footer = {
            "  layerfs mount -o lowerdir=/img/top:/img/base,upperdir=/c/up,workdir=/c/work \\",
            "      /c/merged",
            "  layerfs mount --lower /img/base /mnt/ro",
            "  layerfs -o lowerdir=l/top:l/base,upperdir=up,workdir=work merged   # podman",
            "  layerfs umount /c/merged",
            "  layerfs explain /etc/motd --mount /c/merged          # why visible or hidden",
            "  layerfs whiteouts /c/upper                           # every marker, encoding",
            "  layerfs lint /img/top /img/base --upper /c/up        # problems, exit 1 if any",
            "  layerfs convert --to kernel ./layer ./layer-kernel   # rewrite the markers",
            "  layerfs mount --help",
            "",
        })
final class LayerfsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "missing command: use 'layerfs mount', 'umount', 'explain', 'whiteouts', 'lint' or 'convert'");
    }
}
