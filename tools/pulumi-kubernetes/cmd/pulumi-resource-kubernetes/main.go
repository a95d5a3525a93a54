// Command pulumi-resource-kubernetes serves the Kubernetes provider of
// github.com/pulumi/pulumi-kubernetes/provider/v4 (the commit tagged v4.25.0).
//
// Upstream's own main (provider/cmd/pulumi-resource-kubernetes/main.go) embeds schema-embed.json and
// terraform-mapping-embed.json, which its `go generate` step (generate.go) writes from schema.json and
// terraform-mapping.json and which the published module does not contain. This main does the same
// at start-up: it embeds the module's schema.json and terraform-mapping.json (copied next to this
// file by `npm run tools`, git-ignored, because go:embed cannot reach outside this package), sets the
// schema's version to the linker-set version.Version, and serves the provider exactly as upstream.
package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

//go:embed schema.json
var rawSchema []byte

//go:embed terraform-mapping.json
var rawMapping []byte

func main() {
	// generate.go at v4.25.0: unmarshal into schema.PackageSpec, set Version, marshal again.
	var spec schema.PackageSpec
	if err := json.Unmarshal(rawSchema, &spec); err != nil {
		fail("cannot deserialize schema: %v", err)
	}
	spec.Version = version.Version
	pulumiSchema, err := json.Marshal(spec)
	if err != nil {
		fail("cannot reserialize schema: %v", err)
	}
	// generate.go: the terraform mapping is re-marshalled (compacted) as generic JSON.
	var mapping interface{}
	if err := json.Unmarshal(rawMapping, &mapping); err != nil {
		fail("cannot deserialize terraform mapping: %v", err)
	}
	terraformMapping, err := json.Marshal(mapping)
	if err != nil {
		fail("cannot reserialize terraform mapping: %v", err)
	}
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
