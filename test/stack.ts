/**
 * Test helpers over the offline evaluator (automation/offline/evaluate.ts): the shipped stacks
 * and edited configs are evaluated through `buildPlatform` once per process and shared;
 * components tested on their own are declared with explicit args under the same mocks.
 */
import { strict as assert } from "assert";
import { Evaluation, evaluateProgram, evaluateStack, readStackConfig, StackConfig, StackName } from "../automation/offline/evaluate";
import type { ConfigValue } from "../infra/config/defaults";
import { loadSecrets, parsePlatformConfig } from "../infra/config/load";
import { policyView } from "../infra/config/policy";
import { buildPlatform } from "../infra/platform";
import type { DeclaredResource, State } from "../automation/offline/mocks";

export {
  awaitOutput,
  evaluateStack,
  MOCK_SECRET_VALUE,
  readStackConfig,
  REPO_ROOT,
  settleProgram,
  settleStack,
  STACKS,
} from "../automation/offline/evaluate";
export type { DeclaredOptions, Evaluation, Json, Settled, StackConfig, StackName } from "../automation/offline/evaluate";

/** A shipped stack as its own config file declares it (shared with every other test). */
export function shippedStack(stack: StackName): Promise<Evaluation> {
  return evaluateStack(stack);
}

/**
 * Declares components with explicit args under the mocks (no stack config is read), for tests of
 * a component's own behaviour; what a stack declares is tested through `evaluateStack`.
 * `program` returns values to resolve into `outputs`.
 */
export function declare(program: () => Record<string, unknown>, stack = "prod"): Promise<Evaluation> {
  return evaluateProgram(stack, {}, program);
}

/**
 * What the program declares for a stack whose policy config lifts every production invariant (as
 * documented exceptions would): config validation then lets an insecure setting through, so a
 * test can show that the policy pack stops it on its own. Not cached.
 */
export function evaluateLifted(stack: StackName, mutate: (config: StackConfig) => void): Promise<Evaluation> {
  const config = readStackConfig(stack);
  mutate(config);
  const raw: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:")) {
      raw[k.slice("platform:".length)] = v;
    }
  }
  const region = typeof config["aws:region"] === "string" ? config["aws:region"] : undefined;
  const lifted = policyView("prod", { all: "advisory" });
  return evaluateProgram(stack, config, () => ({ ...buildPlatform(parsePlatformConfig(stack, raw, region, { policy: lifted }), loadSecrets()) }));
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

/** The options `type::name` was declared with; fails when none were recorded. */
export function optionsOf(ev: Evaluation, type: string, name: string): NonNullable<ReturnType<Evaluation["options"]["get"]>> {
  const found = ev.options.get(`${type}::${name}`);
  assert.ok(found !== undefined, `no options recorded for ${type}::${name}`);
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
