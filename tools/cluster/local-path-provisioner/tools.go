//go:build tools

// Package tools records the main package scripts/cluster.sh builds (local-path-provisioner, the
// real node's dynamic volume provisioner, as kind uses it), so that `go mod tidy` keeps its dependencies pinned.
package tools

import (
	_ "github.com/rancher/local-path-provisioner"
)
