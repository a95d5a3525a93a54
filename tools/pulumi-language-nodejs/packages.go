package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// packageJSON is the part of a package.json this host reads. Its "pulumi" section is the SDK's
// own type (sdk/v3 go/common/resource/plugin PulumiPluginJSON): resource, name, version, server,
// parameterization, extensionParameterization.
type packageJSON struct {
	Name    string                  `json:"name"`
	Version string                  `json:"version"`
	Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
}

// requiredPackages walks dir and every directory below it, and reports each package inside a
// node_modules folder whose package.json says {"pulumi": {"resource": true}}: the resource plugins
// the program may load. It follows symlinks (a program may link node_modules), visits each real
// directory once, and does not descend into a nested policy pack (PulumiPolicy.yaml), whose
// plugins are not the program's. What could be read is returned together with the errors.
func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	w := walker{visited: map[string]bool{}}
	w.walk(dir, false)
	return w.found, errors.Join(w.errs...)
}

type walker struct {
	visited map[string]bool
	found   []*pulumirpc.PackageDependency
	errs    []error
}

func (w *walker) walk(dir string, inNodeModules bool) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		w.errs = append(w.errs, err)
		return
	}
	real, err = filepath.Abs(real)
	if err != nil {
		w.errs = append(w.errs, err)
		return
	}
	if w.visited[real] {
		return
	}
	w.visited[real] = true

	entries, err := os.ReadDir(real)
	if err != nil {
		w.errs = append(w.errs, fmt.Errorf("reading %s: %w", real, err))
		return
	}
	// A folder counts as node_modules by the name it is reached under, so a symlinked node_modules
	// (whatever its target is called) is still one.
	childInNodeModules := inNodeModules || filepath.Base(dir) == "node_modules" || filepath.Base(real) == "node_modules"
	for _, e := range entries {
		path := filepath.Join(real, e.Name())
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			fi, err := os.Stat(path)
			if err != nil {
				w.errs = append(w.errs, fmt.Errorf("resolving %s: %w", path, err))
				continue
			}
			isDir = fi.IsDir()
		}
		switch {
		case isDir:
			pack, err := workspace.DetectPolicyPackPathAt(path)
			if err != nil {
				w.errs = append(w.errs, err)
				continue
			}
			if pack == "" {
				w.walk(path, childInNodeModules)
			}
		case inNodeModules && e.Name() == "package.json":
			dep, err := readPackage(path)
			if err != nil {
				w.errs = append(w.errs, err)
			} else if dep != nil {
				w.found = append(w.found, dep)
			}
		}
	}
}

// readPackage returns the resource plugin a package.json declares, or nil. The rules are Pulumi's:
// the plugin is named by pulumi.name, else by the package name without its @pulumi/ scope (a
// package outside that scope must name its plugin); its version is pulumi.version, else the
// package version, with a leading "v".
func readPackage(path string) (*pulumirpc.PackageDependency, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var info packageJSON
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if !info.Pulumi.Resource {
		return nil, nil
	}
	name := info.Pulumi.Name
	if name == "" {
		switch {
		case info.Name == "":
			return nil, fmt.Errorf("%s: missing \"name\"", path)
		case strings.HasPrefix(info.Name, "@pulumi/"):
			name = strings.TrimPrefix(info.Name, "@pulumi/")
		default:
			return nil, fmt.Errorf("%s: the third-party package %q must name its plugin in \"pulumi\": {\"name\": ...}",
				path, info.Name)
		}
	}
	version := info.Pulumi.Version
	if version == "" {
		version = info.Version
	}
	if version == "" {
		return nil, fmt.Errorf("%s: missing \"version\"", path)
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	param := func(p *plugin.PulumiParameterizationJSON) *pulumirpc.PackageParameterization {
		if p == nil {
			return nil
		}
		return &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return &pulumirpc.PackageDependency{
		Name:             name,
		Kind:             "resource",
		Version:          version,
		Server:           info.Pulumi.Server,
		Parameterization: param(info.Pulumi.Parameterization),
		Extension:        param(info.Pulumi.ExtensionParameterization),
	}, nil
}
