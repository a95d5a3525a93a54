/**
 * The offline evaluator: runs the real program (`buildPlatform`, infra/platform.ts) under the
 * Pulumi SDK's mocks with a stack's own config file, optionally edited, and returns everything it
 * declared: resources with their inputs, parents and resource options, invokes, and outputs.
 * `plan`, `npm run bench` and the tests use it; nothing is contacted (no cloud, no CLI, no backend).
 *
 * The SDK's runtime is process-global, so evaluations run one at a time (a queue). The program
 * is a function with no module state, so one process evaluates any number of stacks and configs
 * without reloading it; `evaluateStack` and `settleStack` share each (stack, config) result.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ConfigError, loadConfig, loadSecrets } from "../../infra/config/load";
import type { Json } from "../../infra/domain";
import { buildPlatform } from "../../infra/platform";
import { DeclaredResource, RecordingMocks, waitForRegistrations } from "./mocks";

export type { Json } from "../../infra/domain";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT = "platform";
export const STACKS = ["test", "staging", "prod"] as const;
export type StackName = (typeof STACKS)[number];

/** What every `secure:` stack-file value decrypts to under the mocks. */
export const MOCK_SECRET_VALUE = "https://discord.com/api/webhooks/0/mock-secret-value";

/** The stack file's `config:` map, keys fully qualified (`platform:services`, `aws:region`). */
export type StackConfig = Record<string, Json>;

function describeType(value: unknown): string {
  return value === null ? "empty" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a map" : `${typeof value === "string" ? "text" : `a ${typeof value}`} (${JSON.stringify(value)?.slice(0, 40)})`;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The stack file's `config:` map. A file the Pulumi CLI could not load either (invalid YAML, a
 * document that is not a map, `config:` that is not a map, keys without a namespace) is a
 * ConfigError naming the file or key, like any other config problem.
 */
export function readStackConfig(stack: string): StackConfig {
  const name = `Pulumi.${stack}.yaml`;
  const problem = (key: string, value: Json | undefined, what: string, fix: string): ConfigError => new ConfigError(stack, [{ key, value, problem: what, fix }]);
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, name), "utf8"));
  } catch (err) {
    const message = err instanceof Error ? (err.message.split("\n")[0] ?? err.message) : String(err);
    throw problem(name, undefined, `is not valid YAML: ${message}`, "fix the line it names (the file is a map with a config: key, e.g. `config:` then `  platform:environment: prod`)");
  }
  if (doc === null || doc === undefined) {
    return {};
  }
  if (!isMap(doc)) {
    throw problem(name, undefined, `is ${describeType(doc)}, not a map of stack settings`, "start the file with `config:` and indent the platform:* keys under it");
  }
  const config = doc["config"];
  if (config === undefined || config === null) {
    return {};
  }
  if (!isMap(config)) {
    throw problem("config", undefined, `is ${describeType(config)}, not a map of keys`, "indent the keys under config:, one per line, e.g. `  platform:environment: prod`");
  }
  const bare = Object.keys(config).filter((k) => !/^[^:\s]+:[^:\s]/.test(k));
  if (bare.length > 0) {
    throw new ConfigError(
      stack,
      bare.map((k) => ({ key: `config.${k}`, value: undefined, problem: "is not a namespaced key (namespace:key)", fix: `write it as platform:${k} (or aws:${k} for the provider's settings)` })),
    );
  }
  return structuredClone(config) as StackConfig;
}

function isSecure(value: Json): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value && Object.keys(value).length === 1;
}

/** `value` with every nested `secure:` entry decrypted to the mock value, and whether there was one. */
function decrypt(value: Json): { value: Json; secret: boolean } {
  if (isSecure(value)) {
    return { value: MOCK_SECRET_VALUE, secret: true };
  }
  if (Array.isArray(value)) {
    const parts = value.map(decrypt);
    return { value: parts.map((p) => p.value), secret: parts.some((p) => p.secret) };
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => [k, decrypt(v)] as const);
    return { value: Object.fromEntries(entries.map(([k, p]) => [k, p.value])), secret: entries.some(([, p]) => p.secret) };
  }
  return { value, secret: false };
}

/**
 * The runtime config the Pulumi CLI would hand the program: `secure:` values decrypted (to the
 * mock value here) and their keys marked secret; a structured value with a secure part anywhere is
 * secret as a whole, as `pulumi config set --path --secret` makes it.
 */
