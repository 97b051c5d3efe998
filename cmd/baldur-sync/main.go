package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; ctx is cancelled by SIGINT or SIGTERM.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(ctx, args[1:], stdout, stderr)
	}
	cfg, err := LoadConfig(args, lookup, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "baldur-sync:", err)
		return exitUsage
	}
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "baldur-sync:", err)
		return exitUsage
	}
	defer func() { _ = log.Sync() }()
	a, err := StartAgent(ctx, cfg, log)
	if err != nil {
		log.Error("start failed", zap.Error(err))
		return exitFailure
	}
	code := exitOK
	select {
	case <-ctx.Done():
		log.Info("signal received; finishing the in-flight transaction and stopping")
	case err := <-a.Failed():
		if err != nil {
			log.Error("replicator stopped", zap.Error(err))
			code = exitFailure
		}
	}
	a.Close()
	return code
}

// newLogger builds the production JSON logger at level, writing to w.
func newLogger(level string, w io.Writer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, configErr("log_level", "%q: %v", level, err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), lvl)
	return zap.New(core, zap.AddCaller()), nil
}
