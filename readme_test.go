package baldur_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeTourCompiles keeps the README's tour honest: the snippet must be
// examples/tour/main.go (less its doc comment), which `go build ./...` and
// `go vet ./...` compile.
func TestReadmeTourCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("examples/tour/main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "package main")
	if !ok {
		t.Fatal("examples/tour/main.go has no package clause")
	}
	snippet := "```go\npackage main" + strings.TrimRight(body, "\n") + "\n```"
	if !strings.Contains(string(readme), snippet) {
		t.Fatal("README.md's tour differs from examples/tour/main.go; update one from the other")
	}
}
