package embedetcd_test

import (
	"context"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur/internal/embedetcd"
)

func Example() {
	dir, err := os.MkdirTemp("", "embedetcd-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{Name: "example", Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := cli.Get(ctx, "greeting")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(resp.Kvs[0].Value))
	// Output: hello
}
