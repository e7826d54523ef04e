// Added to github.com/pulumi/pulumi-yaml/pkg/server at build time (scripts/toolchain.sh, go build
// -overlay): pulumi-yaml v1.25.0 predates the LanguageRuntime Link call that `pulumi package add`
// (CLI v3.259.0) makes once it has generated a package's SDK, and fails the command with "method
// Link not implemented" before the package is written to Pulumi.yaml. A YAML program links
// nothing (it reads the package's schema), so there is nothing to do and nothing to import.

package server

import (
	"context"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func (host *yamlLanguageHost) Link(context.Context, *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	return &pulumirpc.LinkResponse{}, nil
}
