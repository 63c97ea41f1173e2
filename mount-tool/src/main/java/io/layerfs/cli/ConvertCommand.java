package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.Callable;

import io.layerfs.inspect.Converter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerfs convert --to FORM SRC DST}: a copy of a layer in another marker encoding ({@link Converter}). */
@Command(name = "convert", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {
            "Copies the layer directory SRC to DST, rewriting its whiteouts and opaque directories in one "
                    + "encoding, so that a layer made by one tool mounts correctly under another:",
            "  kernel     0/0 character devices and trusted.overlay.opaque=y (kernel overlayfs)",
            "  userxattr  0/0 character devices and user.overlay.opaque=y (kernel overlayfs -o userxattr)",
            "  oci        .wh.NAME and .wh..wh..opq files (OCI layer tars)",
            "",
            "SRC is read as layerfs reads it; markers layerfs ignores are dropped with a warning, and "
                    + "overlay bookkeeping xattrs (origin, impure, ...) are left out. DST must not exist; it "
                    + "appears complete or not at all. The kernel forms need root.",
            "",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  layerfs convert --to kernel ./extracted-layer /var/lib/layers/l1",
            "  layerfs convert --to userxattr /c/upper /tmp/upper-user",
            "",
        })
final class ConvertCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--to", paramLabel = "FORM", required = true,
            description = "kernel, userxattr or oci.")
    String to;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Parameters(index = "0", paramLabel = "SRC", description = "The layer directory to convert.")
    String source;

    @Parameters(index = "1", paramLabel = "DST", description = "Where the converted copy goes; must not exist.")
    String target;

    private final Path cwd;

    ConvertCommand(Path cwd) {
        this.cwd = cwd;
    }

    @Override
    public Integer call() throws CliException {
        Converter.Form form;
        try {
            form = Converter.Form.byId(to);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, e.getMessage());
        }
        Path src = StackOptions.path(cwd, source);
        Path dst = StackOptions.path(cwd, target);
        Converter.Result r;
        try {
            r = Converter.convert(src, dst, form);
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_LAYER, e.getFile() + " does not exist");
        } catch (NotDirectoryException e) {
            throw new CliException(ExitCode.BAD_LAYER, e.getFile() + " is not a directory");
        } catch (FileAlreadyExistsException e) {
            throw new CliException(ExitCode.USAGE, e.getFile() + " already exists",
                    "convert writes a new directory; remove it or choose another DST");
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "cannot convert " + src + ": " + Preflight.reason(e));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (json) {
            Map<String, Object> m = InspectJson.object();
            m.put("source", src.toString());
            m.put("target", dst.toString());
            m.put("form", form.id());
            m.put("objects", r.objects());
            m.put("whiteouts", r.whiteouts());
            m.put("opaque", r.opaque());
            m.put("droppedXattrs", new ArrayList<Object>(r.droppedXattrs()));
            m.put("warnings", new ArrayList<Object>(r.warnings()));
            ImageCommand.printJson(out, m);
        } else {
            for (String w : r.warnings()) {
                err.println("layerfs: warning: " + w);
            }
            out.println("converted " + src + " to " + dst + " (" + form.id() + " form): " + r.objects() + " objects, "
                    + r.whiteouts() + " whiteouts, " + r.opaque() + " opaque directories");
            if (!r.droppedXattrs().isEmpty()) {
                out.println("left out overlay bookkeeping xattrs: " + String.join(", ", r.droppedXattrs()));
            }
        }
        out.flush();
        err.flush();
        return ExitCode.OK.code;
    }
}
