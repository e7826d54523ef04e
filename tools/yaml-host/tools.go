//go:build tools

// Package tools records the main package scripts/toolchain.sh builds: the Pulumi YAML language
// host, which runs Pulumi YAML programs (examples/yaml-consumer) and reads component packages'
// schemas directly.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
