/**
 * Pure canary logic shared by the program and the driver: the rollout strategy's defaults, the
 * checks on a step schedule, and the weights an intermediate step renders. No Pulumi imports;
 * tested table-driven (test/canary.test.ts).
 *
 * How a canary moves traffic: the service's live rule is already one weighted forward action to
 * both colors' target groups (./bluegreen.ts `forwardAction`). An intermediate step only changes
 * those weights (`canaryWeight` percent to the idle color, the rest to `active`); the in-cluster
 * Service selector and the preview host's rule stay on the stable and idle colors until the final
 * step, which is the ordinary blue/green switch.
 */
import type { Color } from "../domain";

/** What the driver judges a canary step by (the new color's ALB metrics over the analysis window). */
export interface CanaryAnalysis {
  /** Largest share of the new color's requests answered 5xx (target 5xx, plus ELB 5xx where attributable), 0-1. */
  readonly max5xxRatio: number;
  /** Largest p99 of the new color's TargetResponseTime, in milliseconds. */
  readonly maxP99Ms: number;
  /** Largest p99 of the new color relative to the stable color's (1.5: at most 50% slower). */
  readonly maxP99Ratio: number;
  /** Fewest requests the new color must have served in a window for its numbers to count. */
  readonly minRequests: number;
  /** How many more windows a step may wait for `minRequests` before it fails. */
  readonly maxExtensions: number;
}

export interface CanaryRollout {
  readonly strategy: "canary";
  /** Percent of the live traffic to the new color at each intermediate step, strictly increasing, 1-99. */
  readonly steps: readonly number[];
  /** The analysis window after each step is applied at the load balancer, in seconds (a multiple of 60). */
  readonly stepSeconds: number;
  readonly analysis: CanaryAnalysis;
}

/** `blueGreen` switches all traffic at once (one targeted update); `canary` moves it in steps. */
export type Rollout = { readonly strategy: "blueGreen" } | CanaryRollout;

/**
 * The documented defaults (README "Configuration"). 300 s windows of five 1-minute ALB datapoints;
 * 100 requests before a 5xx ratio of 1% means anything (one error in a hundred); p99 at most 2 s
 * and at most 1.5x the stable color's; two extensions, so a quiet service fails a step after three
 * windows instead of passing on no evidence.
 */
export const CANARY_DEFAULTS = {
  steps: [10, 50] as readonly number[],
  stepSeconds: 300,
  analysis: { max5xxRatio: 0.01, maxP99Ms: 2000, maxP99Ratio: 1.5, minRequests: 100, maxExtensions: 2 } satisfies CanaryAnalysis,
};

/** CloudWatch publishes the ALB's metrics at 1-minute resolution: a window is whole minutes. */
export const METRIC_PERIOD_SECONDS = 60;
export const MAX_STEP_SECONDS = 3600;

/** A canary with every field at its default. */
export function defaultCanary(): CanaryRollout {
  return { strategy: "canary", steps: CANARY_DEFAULTS.steps, stepSeconds: CANARY_DEFAULTS.stepSeconds, analysis: { ...CANARY_DEFAULTS.analysis } };
}

/** The rollout a (partial, validated) config entry asks for, with the defaults filled in. */
export function normaliseRollout(
  raw:
    | { readonly strategy: "blueGreen" }
    | { readonly strategy: "canary"; readonly steps?: readonly number[]; readonly stepSeconds?: number; readonly analysis?: Partial<CanaryAnalysis> }
    | undefined,
): Rollout {
  if (raw === undefined || raw.strategy === "blueGreen") {
    return { strategy: "blueGreen" };
  }
  return {
    strategy: "canary",
    steps: raw.steps ?? CANARY_DEFAULTS.steps,
    stepSeconds: raw.stepSeconds ?? CANARY_DEFAULTS.stepSeconds,
    analysis: { ...CANARY_DEFAULTS.analysis, ...raw.analysis },
  };
}

/** What is wrong with a step schedule; empty when it is usable. Pure. */
export function stepProblems(steps: readonly number[]): string[] {
  const problems: string[] = [];
  if (steps.length === 0) {
    problems.push("has no steps (a canary needs at least one intermediate weight)");
  }
  steps.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 1 || w > 99) {
      problems.push(`step ${i + 1} is ${w}: each step is a whole percent from 1 to 99 (the final 100 is the switch itself)`);
    } else if (i > 0 && w <= (steps[i - 1] ?? 0)) {
      problems.push(`step ${i + 1} (${w}) is not above step ${i} (${steps[i - 1] ?? 0}): steps must strictly increase`);
    }
  });
  return problems;
}

/** What is wrong with an analysis window length; undefined when it is usable. Pure. */
export function stepSecondsProblem(seconds: number): string | undefined {
  if (!Number.isInteger(seconds) || seconds < METRIC_PERIOD_SECONDS || seconds > MAX_STEP_SECONDS || seconds % METRIC_PERIOD_SECONDS !== 0) {
    return `${seconds} is not a whole number of minutes from ${METRIC_PERIOD_SECONDS} to ${MAX_STEP_SECONDS} seconds (the ALB's CloudWatch metrics have 1-minute resolution)`;
  }
  return undefined;
}

/** Whether `weight` is a usable intermediate weight (whole percent, 1-99). */
export function isCanaryWeight(weight: number): boolean {
  return Number.isInteger(weight) && weight >= 1 && weight <= 99;
}

/**
 * The live forward action's weights: without `canaryWeight` 100 to `active` and 0 to the other
 * color; with it, `canaryWeight` to the idle color and the rest to `active`.
 */
export function liveWeights(active: Color, canaryWeight?: number): Record<Color, number> {
  const toIdle = canaryWeight ?? 0;
  return active === "blue" ? { blue: 100 - toIdle, green: toIdle } : { blue: toIdle, green: 100 - toIdle };
}
