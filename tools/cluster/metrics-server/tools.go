//go:build tools

// Package tools records the main package scripts/cluster.sh builds (metrics-server, the resource
// metrics API behind `kubectl top` and HPAs, run as a pod in kube-system), so that `go mod tidy`
// keeps its dependencies pinned.
package tools

import (
	_ "sigs.k8s.io/metrics-server/cmd/metrics-server"
)
