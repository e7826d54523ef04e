//go:build tools

// Package tools records the main package scripts/s3.sh builds (versitygw, the S3 server the team-state
// tests and docs/state.md run Pulumi's S3 backend against).
package tools

import (
	_ "github.com/versity/versitygw/cmd/versitygw"
)