function toRuntimeConfig(config: StackConfig): { values: Record<string, string>; secretKeys: string[] } {
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, raw] of Object.entries(config)) {
    const { value, secret } = decrypt(raw);
    values[key] = typeof value === "string" ? value : JSON.stringify(value);
    if (secret) {
      secretKeys.push(key);
    }
  }
  return { values, secretKeys };
}

/** The resource options a resource was declared with (the mocks see inputs only). */
export interface DeclaredOptions {
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  readonly deleteBeforeReplace?: boolean;
  readonly ignoreChanges?: readonly string[];
  readonly replaceOnChanges?: readonly string[];
  /** `type::name` of each explicit dependency. */
  readonly dependsOn: readonly string[];
}

export interface Evaluation {
  readonly stack: string;
  readonly resources: readonly DeclaredResource[];
  readonly outputs: Record<string, unknown>;
  readonly invokes: ReadonlyArray<{ token: string; inputs: Record<string, unknown> }>;
  /** Resource options by `type::name`. */
  readonly options: ReadonlyMap<string, DeclaredOptions>;
  /** Dotted paths of the outputs that are Pulumi secrets (e.g. `cluster.kubeconfig`); `outputs` holds their plain values. */
  readonly secretOutputs: readonly string[];
}

/** A program's error (e.g. a ConfigError) next to what it had declared before failing. */
export interface Settled {
  readonly error?: unknown;
  readonly evaluation: Evaluation;
}

/** Resolves an Output (or plain value) under mocks; never asserts inside `apply`. */
export function awaitOutput<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise<T>((resolve) => {
    pulumi.output(value).apply((v) => {
      resolve(v as T);
      return v;
    });
  });
}

/**
 * Adds each resource's parent type, read from the URNs the mock monitor minted
 * (`urn:pulumi:<stack>::<project>::<parentType>$<type>::<name>`).
 */
function withParents(resources: readonly DeclaredResource[]): DeclaredResource[] {
  const monitor = pulumi.runtime.getMonitor() as unknown as { resources?: Map<string, { urn: string }> } | undefined;
  const parents = new Map<string, string>();
  for (const urn of monitor?.resources?.keys() ?? []) {
    const parts = urn.split("::");
    const name = parts.slice(3).join("::");
    const chain = (parts[2] ?? "").split("$");
    const type = chain[chain.length - 1];
    if (chain.length > 1) {
      parents.set(`${type}::${name}`, chain[chain.length - 2]);
    }
  }
  return resources.map((r) => {
    const parentType = parents.get(`${r.type}::${r.name}`);
    return parentType !== undefined ? { ...r, parentType } : r;
  });
}

/** The dotted paths of the secret Outputs in an exported value (nested in plain objects and arrays). */
async function secretPaths(value: unknown, at: string): Promise<string[]> {
  if (pulumi.Output.isInstance(value)) {
    return (await pulumi.isSecret(value)) ? [at] : [];
  }
  if (value !== null && typeof value === "object" && !(value instanceof pulumi.Resource)) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    const nested = await Promise.all(entries.map(([k, v]) => secretPaths(v, at === "" ? k : `${at}.${k}`)));
    return nested.flat();
  }
  return [];
}

/** Records every resource's options through a stack transformation (it sees them as declared). */
function recordOptions(into: Map<string, DeclaredOptions>): void {
  const keys = new WeakMap<pulumi.Resource, string>();
  pulumi.runtime.registerStackTransformation((args) => {
    const key = `${args.type}::${args.name}`;
    keys.set(args.resource, key);
    const o = args.opts as pulumi.CustomResourceOptions;
    const deps = o.dependsOn;
    const list: unknown[] = Array.isArray(deps) ? deps : deps instanceof pulumi.Resource ? [deps] : [];
    into.set(key, {
      protect: o.protect,
      retainOnDelete: o.retainOnDelete,
      deleteBeforeReplace: o.deleteBeforeReplace,
      ignoreChanges: o.ignoreChanges,
      replaceOnChanges: o.replaceOnChanges,
      dependsOn: list.flatMap((d) => (d instanceof pulumi.Resource && keys.has(d) ? [keys.get(d) ?? ""] : [])),
    });
    return undefined;
  });
}

