//go:build tools

// Package tools pins the Consul agent (github.com/hashicorp/consul v1.16.3, the
// last MPL-2.0 release of that line) for the consulconfig tests.
package tools

import _ "github.com/hashicorp/consul"
