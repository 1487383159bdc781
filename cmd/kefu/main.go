// Command kefu runs the kefu CRM: the GraphQL server on an embedded event
// store (serve), and the analyst and operator tools (seed, replay, export,
// import, report, bench, migrate, schema).
//
// main is wiring only: flags and environment, logging, signals.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
	_ "time/tzdata" // customers' timezones must load on any machine

	"github.com/kefu-crm/kefu/internal/datadir"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every subcommand gets: output streams and the logger.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	getenv         func(string) string
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the GraphQL server on the embedded store", runServe},
		"seed":    {"write a deterministic synthetic history into a data directory", runSeed},
		"replay":  {replaySummary, runReplay},
		"export":  {exportSummary, runExport},
		"import":  {importSummary, runImport},
		"report":  {reportSummary, runReport},
		"bench":   {benchSummary, runBench},
		"migrate": {"copy a data directory's events and data keys into PostgreSQL or EventStoreDB/KurrentDB", runMigrate},
		"backup":  {backupSummary, runBackup},
		"restore": {restoreSummary, runRestore},
		"schema":  {schemaSummary, runSchema},
	}
}

// errUsage marks errors that are the user's invocation: exit code 2.
var errUsage = errors.New("usage")

// Exit codes: 0 success, 1 failure, 2 usage, and exitDamaged when the data
// directory is damaged (its files are cut short, overwritten, missing or do
// not belong together): nothing to retry, restore it from a backup. A
// supervisor should not restart kefu on it (systemd:
// RestartPreventExitStatus=3).
const exitDamaged = 3

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	level := slog.LevelInfo
	if getenv("KEFU_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if getenv("KEFU_LOG_FORMAT") == "json" {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	e := &env{stdout: stdout, stderr: stderr, log: slog.New(handler), getenv: getenv}

	cmds := commands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kefu: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "kefu %s: %v\n", args[0], err)
		return 2
	case datadir.IsDamage(err):
		fmt.Fprintf(stderr, "kefu %s: %v\n", args[0], err)
		return exitDamaged
	default:
		fmt.Fprintf(stderr, "kefu %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "kefu — event-sourced customer service CRM")
	fmt.Fprintln(w, "\nUsage: kefu <command> [flags]   (kefu <command> -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}

// flagSet is a subcommand's flags with what parseFlags needs to print its
// usage.
type flagSet struct {
	*flag.FlagSet
	e        *env
	synopsis string
}

// newFlags returns a flag set that reports errors instead of exiting. The
// flag package's own messages are silenced: parseFlags prints the usage to
// stdout when it was asked for (-h, --help) and to stderr, once, after a
// mistake.
func newFlags(e *env, name, synopsis string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, e: e, synopsis: synopsis}
}

// printUsage writes the synopsis and every flag's default to w.
func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: kefu %s\n\nFlags:\n", fs.synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFlags parses args that take no positional arguments, turning flag
// errors into usage errors.
func parseFlags(fs *flagSet, args []string) error {
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// parseFlagsArgs parses args and leaves positional arguments in fs.Args.
// -h/--help prints the usage to stdout and returns flag.ErrHelp (exit 0);
// any other flag error prints the usage to stderr and is a usage error.
func parseFlagsArgs(fs *flagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.printUsage(fs.e.stdout)
		return err
	default:
		fs.printUsage(fs.e.stderr)
		fmt.Fprintln(fs.e.stderr)
		return fmt.Errorf("%w: %v", errUsage, err)
	}
}

// given reports whether the flag name was given on the command line.
func (fs *flagSet) given(name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// envDefault returns the environment variable's value, or def.
func envDefault(e *env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}
