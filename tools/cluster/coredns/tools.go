//go:build tools

// Package tools records the main package scripts/cluster.sh builds (CoreDNS, the cluster DNS
// server that runs as a pod in kube-system), so that `go mod tidy` keeps its dependencies pinned.
package tools

import (
	_ "github.com/coredns/coredns"
)
