package io.layerfs.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code layerfs} command. The one place that exits, and the one place that turns failures
 * into output: {@code layerfs: <problem>} on one line of stderr, maybe a {@code hint:} line, and an
 * {@link ExitCode}. Commands throw {@link CliException}; anything else is a bug and says so.
 */
public final class Main {
    private static final Set<String> TOP_LEVEL_OPTIONS = Set.of("-h", "--help", "-V", "--version");
    /** Every name {@link #commandLine} answers to, aliases included (MainTest keeps the two equal). */
    static final Set<String> COMMAND_NAMES = Set.of("mount", "umount", "unmount", "image", "layer", "create", "ps",
            "rm", "diff", "commit", "gc", "df", "explain", "whiteouts", "lint", "convert", "help");
    static final String CWD_PROPERTY = "layerfs.cwd";

    private Main() {
    }

    public static void main(String[] args) {
        // The launcher script starts a detached server in "/" and names the caller's directory.
        int code = run(args, LinuxHost.INSTANCE, Path.of(System.getProperty(CWD_PROPERTY, "")).toAbsolutePath(),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs one command line; the cwd is where relative paths are resolved. */
    static int run(String[] args, Host host, Path cwd, PrintWriter out, PrintWriter err) {
        String[] full = withImplicitMount(args, COMMAND_NAMES);
        boolean mount = full.length > 0 && full[0].equals("mount");
        Optional<MountCommand> plain = mount ? plainMount(full, host, cwd) : Optional.empty();
        int code;
        if (plain.isPresent()) {
            code = runPlain(plain.get(), out, err);
        } else {
            CommandLine cli = mount ? mountCommandLine(host, cwd) : commandLine(host, cwd);
            cli.setOut(out);
            cli.setErr(err);
            code = cli.execute(full);
        }
        out.flush();
        err.flush();
        return code;
    }

    /**
     * podman and buildah run their mount program as they run fuse-overlayfs: no subcommand, just
     * {@code -o OPTIONS MERGED} in some order. Such a command line means {@code mount}. Only when
     * an {@code -o} is there, so that a mistyped command still gets "did you mean".
     */
    static String[] withImplicitMount(String[] args, Set<String> commands) {
        if (args.length == 0 || commands.contains(args[0]) || TOP_LEVEL_OPTIONS.contains(args[0])) {
            return args;
        }
        for (String a : args) {
            if (a.equals("--")) {
                break;
            }
            if (a.startsWith("-o")) {
                String[] mount = new String[args.length + 1];
                mount[0] = "mount";
                System.arraycopy(args, 0, mount, 1, args.length);
                return mount;
            }
        }
        return args;
    }

    /**
     * The start of a mount is the start of every podman container, and building the whole command
     * tree (picocli reflects over every subcommand's annotations) took longer than the mount itself.
     * A command line naming {@code mount} gets a tree of {@code layerfs} with only that subcommand,
     * which parses, helps and fails exactly as the full tree does for it.
     */
    static CommandLine mountCommandLine(Host host, Path cwd) {
        CommandLine cli = new CommandLine(new LayerfsCommand());
        cli.addSubcommand(new MountCommand(host, cwd));
        return configured(cli);
    }

    /**
     * The command line podman and buildah give a mount program, {@code mount -o OPTIONS [-o ...] MERGED}
     * and nothing else, read without picocli: building even the one-command tree kept the main
     * thread busy for about 0.15 s, and a mount was ready in 0.578 s with it against 0.487 s without
     * (medians of 8). Any other word (an option, help, a second or missing MERGED, a value that
     * looks like an option) gives empty, and picocli reads the line; MainTest checks that the two
     * readings agree.
     */
    static Optional<MountCommand> plainMount(String[] full, Host host, Path cwd) {
        if (full.length < 2 || !full[0].equals("mount")) {
            return Optional.empty();
        }
        List<String> options = new ArrayList<>();
        String merged = null;
        for (int i = 1; i < full.length; i++) {
            String a = full[i];
            String value;
            if (a.equals("-o")) {
                if (++i == full.length) {
                    return Optional.empty();
                }
                value = full[i];
            } else if (a.startsWith("-o") && !a.startsWith("-o=")) {
                value = a.substring(2);
            } else if (a.startsWith("-") || merged != null) {
                return Optional.empty();
            } else {
                merged = a;
                continue;
            }
            if (value.startsWith("-")) {
                return Optional.empty();
            }
            options.add(value);
        }
        if (merged == null) {
            return Optional.empty();
        }
        MountCommand mount = new MountCommand(host, cwd);
        mount.options.addAll(options);
        mount.mountpoint = merged;
        return Optional.of(mount);
    }

    private static int runPlain(MountCommand mount, PrintWriter out, PrintWriter err) {
        try {
            return mount.run(out, err);
        } catch (CliException | InterruptedException | RuntimeException e) {
            return failure(e, err, false);
        }
    }

    /** The MERGED argument of a mount command line (either form), if it parses. */
    static Optional<String> mountpointArgument(String[] args, Path cwd) {
        CommandLine cli = mountCommandLine(LinuxHost.INSTANCE, cwd);
        try {
            ParseResult parsed = cli.parseArgs(withImplicitMount(args, COMMAND_NAMES)).subcommand();
            if (parsed == null || !(parsed.commandSpec().userObject() instanceof MountCommand mount)) {
                return Optional.empty();
            }
            return Optional.ofNullable(mount.mountpoint);
        } catch (ParameterException e) {
            return Optional.empty();
        }
    }

    static CommandLine commandLine(Host host, Path cwd) {
        CommandLine cli = new CommandLine(new LayerfsCommand());
        cli.addSubcommand(new MountCommand(host, cwd));
        cli.addSubcommand(new UmountCommand(host, cwd));
        cli.addSubcommand(new ImageCommand());
        cli.addSubcommand(new LayerCommand());
        cli.addSubcommand(new CreateCommand());
        cli.addSubcommand(new PsCommand());
        cli.addSubcommand(new RmCommand());
        cli.addSubcommand(new DiffCommand());
        cli.addSubcommand(new CommitCommand());
        cli.addSubcommand(new GcCommand());
        cli.addSubcommand(new DfCommand());
        cli.addSubcommand(new ExplainCommand(host, cwd));
        cli.addSubcommand(new WhiteoutsCommand(cwd));
        cli.addSubcommand(new LintCommand(host, cwd));
        cli.addSubcommand(new ConvertCommand(cwd));
        cli.addSubcommand("help", new CommandLine.HelpCommand());
        return configured(cli);
    }

    private static CommandLine configured(CommandLine cli) {
        // "@x" is a directory name here, not a file of arguments; settings apply to subcommands added so far.
        cli.setExpandAtFiles(false);
        cli.setParameterExceptionHandler(Main::badArguments);
        cli.setExecutionExceptionHandler(Main::failed);
        appendExitCodes(cli.getCommandSpec());
        // distinct(): an alias (unmount) maps to the same command as its name.
        cli.getSubcommands().values().stream().distinct()
                .filter(sub -> !(sub.getCommand() instanceof CommandLine.HelpCommand))
                .forEach(sub -> appendExitCodes(sub.getCommandSpec()));
        return cli;
    }

    private static void appendExitCodes(CommandSpec spec) {
        List<String> footer = new ArrayList<>(Arrays.asList(spec.usageMessage().footer()));
        footer.addAll(ExitCode.helpTable());
        spec.usageMessage().footer(footer.toArray(String[]::new));
    }

    private static int badArguments(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("layerfs: " + lowerFirst(e.getMessage()));
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println("hint: see '" + cl.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return ExitCode.USAGE.code;
    }

    private static int failed(Exception e, CommandLine cl, ParseResult parsed) {
        return failure(e, cl.getErr(), debugRequested(parsed));
    }

    private static int failure(Exception e, PrintWriter err, boolean debug) {
        if (e instanceof CliException problem) {
            err.println("layerfs: " + problem.getMessage());
            if (problem.hint != null) {
                err.println("hint: " + problem.hint);
            }
            err.flush();
            return problem.exitCode.code;
        }
        if (e instanceof InterruptedException) {
            err.println("layerfs: interrupted");
            err.flush();
            return ExitCode.FAILURE.code;
        }
        err.println("layerfs: internal error: " + e);
        if (debug) {
            e.printStackTrace(err);
        } else {
            err.println("hint: run again with --debug for the stack trace, and report it");
        }
        err.flush();
        return ExitCode.FAILURE.code;
    }

    private static boolean debugRequested(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    private static String lowerFirst(String s) {
        if (s == null || s.isEmpty()) {
            return "bad arguments";
        }
        // "Unknown option" -> "unknown option"; keep an all-caps word such as "MERGED" as it is.
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1))) {
            return Character.toLowerCase(s.charAt(0)) + s.substring(1);
        }
        return s;
    }
}
