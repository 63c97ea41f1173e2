package io.layerfs.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args, LinuxHost.INSTANCE, Path.of("").toAbsolutePath(),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs one command line; the cwd is where relative paths are resolved. */
    static int run(String[] args, Host host, Path cwd, PrintWriter out, PrintWriter err) {
        String[] line = withImplicitMount(args, COMMANDS);
        // picocli reads the annotations of every command it is given: for `mount`, which podman runs
        // once per container, only that one (0.45 s of a mount's start went to building them all)
        CommandLine cli = line.length > 0 && line[0].equals("mount") ? commandLine(host, cwd, false)
                : commandLine(host, cwd);
        cli.setOut(out);
        cli.setErr(err);
        int code = cli.execute(line);
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

    /** The names of the subcommands, aliases included ({@code MainTest} checks them against the commands). */
    static final Set<String> COMMANDS = Set.of("mount", "umount", "unmount", "image", "layer", "create", "ps", "rm",
            "diff", "commit", "gc", "df", "explain", "whiteouts", "lint", "convert", "help");

    static CommandLine commandLine(Host host, Path cwd) {
        return commandLine(host, cwd, true);
    }

    /** The command line with every subcommand, or with {@code mount} alone. */
    static CommandLine commandLine(Host host, Path cwd, boolean all) {
        CommandLine cli = new CommandLine(new LayerfsCommand());
        cli.addSubcommand(new MountCommand(host, cwd));
        if (all) {
            addTheOthers(cli, host, cwd);
        }
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

    private static void addTheOthers(CommandLine cli, Host host, Path cwd) {
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
        PrintWriter err = cl.getErr();
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
        if (debugRequested(parsed)) {
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
