//go:build tools

// Package tools records the main package scripts/cluster.sh builds (kube-router, run as the
// NetworkPolicy enforcer only: iptables + ipset), so that `go mod tidy` keeps its dependencies pinned.
package tools

import (
	_ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
)
