package main

import (
	"fmt"
	"os"
)

func ExampleParsePeers() {
	peers, err := ParsePeers("west=https://w1:2379,https://w2:2379;central=central-etcd:2379")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range peers {
		fmt.Println(p.Name, p.Endpoints)
	}
	// Output:
	// west [https://w1:2379 https://w2:2379]
	// central [central-etcd:2379]
}

func ExampleLoadConfig() {
	env := map[string]string{"BALDUR_SYNC_PEERS": "west=w:2379", "BALDUR_SYNC_LOG_LEVEL": "warn"}
	cfg, err := LoadConfig([]string{"--cluster", "east", "--log-level", "debug"},
		func(k string) (string, bool) { v, ok := env[k]; return v, ok }, os.Stderr)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Cluster, cfg.Peers[0].Name, cfg.LogLevel, cfg.Embedded(), cfg.HTTPAddr)
	_, err = LoadConfig([]string{"--cluster", "east", "--peer", "east=e:2379"}, func(string) (string, bool) { return "", false }, os.Stderr)
	fmt.Println(err)
	// Output:
	// east west debug true 127.0.0.1:9464
	// config: peers[0].name: "east" is the local cluster
}
