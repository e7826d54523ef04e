//go:build tools

// Package tools records the main packages scripts/cluster.sh builds (kwok, kwokctl).
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
