package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"--max-old-space-size=4096", []string{"--max-old-space-size=4096"}, false},
		{"  -r  ./a.js\t--inspect ", []string{"-r", "./a.js", "--inspect"}, false},
		{`--title "two words" 'single $x' a\ b`, []string{"--title", "two words", "single $x", "a b"}, false},
		{`"esc \" quote"`, []string{`esc " quote`}, false},
		{`'open`, nil, true},
		{`"open`, nil, true},
		{`trailing\`, nil, true},
	}
	for _, c := range cases {
		got, err := splitArgs(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("splitArgs(%q) error = %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if !c.wantErr && !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	opts, err := parseOptions(map[string]any{})
	if err != nil || !opts.typescript || len(opts.env()) != 1 || opts.env()[0] != "PULUMI_NODEJS_TYPESCRIPT=true" {
		t.Fatalf("defaults: %+v %v", opts, err)
	}
	opts, err = parseOptions(map[string]any{"typescript": false, "tsconfig": "tsconfig.build.json", "nodeargs": "--a 'b c'"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(opts.env(), []string{"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.build.json"}) ||
		!reflect.DeepEqual(opts.nodeArgs, []string{"--a", "b c"}) {
		t.Fatalf("got %+v", opts)
	}
	for _, bad := range []map[string]any{
		{"typescript": "yes"}, {"tsconfig": 1.0}, {"nodeargs": true}, {"packagemanager": "pip"}, {"production": "no"},
	} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("parseOptions(%v) accepted a bad value", bad)
		}
	}
}

func TestRunArguments(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1",
		Organization:   "organization",
		Project:        "proj",
		Stack:          "dev",
		DryRun:         true,
		Parallel:       16,
		Args:           []string{"x"},
		Info: &pulumirpc.ProgramInfo{
			RootDirectory: "/r", ProgramDirectory: "/r/p", EntryPoint: ".",
		},
	}
	got := runArguments(req, "/nm/run/index.js", "127.0.0.1:2", "")
	want := []string{
		"/nm/run/index.js", "--monitor", "127.0.0.1:1", "--engine", "127.0.0.1:2",
		"--organization", "organization", "--project", "proj", "--root-directory", "/r", "--stack", "dev",
		"--pwd", "/r/p", "--dry-run", "--parallel", "16", ".", "x",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runArguments =\n%q\nwant\n%q", got, want)
	}
}

func TestConfigEnv(t *testing.T) {
	got, err := configEnv(map[string]string{"proj:name": "a", "kubernetes:context": "b"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"proj:config:name": "a", "kubernetes:config:context": "b"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("configEnv = %v, want %v", m, want)
	}
	if _, err := configEnv(map[string]string{"no-namespace": "x"}); err == nil {
		t.Fatal("a key without a namespace was accepted")
	}
}

func TestRunResponse(t *testing.T) {
	if r := runResponse(nil); r.Error != "" || r.Bail {
		t.Fatalf("success: %+v", r)
	}
	if r := runResponse(exec.Command("sh", "-c", "exit 32").Run()); !r.Bail || r.Error != "" {
		t.Fatalf("exit 32 must bail without a message: %+v", r)
	}
	if r := runResponse(exec.Command("sh", "-c", "exit 3").Run()); r.Error != "Program exited with non-zero exit code: 3" {
		t.Fatalf("exit 3: %+v", r)
	}
	if r := runResponse(exec.Command("/nonexistent/node").Run()); r.Bail || r.Error == "" {
		t.Fatalf("missing executable: %+v", r)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRequiredPackages(t *testing.T) {
	root := t.TempDir()
	shared := t.TempDir() // a node_modules reached through a symlink, as the integration tests do
	writeJSON(t, filepath.Join(shared, "@pulumi", "kubernetes", "package.json"),
		map[string]any{"name": "@pulumi/kubernetes", "version": "4.25.0", "pulumi": map[string]any{"resource": true}})
	writeJSON(t, filepath.Join(shared, "@pulumi", "pulumi", "package.json"),
		map[string]any{"name": "@pulumi/pulumi", "version": "3.276.0"})
	writeJSON(t, filepath.Join(shared, "third", "package.json"),
		map[string]any{"name": "third", "version": "1.0.0",
			"pulumi": map[string]any{"resource": true, "name": "thirdparty", "version": "v2.0.0", "server": "https://example.invalid"}})
	writeJSON(t, filepath.Join(shared, "nested", "node_modules", "@pulumi", "random", "package.json"),
		map[string]any{"name": "@pulumi/random", "version": "4.0.0", "pulumi": map[string]any{"resource": true}})
	if err := os.Symlink(shared, filepath.Join(root, "node_modules")); err != nil {
		t.Fatal(err)
	}
	// A package.json outside node_modules (the program's own) is not a plugin source.
	writeJSON(t, filepath.Join(root, "package.json"),
		map[string]any{"name": "@pulumi/self", "version": "1.0.0", "pulumi": map[string]any{"resource": true}})
	// A nested policy pack's plugins are not the program's.
	if err := os.MkdirAll(filepath.Join(root, "policy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "policy", "PulumiPolicy.yaml"), []byte("runtime: nodejs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(root, "policy", "node_modules", "@pulumi", "aws", "package.json"),
		map[string]any{"name": "@pulumi/aws", "version": "7.0.0", "pulumi": map[string]any{"resource": true}})

	deps, err := requiredPackages(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deps {
		got = append(got, d.Name+"@"+d.Version+" "+d.Server)
	}
	sort.Strings(got)
	want := []string{"kubernetes@v4.25.0 ", "random@v4.0.0 ", "thirdparty@v2.0.0 https://example.invalid"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("requiredPackages = %q, want %q", got, want)
	}

	writeJSON(t, filepath.Join(shared, "unnamed", "package.json"),
		map[string]any{"name": "unnamed", "version": "1.0.0", "pulumi": map[string]any{"resource": true}})
	deps, err = requiredPackages(root)
	if err == nil || len(deps) != 3 {
		t.Fatalf("a third-party package without a plugin name must be an error beside the others: %v %d", err, len(deps))
	}
}
