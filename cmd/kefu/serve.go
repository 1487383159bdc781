package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/console"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/server"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "serve [--data DIR] [--addr HOST:PORT] [--auth FILE] [--store URL] [--policy FILE] [--unmerge-window D] [--arrangements FILE] [--cors-origin ORIGIN]… [--allowed-host HOST]… [--metrics-addr HOST:PORT] [--pprof 127.0.0.1:PORT] [--snapshots=false] [--demo [--demo-customers N]]\n"+
		"           [--sender outbox | --sender webhook --webhook-url URL | --sender smtp --smtp-addr HOST:PORT --smtp-from ADDRESS [--smtp-user USER] [--smtp-tls starttls|none]] [--dispatch-interval D]")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory (env KEFU_DATA)")
	addr := fs.String("addr", envDefault(e, "KEFU_ADDR", "127.0.0.1:8080"), "listen address (env KEFU_ADDR)")
	auth := fs.String("auth", envDefault(e, "KEFU_AUTH", ""), "bearer-token file: {\"tokens\":[{\"token\":…,\"user\":…,\"role\":\"ADMIN|ACCOUNT_MANAGER|MARKETING|ANALYST\"}]} (env KEFU_AUTH); without it the server only listens on loopback")
	store := fs.String("store", envDefault(e, "KEFU_STORE", ""), "keep the event log and data keys in PostgreSQL (postgres://user:pass@host:5432/db[?schema=NAME]) or EventStoreDB/KurrentDB (esdb://host:2113?tls=false, esdb+discover://…) instead of the embedded store (env KEFU_STORE)")
	demo := fs.Bool("demo", false, "fill an empty data directory with a seeded demo history first")
	demoCustomers := fs.Int("demo-customers", 2000, "customers in the --demo history")
	policyFile := fs.String("policy", "", "lifecycle policy JSON (thresholds); default: the built-in policy")
	unmergeWindow := fs.String("unmerge-window", envDefault(e, "KEFU_UNMERGE_WINDOW", "30d"), "how long after a merge unmergeCustomers may undo it: days (30d) or a Go duration (720h) (env KEFU_UNMERGE_WINDOW)")
	arrangements := fs.String("arrangements", envDefault(e, "KEFU_ARRANGEMENTS", ""), "JSON file of official holiday arrangements to add or correct, e.g. next year's days off and adjusted working days: [{\"year\":2027,\"daysOff\":[\"2027-01-01\",…],\"workingDays\":[…]}] (env KEFU_ARRANGEMENTS)")
	senders := addSenderFlags(fs, e)
	corsOrigins := listFlag{vals: splitList(e.getenv("KEFU_CORS_ORIGINS"))}
	fs.Var(&corsOrigins, "cors-origin", "origin (scheme://host:port) of a web app allowed to call the API from a browser, e.g. http://localhost:3000; repeat for several (env KEFU_CORS_ORIGINS, comma-separated); default none")
	allowedHosts := listFlag{vals: splitList(e.getenv("KEFU_ALLOWED_HOSTS"))}
	fs.Var(&allowedHosts, "allowed-host", "a Host name to accept besides localhost/127.0.0.1/[::1], e.g. a reverse proxy's public name; repeatable (env KEFU_ALLOWED_HOSTS, comma-separated)")
	metricsAddr := fs.String("metrics-addr", envDefault(e, "KEFU_METRICS_ADDR", ""), "serve /metrics on this address of its own, without a token, instead of beside the API (env KEFU_METRICS_ADDR); with --auth and without it, /metrics needs a bearer token")
	snapshots := fs.Bool("snapshots", envDefault(e, "KEFU_SNAPSHOTS", "true") != "false", "keep a sealed snapshot of the read models in DIR/snapshots, written every 20,000 events or 10 minutes and at shutdown, so that a start folds only the events after it; false folds the whole log at every start (env KEFU_SNAPSHOTS)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060, to profile a live server with `go tool pprof`; refused on any other address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *pprofAddr != "" {
		if err := checkLoopback(*pprofAddr); err != nil {
			return fmt.Errorf("%w: --pprof %s: %w (the profiler shows the server's memory: listen on 127.0.0.1 or [::1])", errUsage, *pprofAddr, err)
		}
	}
	if !*demo && fs.given("demo-customers") {
		return fmt.Errorf("%w: --demo-customers sets the size of the --demo history; add --demo", errUsage)
	}
	if *demo && *store != "" {
		return fmt.Errorf("%w: --demo seeds the embedded store; it cannot be combined with --store", errUsage)
	}
	if *demoCustomers < 1 {
		return fmt.Errorf("%w: --demo-customers must be at least 1", errUsage)
	}
	delivery, err := senders.choose(*data)
	if err != nil {
		return err
	}

	var tokens *graphql.Tokens
	if *auth != "" {
		t, err := graphql.LoadTokens(*auth)
		if err != nil {
			return fmt.Errorf("--auth %s: %w", *auth, err)
		}
		tokens = t
	}
	if err := graphql.CheckBind(*addr, tokens != nil); err != nil {
		return fmt.Errorf("%w: pass --auth FILE, or listen on 127.0.0.1", err)
	}
	if tokens == nil {
		e.log.Warn("authentication is disabled: every caller is a local ADMIN; the server listens on loopback only", "addr", *addr)
	}
	var policy *lifecycle.Policy
	if *policyFile != "" {
		p, err := loadPolicy(*policyFile)
		if err != nil {
			return err
		}
		policy = &p
	}
	window, err := parseWindow(*unmergeWindow)
	if err != nil {
		return fmt.Errorf("%w: --unmerge-window %s: %v", errUsage, *unmergeWindow, err)
	}
	var cal calendar.WorkingCalendarConfig
	if *arrangements != "" {
		b, err := os.ReadFile(*arrangements)
		if err != nil {
			return fmt.Errorf("--arrangements: %w", err)
		}
		if cal.Arrangements, err = calendar.ParseArrangements(b); err != nil {
			return fmt.Errorf("--arrangements %s: %w", *arrangements, err)
		}
		e.log.Info("official holiday arrangements added", "file", *arrangements, "years", len(cal.Arrangements))
	}
	if *demo {
		if err := seedDemo(ctx, e, *data, *demoCustomers); err != nil {
			return err
		}
	} else if *store == "" {
		if _, interrupted, err := interruptedSeed(*data); err != nil {
			return err
		} else if interrupted {
			return fmt.Errorf("%s holds a seed that was interrupted, so its history is incomplete: finish it with the command that started it (`kefu serve --demo --data %s` or the same `kefu seed`), or delete the directory", *data, *data)
		}
	}

	for _, w := range delivery.warnings {
		e.log.Warn(w)
	}
	e.log.Info("greetings are delivered by "+delivery.name, append([]any{"sender", delivery.name}, delivery.logAttrs...)...)

	tuneGC(e)
	srv, err := server.New(ctx, server.Config{DataDir: *data, StoreURL: *store, Logger: e.log, Tokens: tokens, Policy: policy, Calendar: cal,
		Merge:  customer.MergePolicy{UnmergeWindow: window},
		Sender: delivery.sender, ChannelSenders: delivery.byChannel, DispatchInterval: senders.dispatchInterval,
		CORSOrigins: corsOrigins.vals, AllowedHosts: allowedHosts.vals, SeparateMetrics: *metricsAddr != "",
		Snapshots: server.SnapshotConfig{Disabled: !*snapshots}})
	if err != nil {
		if errors.Is(err, graphql.ErrBrowserPolicy) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another kefu running? choose another --addr)", *addr, err)
	}
	httpSrv := httpServer(srv.Handler())
	url := "http://" + ln.Addr().String() + "/graphql"
	metricsURL := "http://" + ln.Addr().String() + "/metrics"
	servers := []*http.Server{httpSrv}
	listeners := []net.Listener{ln}
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen on %s: %w (choose another --metrics-addr)", *metricsAddr, err)
		}
		servers = append(servers, httpServer(srv.MetricsHandler()))
		listeners = append(listeners, mln)
		metricsURL = "http://" + mln.Addr().String() + "/metrics"
	}
	pprofURL := ""
	if *pprofAddr != "" {
		pln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return fmt.Errorf("listen on %s: %w (choose another --pprof)", *pprofAddr, err)
		}
		servers = append(servers, &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, pln)
		pprofURL = "http://" + pln.Addr().String() + "/debug/pprof/"
	}

	g, gctx := errgroup.WithContext(ctx)
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	g.Go(func() error { return srv.Run(runCtx) })
	for i, hs := range servers {
		g.Go(func() error {
			if err := hs.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error {
		select {
		case <-srv.Ready():
			e.log.Info("kefu is ready", "graphql", url, "data", *data)
			fmt.Fprintf(e.stdout, "kefu is serving %s\n  open %s in a browser for the GraphQL explorer\n  console %s for account managers and marketing\n  health %s  metrics %s\n",
				*data, url, "http://"+ln.Addr().String()+console.Path, "http://"+ln.Addr().String()+"/healthz", metricsURL)
			if pprofURL != "" {
				fmt.Fprintf(e.stdout, "  profiler %s (go tool pprof %sprofile?seconds=30)\n", pprofURL, pprofURL)
			}
			// After saying so: the forced collection is not what the
			// user waits for.
			releaseCatchUp()
		case <-gctx.Done():
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		e.log.Info("shutting down: finishing in-flight requests")
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		var errs []error
		for _, hs := range servers {
			errs = append(errs, hs.Shutdown(shutdownCtx))
		}
		stopRun() // then flush checkpoints and stop the projections
		return errors.Join(errs...)
	})
	err = g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	e.log.Info("kefu stopped")
	return nil
}

// httpServer bounds what one connection may hold: a client that sends
// its headers or body slowly, or keeps an idle connection open, is cut
// off. The write timeout leaves room for the GraphQL handler's own request
// timeout (10 s) and a large answer.
func httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

func loadPolicy(path string) (lifecycle.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return lifecycle.Policy{}, fmt.Errorf("--policy: %w", err)
	}
	defer f.Close()
	p, err := lifecycle.LoadPolicy(f)
	if err != nil {
		return lifecycle.Policy{}, fmt.Errorf("--policy %s: %w", path, err)
	}
	return p, nil
}

// seedDemo fills an empty data directory with a seeded history. A
// directory that already has a history is served as it is, unless it holds
// a demo seed that was interrupted: that one is finished first, with the
// configuration it was started with.
func seedDemo(ctx context.Context, e *env, path string, customers int) error {
	cfg := seedConfig(customers, 1, time.Now().UTC().Truncate(24*time.Hour), 2)
	prev, interrupted, err := interruptedSeed(path)
	if err != nil {
		return err
	}
	if interrupted {
		cfg = prev.config()
	}
	dir, err := datadir.Open(path, datadir.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer dir.Close()
	if !interrupted {
		head, err := dir.Store.Head(ctx)
		if err != nil {
			return err
		}
		if head > 0 {
			e.log.Info("--demo: the data directory already has a history; serving it", "events", uint64(head))
			return nil
		}
		fmt.Fprintf(e.stderr, "--demo: seeding %d customers into %s\n", cfg.Customers, path)
	}
	sum, took, err := seedInto(ctx, e, dir, cfg, 64)
	if err != nil {
		return err
	}
	e.log.Info("demo history written", "customers", sum.Customers, "events", sum.Events, "took", took.Round(time.Millisecond))
	return nil
}

// tuneGC trades memory for CPU the way a long-running server with a large,
// stable heap of read models wants: collect at 4× the live heap rather
// than 2× (about a quarter less CPU per request under load and a sixth
// less on a rebuild — BENCHMARKS.md, "API under load" and "Projection
// rebuild"), bounded by a soft limit of 60% of the machine's
// memory so the heap never grows past what the machine has. GOGC and
// GOMEMLIMIT in the environment override both.
func tuneGC(e *env) {
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if e.getenv("GOMEMLIMIT") == "" {
		if total := physicalMemory(); total > 0 {
			debug.SetMemoryLimit(int64(float64(total) * 0.6))
		}
	}
}

// releaseCatchUp returns to the OS what the catch-up left behind: under
// GOGC=400 the heap grew to several times the read models while the log
// was folded, and the runtime would otherwise hand those pages back only
// slowly (background scavenging), so a freshly started server's RSS
// stayed at the catch-up's peak. One forced collection, once.
func releaseCatchUp() { debug.FreeOSMemory() }

// physicalMemory reads MemTotal from /proc/meminfo (0 when unknown).
func physicalMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseUint(f[0], 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// listFlag is a repeatable string flag; the environment's values are the
// default, replaced (not extended) by the flags given.
type listFlag struct {
	vals []string
	set  bool
}

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.vals, ",")
}

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.vals, l.set = nil, true
	}
	l.vals = append(l.vals, v)
	return nil
}

// splitList splits a comma-separated environment value.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// checkLoopback refuses an address whose host is not a loopback IP or
// localhost.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("not a loopback address")
}

// pprofHandler serves net/http/pprof's handlers on a mux of its own (the
// package's init registers them on http.DefaultServeMux, which kefu never
// serves).
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// parseWindow reads a positive duration given in days ("30d") or as a Go
// duration ("720h", "90m").
func parseWindow(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, errors.New("want days (30d) or a duration (720h)")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want days (30d) or a duration (720h)")
		}
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}
