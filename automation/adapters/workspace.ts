/**
 * The real PlatformStack: a thin adapter over the Automation API's LocalWorkspace and Stack.
 *
 * One LocalWorkspace per stack, project directory = the repository root (Pulumi.yaml and the
 * committed Pulumi.<stack>.yaml files), so config the driver writes lands in the stack file
 * CI commits back. Default backend: a `file://` directory in the repo (`.pulumi-state/`,
 * git-ignored) with the passphrase secrets provider, so no Pulumi Cloud account is needed;
 * PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE) override.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { LocalWorkspace, PulumiCommand, Stack, StackNotFoundError } from "@pulumi/pulumi/automation";
import { UsageError } from "../errors";
import { BACKUP_PREFIX, parseS3Backend, S3Location } from "./backup";
import * as os from "os";
import { LockReport, OperationOptions, PlatformStack, PreviewOutcome, StackState, UpdateLock, UpOutcome } from "../ports";
import { Json } from "../types";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface WorkspaceSettings {
  readonly repoRoot: string;
  /** What the CLI gets as PULUMI_BACKEND_URL. */
  readonly backendUrl: string;
  /** PULUMI_BACKEND_URL was set (non-empty); otherwise `backendUrl` is the local default. */
  readonly explicitBackend: boolean;
  /** Running in CI (`CI=true`, as GitHub Actions sets it). */
  readonly ci: boolean;
  /** The local state directory when the backend is `file://`, else undefined. */
  readonly stateDir?: string;
  /**
   * Where pre-operation backups go: beside the state (`<stateDir>/.platform-backups`, or the
   * s3:// backend's bucket); for another backend (Pulumi Cloud keeps every version itself) a local directory.
   */
  readonly backups: { readonly kind: "file"; readonly dir: string } | { readonly kind: "s3"; readonly location: S3Location } | { readonly kind: "local"; readonly dir: string };
  /** Where a missing Pulumi CLI is installed (git-ignored `.cache/`). */
  readonly cliRoot: string;
  /** Environment for every Pulumi CLI call (process env plus the defaults above). */
  readonly env: Readonly<Record<string, string>>;
}

/** Pure: the workspace settings for `env`; tested without touching the disk. */
export function resolveWorkspaceSettings(env: NodeJS.ProcessEnv, repoRoot: string = REPO_ROOT): WorkspaceSettings {
  const explicit = env["PULUMI_BACKEND_URL"];
  const defaultDir = path.join(repoRoot, ".pulumi-state");
  const explicitBackend = explicit !== undefined && explicit.trim() !== "";
  // The CLI treats an empty PULUMI_BACKEND_URL as unset and falls back to the project's backend,
  // the stored login, then Pulumi Cloud (pulumi/pkg v3.276.0 workspace/creds.go:56-75): never
  // hand it an empty one. Environments refuse it before this default is used (requireBackend).
  const backendUrl = explicitBackend ? explicit.trim() : pathToFileURL(defaultDir).href;
  let stateDir: string | undefined;
  if (backendUrl.startsWith("file://")) {
    const rest = backendUrl.slice("file://".length);
    // `file://~/x` is the Pulumi spelling of a home-relative directory.
    stateDir = rest.startsWith("~") ? path.join(env["HOME"] ?? "", rest.slice(1)) : decodeURIComponent(new URL(backendUrl).pathname);
  }
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined) {
      merged[k] = v;
    }
  }
  merged["PULUMI_BACKEND_URL"] = backendUrl;
  // CI output must not be interleaved with "a new version is available" banners.
  merged["PULUMI_SKIP_UPDATE_CHECK"] = "true";
  const s3 = parseS3Backend(backendUrl);
  return {
    repoRoot,
    backendUrl,
    explicitBackend,
    ci: env["CI"] === "true",
    stateDir,
    backups:
      stateDir !== undefined
        ? { kind: "file", dir: path.join(stateDir, BACKUP_PREFIX) }
        : s3 !== undefined
          ? { kind: "s3", location: s3 }
          : { kind: "local", dir: path.join(defaultDir, BACKUP_PREFIX) },
    cliRoot: env["PLATFORM_PULUMI_ROOT"] ?? path.join(repoRoot, ".cache", "pulumi"),
    env: merged,
  };
}

