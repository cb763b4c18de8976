// A single-member etcd on loopback for the harness's API check (go.etcd.io/etcd/server/v3 embed).
// It prints "ready" once it serves clients and stops cleanly on SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func parse(name, value string) url.URL {
	u, err := url.Parse(value)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: --%s %q is not a URL: %v\n", name, value, err)
		os.Exit(2)
	}
	return *u
}

func main() {
	dir := flag.String("data-dir", "", "data folder (required)")
	client := flag.String("client-url", "http://127.0.0.1:2379", "client URL (loopback)")
	peer := flag.String("peer-url", "http://127.0.0.1:2380", "peer URL (loopback)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "etcd: --data-dir is required")
		os.Exit(2)
	}
	cfg := embed.NewConfig()
	cfg.Dir = *dir
	cfg.LogLevel = "warn"
	c, p := parse("client-url", *client), parse("peer-url", *peer)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{c}, []url.URL{c}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{p}, []url.URL{p}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		os.Exit(1)
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
		fmt.Println("ready")
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		fmt.Fprintln(os.Stderr, "etcd: not ready within 60s")
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-stop:
	case err := <-e.Err():
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		os.Exit(1)
	}
}
