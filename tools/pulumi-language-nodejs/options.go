package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
)

// nodeOptions are the `runtime.options` of a nodejs project (Pulumi.yaml) or policy pack
// (PulumiPolicy.yaml) that this host acts on. The names and defaults are Pulumi's: typescript
// defaults to true; tsconfig and nodeargs are strings; packagemanager is one of auto, npm, yarn,
// pnpm, bun. `production` is accepted and ignored (it only affects installs, which this host does
// not do).
type nodeOptions struct {
	typescript     bool
	tsconfig       string
	nodeArgs       []string
	packageManager npm.PackageManagerType
}

func parseOptions(options map[string]any) (nodeOptions, error) {
	opts := nodeOptions{typescript: true, packageManager: npm.AutoPackageManager}
	if v, ok := options["typescript"]; ok {
		b, ok := v.(bool)
		if !ok {
			return opts, fmt.Errorf("runtime option typescript must be a boolean, got %v", v)
		}
		opts.typescript = b
	}
	if v, ok := options["tsconfig"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, fmt.Errorf("runtime option tsconfig must be a string, got %v", v)
		}
		opts.tsconfig = s
	}
	if v, ok := options["nodeargs"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, fmt.Errorf("runtime option nodeargs must be a string, got %v", v)
		}
		args, err := splitArgs(s)
		if err != nil {
			return opts, fmt.Errorf("runtime option nodeargs %q: %w", s, err)
		}
		opts.nodeArgs = args
	}
	if v, ok := options["production"]; ok {
		if _, ok := v.(bool); !ok {
			return opts, fmt.Errorf("runtime option production must be a boolean, got %v", v)
		}
	}
	if v, ok := options["packagemanager"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, fmt.Errorf("runtime option packagemanager must be a string, got %v", v)
		}
		switch s {
		case "auto":
			opts.packageManager = npm.AutoPackageManager
		case "npm":
			opts.packageManager = npm.NpmPackageManager
		case "yarn":
			opts.packageManager = npm.YarnPackageManager
		case "pnpm":
			opts.packageManager = npm.PnpmPackageManager
		case "bun":
			opts.packageManager = npm.BunPackageManager
		default:
			return opts, fmt.Errorf("runtime option packagemanager must be one of auto, npm, yarn, pnpm or bun, got %q", s)
		}
	}
	return opts, nil
}

// env is what @pulumi/pulumi 3.276.0 cmd/run/run.js reads to load TypeScript through ts-node:
// PULUMI_NODEJS_TYPESCRIPT=true, and PULUMI_NODEJS_TSCONFIG_PATH (default tsconfig.json in the
// program directory; without one ts-node gets no project file).
func (o nodeOptions) env() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// splitArgs splits a command line the way a POSIX shell splits words: blanks separate words,
// single quotes keep everything literally, double quotes keep blanks, a backslash escapes the next
// character (outside single quotes).
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
