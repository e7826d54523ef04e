//go:build tools

// Package tools records the main package scripts/cluster.sh builds (etcd).
package tools

import _ "go.etcd.io/etcd/server/v3"
