/**
 * Evaluates the real program (infra/index.ts) under the mocks with a stack's own config file,
 * optionally mutated, and returns everything it declared. The program module is imported
 * fresh after `setMocks`, so one mocha process can evaluate every stack.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { strict as assert } from "assert";
import { DeclaredResource, RecordingMocks, State, waitForRegistrations } from "./mocks";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const PROJECT = "platform";
export const STACKS = ["test", "staging", "prod"] as const;
export type StackName = (typeof STACKS)[number];

/** What every `secure:` stack-file value decrypts to under the harness. */
export const MOCK_SECRET_VALUE = "https://discord.com/api/webhooks/0/mock-secret-value";

export type { Json } from "../infra/domain";
import type { Json } from "../infra/domain";
/** The stack file's `config:` map, keys fully qualified (`platform:services`, `aws:region`). */
export type StackConfig = Record<string, Json>;

export function readStackConfig(stack: string): StackConfig {
  const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: StackConfig } | null;
  return structuredClone(doc?.config ?? {});
}

function toRuntimeConfig(config: StackConfig): { values: Record<string, string>; secretKeys: string[] } {
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      // The decrypted value a `secure:` entry stands for; shaped like the only secret key's value.
      values[key] = MOCK_SECRET_VALUE;
      secretKeys.push(key);
    } else {
      values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { values, secretKeys };
}

export interface Evaluation {
  readonly stack: string;
  readonly resources: readonly DeclaredResource[];
  readonly outputs: Record<string, unknown>;
  readonly invokes: ReadonlyArray<{ token: string; inputs: Record<string, unknown> }>;
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

function clearProgramModules(): void {
  const infraDir = path.join(REPO_ROOT, "infra") + path.sep;
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(infraDir)) {
      delete require.cache[key];
    }
  }
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

/**
 * Runs `program` under fresh mocks with `config` as the stack's config and returns what it
 * declared. `program` is called after `setMocks`, so it may import the program's modules.
 */
export async function evaluateProgram(
  stack: string,
  config: StackConfig,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<Evaluation> {
  const settled = await settleProgram(stack, config, program);
  if (settled.error !== undefined) {
    throw settled.error;
  }
  return settled.evaluation;
}

/** Like `evaluateProgram`, but a failing program yields its error next to what it had declared. */
export async function settleProgram(
  stack: string,
  config: StackConfig,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<{ error?: unknown; evaluation: Evaluation }> {
  const azs = config["platform:availabilityZones"];
  const mocks = new RecordingMocks({ availabilityZones: Array.isArray(azs) ? azs.map(String) : ["ap-northeast-2a", "ap-northeast-2c"] });
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  const { values, secretKeys } = toRuntimeConfig(config);
  pulumi.runtime.setAllConfig(values, secretKeys);
  let programError: unknown;
  const exported = await pulumi.runtime.runInPulumiStack(async () => {
    try {
      return await program();
    } catch (err) {
      programError = err;
      return {};
    }
  });
  await waitForRegistrations();
  const resources = withParents(mocks.resources);
  if (programError !== undefined) {
    return { error: programError, evaluation: { stack, resources, outputs: {}, invokes: [...mocks.invokes] } };
  }
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exported ?? {})) {
    outputs[k] = await awaitOutput(v as pulumi.Input<unknown>);
  }
  return { evaluation: { stack, resources, outputs, invokes: [...mocks.invokes] } };
}

/**
 * Runs the real program (infra/index.ts) for `stack` with its config file, after `mutate` edits
 * a copy of the config. Rejects with the program's error (e.g. a ConfigError) if it fails.
 */
export function evaluateStack(stack: string, mutate?: (config: StackConfig) => void): Promise<Evaluation> {
  const config = readStackConfig(stack);
  mutate?.(config);
  return evaluateProgram(stack, config, importProgram);
}

/** Runs infra/index.ts like `evaluateStack`, returning the error and what was declared before it. */
export function settleStack(stack: string, mutate?: (config: StackConfig) => void): Promise<{ error?: unknown; evaluation: Evaluation }> {
  const config = readStackConfig(stack);
  mutate?.(config);
  return settleProgram(stack, config, importProgram);
}

function importProgram(): Record<string, unknown> {
  clearProgramModules();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(REPO_ROOT, "infra", "index.ts")) as Record<string, unknown>;
}

/** Resources of one type token, e.g. `aws:rds/instance:Instance`. */
export function ofType(ev: Evaluation, type: string): DeclaredResource[] {
  return ev.resources.filter((r) => r.type === type);
}

/** The single resource of `type` named `name`; throws with the names that do exist otherwise. */
export function named(ev: Evaluation, type: string, name: string): DeclaredResource {
  const all = ofType(ev, type);
  const found = all.find((r) => r.name === name);
  if (found === undefined) {
    throw new Error(`no ${type} named "${name}" in ${ev.stack}; declared: ${all.map((r) => r.name).join(", ") || "none"}`);
  }
  return found;
}

/** Asserts that an input is an object (not an array) and returns it typed. */
export function obj(v: unknown): State {
  assert.ok(v !== null && typeof v === "object" && !Array.isArray(v), `expected an object, got ${JSON.stringify(v)}`);
  return v as State;
}

/** Asserts that an input is an array and returns it. */
export function list(v: unknown): unknown[] {
  assert.ok(Array.isArray(v), `expected an array, got ${JSON.stringify(v)}`);
  return v;
}

/** Evaluations are deterministic, so each stack's is computed once per mocha run. */
const cache = new Map<string, Promise<Evaluation>>();
export function shippedStack(stack: StackName): Promise<Evaluation> {
  let ev = cache.get(stack);
  if (ev === undefined) {
    ev = evaluateStack(stack);
    cache.set(stack, ev);
  }
  return ev;
}
