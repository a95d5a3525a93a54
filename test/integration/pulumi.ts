// The real Pulumi path of the integration tier: the Automation API (LocalWorkspace) driving the
// CLI built by `npm run tools`, with a file backend and PULUMI_HOME in a temp dir, the built
// plugins on PATH, and plugin downloads disabled.

import { PulumiCommand } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { binDir, cacheDir, repoRoot } from "../../tools/tools";

export interface PulumiSandbox {
  /** The CLI at .cache/tools/bin/pulumi, version-checked by the Automation API. */
  readonly command: PulumiCommand;
  /** Environment for LocalWorkspace's `envVars`. */
  readonly envVars: Record<string, string>;
  /** PULUMI_HOME: plugins would be downloaded into <home>/plugins. */
  readonly home: string;
  /** Root of the temp dir (projects, state, home). */
  readonly dir: string;
  /** A new project directory inside the sandbox whose node_modules is this repository's. */
  project(name: string, files: Readonly<Record<string, string>>): string;
  /** Plugins found under PULUMI_HOME/plugins (a download would put them there). */
  downloadedPlugins(): string[];
  cleanup(): void;
}

export async function pulumiSandbox(): Promise<PulumiSandbox> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-pulumi-"));
  const home = path.join(dir, "home");
  const state = path.join(dir, "state");
  fs.mkdirSync(home);
  fs.mkdirSync(state);

  // PulumiCommand.get({ root }) runs <root>/bin/pulumi version and, with skipVersionCheck false,
  // rejects a CLI older than the SDK's minimum (automation/cmd.js at @pulumi/pulumi 3.276.0).
  const command = await PulumiCommand.get({ root: cacheDir, skipVersionCheck: false });

  const envVars: Record<string, string> = {
    // The engine finds plugins on PATH (sdk/v3 go/common/workspace/plugins.go getPluginInfoAndPath:
    // ambient plugins unless PULUMI_IGNORE_AMBIENT_PLUGINS) and the language host next to the CLI.
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: "integration-passphrase",
    // pkg/v3 engine/plugins.go ensurePluginsAreInstalled and resource/deploy/providers/registry.go:
    // with this set, a missing plugin is an error instead of a download.
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };

  // Removed by cleanup(), and on any exit of the test process (a signal stops the run through
  // the control plane's handler, which exits without running the tests' after hooks).
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);

  return {
    command,
    envVars,
    home,
    dir,
    project(name, files) {
      const projectDir = path.join(dir, name);
      fs.mkdirSync(projectDir, { recursive: true });
      for (const [file, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(projectDir, file)), { recursive: true });
        fs.writeFileSync(path.join(projectDir, file), content);
      }
      // Node resolves @pulumi/* (and ts-node, typescript) from here: this repository's installs.
      fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(projectDir, "node_modules"), "dir");
      return projectDir;
    },
    downloadedPlugins() {
      const plugins = path.join(home, "plugins");
      return fs.existsSync(plugins) ? fs.readdirSync(plugins).filter((f) => !f.endsWith(".lock")) : [];
    },
    cleanup() {
      process.removeListener("exit", removeDir);
      removeDir();
    },
  };
}
