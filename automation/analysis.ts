/**
 * The canary's verdict on one analysis window, pure: the new color's numbers (and the stable
 * color's, for the relative latency bound) against the service's thresholds. Table-tested in
 * test/automation/analysis.test.ts.
 *
 * In order, the first that applies decides:
 * 1. any unhealthy target of the new color fails the step (the ALB's own health check failed it);
 * 2. too few requests to judge: extend the window while extensions remain, then fail;
 * 3. 5xx ratio of the new color above `max5xxRatio` fails (target 5xx plus, where the metrics source
 *    attributes them, the load balancer's 5xx for the color);
 * 4. no latency datapoint although requests were served (metrics still arriving): extend, then fail;
 * 5. p99 above `maxP99Ms` fails;
 * 6. p99 above `maxP99Ratio` x the stable color's p99 fails, judged only when the stable color served
 *    at least `minRequests` itself (else there is nothing reliable to compare with, and it is said);
 * 7. otherwise the step passes.
 * Every threshold is a maximum: a value equal to it passes. NaN or negative numbers (a broken
 * source) count as absent: no requests, no errors, no datapoint.
 */
import type { CanaryAnalysis } from "../infra/lib/canary";
import type { ColorWindow } from "./ports";

export type Verdict = "pass" | "fail" | "extend";

/** The threshold a window broke (or, for `extend`, the one it could not yet be judged by). */
export interface Breach {
  readonly metric: "unhealthyHosts" | "requests" | "5xxRatio" | "p99Ms" | "p99Ratio" | "latencyData";
  readonly value: number;
  readonly threshold: number;
}

export interface WindowVerdict {
  readonly verdict: Verdict;
  /** One line with the numbers, for logs, the outcome and the Discord notification. */
  readonly reason: string;
  readonly canary: ColorWindow;
  readonly stable: ColorWindow;
  readonly breach?: Breach;
}

function finite(v: number | undefined): number | undefined {
  return v === undefined || !Number.isFinite(v) || v < 0 ? undefined : v;
}

/** The window with broken numbers taken as absent. */
export function cleanWindow(w: ColorWindow): ColorWindow {
  const elb5xx = finite(w.elb5xx);
  const p99Ms = finite(w.p99Ms);
  const unhealthyHosts = finite(w.unhealthyHosts);
  return {
    requests: finite(w.requests) ?? 0,
    target5xx: finite(w.target5xx) ?? 0,
    ...(elb5xx !== undefined ? { elb5xx } : {}),
    ...(p99Ms !== undefined ? { p99Ms } : {}),
    ...(unhealthyHosts !== undefined ? { unhealthyHosts } : {}),
  };
}

/** 5xx responses of the color: its targets', plus the load balancer's where attributed. */
export function errorsOf(w: ColorWindow): number {
  return w.target5xx + (w.elb5xx ?? 0);
}

const pct = (ratio: number): string => `${(ratio * 100).toFixed(ratio < 0.001 && ratio > 0 ? 3 : 2)}%`;
const ms = (v: number | undefined): string => (v === undefined ? "no p99" : `p99 ${Math.round(v)} ms`);

/** One color's numbers on one line: "300 requests, 3 5xx (1.00%), p99 420 ms, 0 unhealthy". */
export function formatWindow(w: ColorWindow): string {
  const errors = errorsOf(w);
  const ratio = w.requests > 0 ? ` (${pct(errors / w.requests)})` : "";
  const elb = w.elb5xx !== undefined ? ` incl. ${w.elb5xx} from the load balancer` : "";
  const unhealthy = w.unhealthyHosts === undefined ? "" : `, ${w.unhealthyHosts} unhealthy`;
  return `${w.requests} requests, ${errors} 5xx${elb}${ratio}, ${ms(w.p99Ms)}${unhealthy}`;
}

/**
 * The verdict on one window. `extensionsUsed`: how many times this step's window was extended
 * already (each extension waits one more window and judges the whole of it again).
 */
export function judgeWindow(windows: { readonly canary: ColorWindow; readonly stable: ColorWindow }, analysis: CanaryAnalysis, extensionsUsed: number): WindowVerdict {
  const canary = cleanWindow(windows.canary);
  const stable = cleanWindow(windows.stable);
  const numbers = `new color: ${formatWindow(canary)}; stable: ${formatWindow(stable)}`;
  const fail = (breach: Breach, why: string): WindowVerdict => ({ verdict: "fail", reason: `${why} (${numbers})`, canary, stable, breach });
  const waitOrFail = (breach: Breach, why: string): WindowVerdict =>
    extensionsUsed < analysis.maxExtensions
      ? { verdict: "extend", reason: `${why}; extending the window (${extensionsUsed + 1} of ${analysis.maxExtensions}) (${numbers})`, canary, stable, breach }
      : fail(breach, `${why} after ${analysis.maxExtensions} extension(s)`);

  if ((canary.unhealthyHosts ?? 0) > 0) {
    return fail({ metric: "unhealthyHosts", value: canary.unhealthyHosts ?? 0, threshold: 0 }, `${canary.unhealthyHosts ?? 0} target(s) of the new color unhealthy at the load balancer`);
  }
  if (canary.requests < analysis.minRequests) {
    return waitOrFail({ metric: "requests", value: canary.requests, threshold: analysis.minRequests }, `too little traffic to judge: ${canary.requests} of ${analysis.minRequests} requests`);
  }
  const ratio = errorsOf(canary) / canary.requests;
  if (ratio > analysis.max5xxRatio) {
    return fail({ metric: "5xxRatio", value: ratio, threshold: analysis.max5xxRatio }, `5xx ratio ${pct(ratio)} above the maximum ${pct(analysis.max5xxRatio)}`);
  }
  if (canary.p99Ms === undefined) {
    return waitOrFail({ metric: "latencyData", value: 0, threshold: 1 }, `no TargetResponseTime datapoint for ${canary.requests} requests yet`);
  }
  if (canary.p99Ms > analysis.maxP99Ms) {
    return fail({ metric: "p99Ms", value: canary.p99Ms, threshold: analysis.maxP99Ms }, `p99 ${Math.round(canary.p99Ms)} ms above the maximum ${analysis.maxP99Ms} ms`);
  }
  const comparable = stable.p99Ms !== undefined && stable.p99Ms > 0 && stable.requests >= analysis.minRequests;
  if (comparable && stable.p99Ms !== undefined) {
    const relative = canary.p99Ms / stable.p99Ms;
    if (relative > analysis.maxP99Ratio) {
      return fail(
        { metric: "p99Ratio", value: relative, threshold: analysis.maxP99Ratio },
        `p99 ${relative.toFixed(3).replace(/\.?0+$/, "")}x the stable color's (${Math.round(canary.p99Ms)} vs ${Math.round(stable.p99Ms)} ms), above the maximum ${analysis.maxP99Ratio}x`,
      );
    }
  }
  const relativeNote = comparable ? "" : "; the stable color served too little to compare latency with";
  return { verdict: "pass", reason: `within every threshold${relativeNote} (${numbers})`, canary, stable };
}
