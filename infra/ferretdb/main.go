// Command curex-ferretdb runs FerretDB (the MongoDB wire protocol over SQLite) for
// the local CUREX stack.
//
// It embeds FerretDB's public `ferretdb` package instead of building FerretDB's own
// command, whose binary panics at start-up when built outside FerretDB's repository
// (its generated version file is missing: FerretDB issue 2982). The embedded form
// runs no telemetry reporter and marks telemetry disabled, so nothing leaves the
// machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/build/version"
	"github.com/FerretDB/FerretDB/ferretdb"
)

const ferretDBModule = "github.com/FerretDB/FerretDB"

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("sqlite-dir", "", "directory holding the SQLite databases (created if missing)")
	// FerretDB logs every failed command (a duplicate key, say) at warn: too loud here.
	level := flag.String("log-level", "error", "debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dir, *level); err != nil {
		fmt.Fprintf(os.Stderr, "curex-ferretdb: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, dir, level string) error {
	if dir == "" {
		return errors.New("-sqlite-dir is required")
	}

	var logLevel slog.Level
	if err := logLevel.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: logLevel}))

	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(abs, 0o700); err != nil {
		return err
	}

	// FerretDB wants a "file:" URI naming a directory, with a trailing slash.
	sqliteURL := (&url.URL{Scheme: "file", Path: abs + "/"}).String()

	setVersion()

	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	// Run returns after the listener, every connection and the backend are closed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Printed regardless of the log level, so the service log shows each start.
	fmt.Printf("curex-ferretdb listening on %s, data in %s\n", listen, abs)

	go keepIDIndexes(ctx, abs, logger)

	if err = db.Run(ctx); err != nil {
		return err
	}

	fmt.Println("curex-ferretdb stopped")

	return nil
}

// setVersion makes buildInfo report the FerretDB version compiled in, which the
// embedded package otherwise leaves "unknown".
func setVersion() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}

	for _, dep := range info.Deps {
		if dep.Path == ferretDBModule {
			version.Get().Version = dep.Version
		}
	}
}
