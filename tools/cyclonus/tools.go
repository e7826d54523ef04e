//go:build tools

// Package tools records the main package scripts/cyclonus.sh builds (cyclonus, offline network
// policy analysis: `cyclonus analyze --mode probe`).
package tools

import (
	_ "github.com/mattfenwick/cyclonus/cmd/cyclonus"
)