/** The stacks that are the product's environments: their state is shared, so it must never be a local default. */
export const ENVIRONMENT_STACKS: readonly string[] = ["test", "staging", "prod"];

/**
 * test, staging and prod (and every stack in CI) need an explicit, non-empty PULUMI_BACKEND_URL:
 * a local default would look like an empty backend, and `up` would set out to create the whole
 * environment again next to the real one.
 */
export function requireBackend(settings: Pick<WorkspaceSettings, "explicitBackend" | "ci">, stack: string): void {
  if (settings.explicitBackend || (!settings.ci && !ENVIRONMENT_STACKS.includes(stack))) {
    return;
  }
  throw new UsageError(
    `PULUMI_BACKEND_URL must name the shared state backend for stack "${stack}" (it is ${settings.ci ? "unset or empty in CI" : "unset or empty"})`,
    [
      "in CI: set the repository (or environment) variable PULUMI_BACKEND_URL, e.g. s3://<state-bucket>?region=ap-northeast-2; an empty variable is an error, never a default",
      `locally: export PULUMI_BACKEND_URL=<the same backend CI uses>; a scratch stack under another name than ${ENVIRONMENT_STACKS.join("/")} may use the local .pulumi-state/`,
    ],
  );
}

/** The passphrase provider needs one of the two variables (an empty passphrase is allowed, but must be explicit). */
export function checkPassphrase(settings: WorkspaceSettings): void {
  const env = settings.env;
  const usesPassphrase = !/^https?:\/\//.test(settings.backendUrl);
  if (usesPassphrase && env["PULUMI_CONFIG_PASSPHRASE"] === undefined && env["PULUMI_CONFIG_PASSPHRASE_FILE"] === undefined) {
    throw new UsageError("PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE must be set (the stack's secrets are encrypted with it)", [
      "locally: export PULUMI_CONFIG_PASSPHRASE=... (ask the platform team); in CI it comes from a repository secret",
    ]);
  }
}

/** The @pulumi/pulumi version in node_modules (pinned by package-lock.json): the CLI must be exactly this one. */
export const SDK_VERSION: string = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as { version: string }).version;

function isPinned(cmd: PulumiCommand, version: string): boolean {
  // A CLI that prints no version (a plain `go build`) cannot be told apart: the SDK then reports
  // null (@pulumi/pulumi 3.276.0 automation/cmd.js:231-246); build it with the version stamped.
  return cmd.version !== null && cmd.version !== undefined && cmd.version.compare(version) === 0;
}

/** The subset of PulumiCommand's static API used here, injectable for tests. */
export interface PulumiInstaller {
  get(opts?: { root?: string }): Promise<PulumiCommand>;
  /** Installs the SDK's own version (`PulumiCommand.install` defaults to it: automation/cmd.js:85-136). */
  install(opts: { root: string }): Promise<PulumiCommand>;
}

/**
 * The Pulumi CLI at exactly the SDK's version: from PATH when that one is, else from the cache
 * directory, else installed there (`PulumiCommand.install`). A CLI of another version on PATH is
 * skipped: the SDK accepts any CLI above its minimum (automation/cmd.js:71-82), and a different
 * engine is a different set of facts.
 */
export async function ensurePulumiCommand(root: string, installer: PulumiInstaller = PulumiCommand, version: string = SDK_VERSION): Promise<PulumiCommand> {
  const skipped: string[] = [];
  for (const opts of [undefined, { root }]) {
    try {
      const found = await installer.get(opts);
      if (isPinned(found, version)) {
        return found;
      }
      skipped.push(`${opts === undefined ? "PATH" : root}: ${String(found.version ?? "unknown version")}`);
    } catch {
      // not on PATH / not cached yet
    }
  }
  try {
    fs.mkdirSync(root, { recursive: true });
    return await installer.install({ root });
  } catch (err) {
    throw new UsageError(
      `no pulumi CLI ${version} (the version of @pulumi/pulumi) is installed${skipped.length > 0 ? ` (found ${skipped.join(", ")})` : ""} and it could not be downloaded into ${root}: ${err instanceof Error ? err.message : String(err)}`,
      [
        `install exactly ${version} (https://www.pulumi.com/docs/iac/download-install/, \`--version ${version}\`) on PATH, or set PLATFORM_PULUMI_ROOT to a directory whose bin/pulumi is that version`,
        "`npm run platform -- plan <stack>` works offline without it",
      ],
    );
  }
}

