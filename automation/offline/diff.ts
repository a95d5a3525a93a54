/**
 * The resource-by-resource comparison of two evaluations, which defines what a blue/green flip
 * changes (`npm run bench` reports it; the flip tests assert it).
 */
import type { DeclaredResource } from "./mocks";
import { evaluateStack, Evaluation, Json, StackConfig } from "./evaluate";
import { normalise } from "./summary";

/** `type::name`: a resource's identity within a stack (what a URN adds is the stack and parents). */
export function resourceKey(r: Pick<DeclaredResource, "type" | "name">): string {
  return `${r.type}::${r.name}`;
}

/** Paths (a.b[0].c) at which two JSON values differ. */
export function differences(a: unknown, b: unknown, path = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) {
    return [];
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${path}[${k}]` : path === "" ? k : `${path}.${k}`),
    );
  }
  return [path];
}

export interface EvaluationDiff {
  /** Keys (`type::name`) only the second evaluation declares. */
  readonly added: readonly string[];
  /** Keys only the first evaluation declares. */
  readonly removed: readonly string[];
  /** Keys declared by both with different inputs (embedded JSON expanded), and where they differ. */
  readonly changed: ReadonlyMap<string, readonly string[]>;
}

/** What would change going from `a` to `b`, by logical identity and normalised inputs. */
export function diffEvaluations(a: Evaluation, b: Evaluation): EvaluationDiff {
  const before = new Map(a.resources.map((r) => [resourceKey(r), r]));
  const after = new Map(b.resources.map((r) => [resourceKey(r), r]));
  const changed = new Map<string, string[]>();
  for (const [key, x] of before) {
    const y = after.get(key);
    if (y !== undefined) {
      const paths = differences(normalise(x.inputs), normalise(y.inputs));
      if (paths.length > 0) {
        changed.set(key, paths);
      }
    }
  }
  return {
    added: [...after.keys()].filter((k) => !before.has(k)).sort(),
    removed: [...before.keys()].filter((k) => !after.has(k)).sort(),
    changed,
  };
}

/** A config edit that makes `color` the active color of `service`. */
export function activating(service: string, color: "blue" | "green"): (config: StackConfig) => void {
  return (config) => {
    const services = config["platform:services"];
    const entry = Array.isArray(services) ? services.find((s): s is { [key: string]: Json } => s !== null && typeof s === "object" && !Array.isArray(s) && s["name"] === service) : undefined;
    if (entry === undefined) {
      throw new Error(`no service "${service}" in platform:services`);
    }
    entry["active"] = color;
  };
}

export interface FlipDiff {
  readonly blue: Evaluation;
  readonly green: Evaluation;
  /** From blue active to green active. */
  readonly diff: EvaluationDiff;
}

/** Evaluates `stack` with `service` on blue, then on green (after `mutate`), and compares them. */
export async function flipDiff(stack: string, service: string, mutate?: (config: StackConfig) => void): Promise<FlipDiff> {
  const withColor = (color: "blue" | "green"): Promise<Evaluation> =>
    evaluateStack(stack, (c) => {
      mutate?.(c);
      activating(service, color)(c);
    });
  const blue = await withColor("blue");
  const green = await withColor("green");
  return { blue, green, diff: diffEvaluations(blue, green) };
}