/** The Pulumi program of a stack: what `infra/index.ts` runs, returning its outputs. */
export function platformProgram(): Record<string, unknown> {
  return { ...buildPlatform(loadConfig(), loadSecrets()) };
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `task` after every evaluation queued before it: the SDK's runtime state is global. */
function serialized<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

/**
 * The SDK captures a stack trace for every promise it creates (`new Error().stack` in
 * `debuggablePromise`, @pulumi/pulumi 3.276.0 runtime/debuggable.js, kept for its leak report),
 * and under ts-node each capture is source-mapped frame by frame: that was most of an
 * evaluation's CPU time. Traces are therefore off while the program runs; the program's own
 * errors carry their messages (ConfigError, ResourceError). PLATFORM_STACK_TRACES=1 keeps them,
 * for debugging a failure inside the program.
 */
async function withoutStackTraces<T>(task: () => Promise<T>): Promise<T> {
  if (process.env["PLATFORM_STACK_TRACES"] === "1") {
    return task();
  }
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await task();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Runs `program` under fresh mocks with `config` as the stack's config and returns what it
 * declared, and its error if it failed. Not cached: `settleStack` is the shared form.
 */
export function settleProgram(
  stack: string,
  config: StackConfig,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>> = platformProgram,
): Promise<Settled> {
  return serialized(() => withoutStackTraces(() => runProgram(stack, config, program)));
}

async function runProgram(stack: string, config: StackConfig, program: () => Record<string, unknown> | Promise<Record<string, unknown>>): Promise<Settled> {
  const azs = config["platform:availabilityZones"];
  const mocks = new RecordingMocks({ availabilityZones: Array.isArray(azs) ? azs.map(String) : ["ap-northeast-2a", "ap-northeast-2c"] });
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  const { values, secretKeys } = toRuntimeConfig(config);
  pulumi.runtime.setAllConfig(values, secretKeys);
  const options = new Map<string, DeclaredOptions>();
  let programError: unknown;
  // The program's own return value: runInPulumiStack resolves it, which drops secretness.
  let returned: Record<string, unknown> = {};
  const exported = await pulumi.runtime.runInPulumiStack(async () => {
    try {
      recordOptions(options);
      returned = await program();
      return returned;
    } catch (err) {
      programError = err;
      return {};
    }
  });
  await waitForRegistrations();
  const resources = withParents(mocks.resources);
  const invokes = [...mocks.invokes];
  if (programError !== undefined) {
    return { error: programError, evaluation: { stack, resources, outputs: {}, invokes, options, secretOutputs: [] } };
  }
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exported ?? {})) {
    outputs[k] = await awaitOutput(v as pulumi.Input<unknown>);
  }
  const secretOutputs = await secretPaths(returned, "");
  return { evaluation: { stack, resources, outputs, invokes, options, secretOutputs } };
}

/** Like `settleProgram`, but rejects with the program's error. */
export async function evaluateProgram(
  stack: string,
  config: StackConfig,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>> = platformProgram,
): Promise<Evaluation> {
  const settled = await settleProgram(stack, config, program);
  if (settled.error !== undefined) {
    throw settled.error;
  }
  return settled.evaluation;
}

/** Evaluations are deterministic, so each (stack, config) is evaluated once per process. */
const cache = new Map<string, Promise<Settled>>();

/**
 * The program's evaluation for `stack` with its config file, after `mutate` edits a copy of the
 * config, and its error if it failed. Shared: the same stack and config content evaluate once.
 */
export function settleStack(stack: string, mutate?: (config: StackConfig) => void): Promise<Settled> {
  const config = readStackConfig(stack);
  mutate?.(config);
  const key = `${stack}\u0000${JSON.stringify(config)}`;
  let settled = cache.get(key);
  if (settled === undefined) {
    settled = settleProgram(stack, config);
    cache.set(key, settled);
  }
  return settled;
}

/** Like `settleStack`, but rejects with the program's error (e.g. a ConfigError). */
export async function evaluateStack(stack: string, mutate?: (config: StackConfig) => void): Promise<Evaluation> {
  const settled = await settleStack(stack, mutate);
  if (settled.error !== undefined) {
    throw settled.error;
  }
  return settled.evaluation;
}
