package consulconfig_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/baldur-go/baldur/consulconfig"
)

// Reading live configuration from a Consul agent. This example needs an
// agent on 127.0.0.1:8500 (or CONSUL_HTTP_ADDR), so it is compiled but not
// run by go test.
func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := consulconfig.New(ctx,
		consulconfig.WithPrefix("config/"),
		consulconfig.WithDocument("config/app.yaml"),
		consulconfig.WithDebounce(100*time.Millisecond, time.Second))
	if err != nil {
		log.Fatal(err) // Consul unreachable: fail fast (or WithOptionalStart)
	}
	defer p.Close()

	// config/BALDUR/SLA/DEFAULT_HOURS, parsed once per change, read without a lock.
	hours := p.GetInt("BALDUR.SLA.DEFAULT_HOURS", 24)
	fmt.Println("SLA hours:", hours)

	stop := p.OnChange(func(c consulconfig.Change) {
		fmt.Println("added", c.Added, "changed", c.Changed, "removed", c.Removed)
	})
	defer stop()
}

// Which key names are masked in logs and dumps.
func ExampleIsSecretKey() {
	for _, k := range []string{"DB.PASSWORD", "DB.HOST", "api/ApiKey", "oauth.client_secret"} {
		fmt.Println(k, consulconfig.IsSecretKey(k))
	}
	// Output:
	// DB.PASSWORD true
	// DB.HOST false
	// api/ApiKey true
	// oauth.client_secret true
}