function parseConfigText(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

function run(command: string, args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd, env, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`${path.basename(command)} ${args.join(" ")} failed: ${stderr.trim() || err.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** The project name (Pulumi.yaml `name`): DIY backends key locks and checkpoints by it. */
export const PROJECT = "platform";

/**
 * `<stateDir>/.pulumi/locks/organization/<project>/<stack>/`, where a DIY backend keeps one
 * `<uuid>.json` per lock holding `{pid, username, hostname, timestamp}` (pulumi/pkg v3.276.0
 * backend/diy/lock.go:38-61, 171-178; the `organization` segment: backend.go:191-196).
 */
export function lockDir(stateDir: string, stack: string): string {
  return path.join(stateDir, ".pulumi", "locks", "organization", PROJECT, stack);
}

/** Whether `pid` runs on this host (signal 0 checks without sending anything). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return err instanceof Error && "code" in err && err.code === "EPERM";
  }
}

/** Reads the lock files of a file backend; liveness is known only for locks written on this host. */
export function readLocks(stateDir: string, stack: string, host: string = os.hostname(), alive: (pid: number) => boolean = processAlive): UpdateLock[] {
  const dir = lockDir(stateDir, stack);
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f): UpdateLock => {
      const file = path.join(dir, f);
      let body: unknown;
      try {
        body = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch {
        return { file };
      }
      const o = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
      const pid = typeof o["pid"] === "number" ? o["pid"] : undefined;
      const hostname = typeof o["hostname"] === "string" ? o["hostname"] : undefined;
      return {
        file,
        pid,
        username: typeof o["username"] === "string" ? o["username"] : undefined,
        hostname,
        timestamp: typeof o["timestamp"] === "string" ? o["timestamp"] : undefined,
        alive: pid !== undefined && hostname === host ? alive(pid) : undefined,
      };
    });
}

export class AutomationStack implements PlatformStack {
  constructor(
    private readonly stack: Stack,
    private readonly command: PulumiCommand,
    private readonly settings: WorkspaceSettings,
  ) {}

  get name(): string {
    return this.stack.name;
  }

  async getConfig(key: string): Promise<Json | undefined> {
    let entry: { value: string; secret?: boolean };
    try {
      entry = await this.stack.getConfig(key);
    } catch (err) {
      // `pulumi config get` exits non-zero for a key that is not set.
      if (err instanceof Error && /not found/i.test(err.message)) {
        return undefined;
      }
      throw err;
    }
    // Structured values arrive as JSON text; plain ones as strings.
    return parseConfigText(entry.value);
  }

  async setConfig(values: Readonly<Record<string, Json>>): Promise<void> {
    // `config set-all --json` takes the `pulumi config --json` shape; `objectValue` makes the
    // CLI write a YAML structure (not a JSON string) into Pulumi.<stack>.yaml, so the file
    // stays reviewable and the program reads it with the same schema as before.
    const payload: Record<string, { value: string; objectValue?: Json; secret: boolean }> = {};
    for (const [key, value] of Object.entries(values)) {
      payload[key] =
        value !== null && typeof value === "object"
          ? { value: JSON.stringify(value), objectValue: value, secret: false }
          : { value: String(value), secret: false };
    }
    await this.stack.setAllConfigJson(JSON.stringify(payload));
  }

  async outputs(): Promise<Record<string, unknown>> {
    const out = await this.stack.outputs();
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(out)) {
      // The driver only needs non-secret outputs (names, colors, URLs).
      if (!v.secret) {
        plain[k] = v.value;
      }
    }
    return plain;
  }

  async preview(opts: OperationOptions): Promise<PreviewOutcome> {
    // `refresh: true` becomes --refresh, which refreshes in memory before the diff (@pulumi/pulumi
    // 3.276.0 automation/stack.js:341-343; pulumi/pkg v3.276.0 resource/deploy/deployment_executor.go:181-183).
    const res = await this.stack.preview({ ...operationArgs(opts), refresh: opts.refresh === true });
    return { changeSummary: res.changeSummary };
  }

  async up(opts: OperationOptions): Promise<UpOutcome> {
    const res = await this.stack.up({
      ...operationArgs(opts),
      // Never refresh implicitly: a refresh of the whole stack can take minutes. Only `up --refresh`
      // asks for it, to re-apply drift a refreshing check found (commands/up.ts).
      refresh: opts.refresh === true,
    });
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(res.outputs)) {
      if (!v.secret) {
        outputs[k] = v.value;
      }
    }
    return { result: res.summary.result, resourceChanges: res.summary.resourceChanges ?? {}, outputs };
  }

  updateLocks(): Promise<LockReport> {
    const dir = this.settings.stateDir;
    return Promise.resolve(dir === undefined ? { supported: false, locks: [] } : { supported: true, locks: readLocks(dir, this.stack.name) });
  }

  async exportStack(): Promise<StackState> {
    // Not Stack.exportStack(): that passes --show-secrets and would write decrypted secrets
    // into every backup. Without it, secrets stay ciphertext and the file can be re-imported.
    const text = await run(this.command.command, ["stack", "export", "--stack", this.stack.name], this.settings.repoRoot, this.settings.env);
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || !("version" in parsed) || typeof parsed.version !== "number" || !("deployment" in parsed)) {
      throw new Error(`unexpected output of pulumi stack export for ${this.stack.name}`);
    }
    return { version: parsed.version, deployment: parsed.deployment, raw: text };
  }
}

export interface OpenOptions {
  /** `--create`: a missing stack is created; without it a missing stack is an error (a wrong backend looks exactly like one). */
  readonly create: boolean;
}

/** Opens `name` in its own LocalWorkspace rooted at the repository. */
export async function openLocalStack(name: string, settings: WorkspaceSettings, opts: OpenOptions, command?: PulumiCommand): Promise<PlatformStack> {
  if (!fs.existsSync(path.join(settings.repoRoot, `Pulumi.${name}.yaml`))) {
    throw new UsageError(`unknown stack "${name}": there is no Pulumi.${name}.yaml in ${settings.repoRoot}`);
  }
  requireBackend(settings, name);
  checkPassphrase(settings);
  if (settings.stateDir !== undefined) {
    fs.mkdirSync(settings.stateDir, { recursive: true });
  }
  const pulumiCommand = command ?? (await ensurePulumiCommand(settings.cliRoot));
  const wsOpts = { workDir: settings.repoRoot, pulumiCommand, envVars: { ...settings.env }, secretsProvider: "passphrase" };
  try {
    const stack = opts.create
      ? await LocalWorkspace.createOrSelectStack({ stackName: name, workDir: settings.repoRoot }, wsOpts)
      : await LocalWorkspace.selectStack({ stackName: name, workDir: settings.repoRoot }, wsOpts);
    return new AutomationStack(stack, pulumiCommand, settings);
  } catch (err) {
    if (err instanceof StackNotFoundError) {
      throw new UsageError(`stack "${name}" does not exist in ${settings.backendUrl}`, [
        "check PULUMI_BACKEND_URL first: a wrong backend looks exactly like a missing stack",
        `to create it there: \`npm run platform -- up ${name} --create\``,
      ]);
    }
    throw err;
  }
}

/** The Automation API options preview and up share: plain output for CI logs, our own progress. */
function operationArgs(opts: OperationOptions) {
  return {
    message: opts.message,
    policyPacks: opts.policyPacks !== undefined ? [...opts.policyPacks] : undefined,
    policyPackConfigs: opts.policyPackConfigs !== undefined ? [...opts.policyPackConfigs] : undefined,
    target: opts.target !== undefined ? [...opts.target] : undefined,
    expectNoChanges: opts.expectNoChanges,
    signal: opts.signal,
    onEvent: opts.onEvent,
    onOutput: opts.onOutput,
    color: "never" as const,
    suppressProgress: true,
  };
}
