/**
 * `CanaryMetrics` over the load-balancer double's per-target-group counters: what production
 * reads from CloudWatch `AWS/ApplicationELB` (automation/adapters/cloudwatch.ts), carried in the
 * same `ColorWindow` shape, so the driver's canary analysis runs unchanged on real traffic that
 * went through the double's router to the colors' loopback backends.
 *
 * The double's counters are cumulative and carry no timestamps, so this samples them every
 * `intervalMs` and answers a window [from, to) with the difference between the last sample at or
 * before `from` and a fresh sample taken when asked (to is always "now" for the driver: it asks
 * right after its window elapsed). Differences from CloudWatch, each kinder or stricter in a
 * known way:
 * - windows are exact to the sampling interval, not whole minutes (cloudwatch.ts alignedWindow);
 * - `elb5xx` is attributed per target group (the double knows which group a 502/503/504 was for;
 *   CloudWatch publishes HTTPCode_ELB_5XX_Count per load balancer only, so there it is undefined);
 * - p99 is exact over the window's responses (CloudWatch: the largest per-minute p99);
 * - `unhealthyHosts` is undefined (no datapoint): the double probes health only when asked
 *   (DescribeTargetHealth) and has no periodic health-check series; a failing color shows up in
 *   its 5xx instead;
 * - an unknown load balancer or target group ARN is an error here; CloudWatch would answer with no
 *   datapoints, which reads as "no traffic".
 */
import type { Color } from "../../infra/domain";
import { COLORS } from "../../infra/domain";
import type { CanaryMetrics, ColorWindow, MetricsWindowQuery } from "../../automation/ports";
import type { LoadBalancerDouble } from "./lbDouble/double";

interface Counters {
  readonly requests: number;
  readonly target5xx: number;
  readonly elb5xx: number;
  /** How many response times were recorded so far (the array only grows until resetMetrics). */
  readonly times: number;
}

interface Sample {
  readonly at: number;
  readonly groups: ReadonlyMap<string, Counters>;
}

const ZERO: Counters = { requests: 0, target5xx: 0, elb5xx: 0, times: 0 };

/** The p99 (nearest rank) of `values`; undefined for none. */
export function p99(values: readonly number[]): number | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
}

export class DoubleCanaryMetrics implements CanaryMetrics {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;
  /** Every window answered, for assertions (what the driver's analysis was given). */
  readonly windows: Array<{ readonly query: MetricsWindowQuery; readonly result: Readonly<Record<Color, ColorWindow>> }> = [];

  constructor(
    private readonly lb: LoadBalancerDouble,
    private readonly now: () => number = Date.now,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): Sample {
    const groups = new Map<string, Counters>();
    for (const m of this.lb.metrics()) {
      groups.set(m.targetGroupArn, { requests: m.requests, target5xx: m.target5xx, elb5xx: m.elb5xx, times: m.targetResponseTimesMs.length });
    }
    const s: Sample = { at: this.now(), groups };
    this.samples.push(s);
    return s;
  }

  window(query: MetricsWindowQuery, signal: AbortSignal): Promise<Readonly<Record<Color, ColorWindow>>> {
    if (signal.aborted) {
      return Promise.reject(signal.reason);
    }
    const alb = this.lb.applied;
    if (alb === undefined || alb.loadBalancer.LoadBalancerArn !== query.loadBalancerArn) {
      return Promise.reject(new Error(`load-balancer double: no load balancer ${query.loadBalancerArn} (serving ${alb?.loadBalancer.LoadBalancerArn ?? "none"})`));
    }
    const end = this.sample();
    const base = [...this.samples].reverse().find((s) => s.at <= query.from) ?? this.samples[0];
    const result = {} as Record<Color, ColorWindow>;
    for (const color of COLORS) {
      const arn = query.targetGroupArns[color];
      if (!alb.targetGroups.some((tg) => tg.description.TargetGroupArn === arn)) {
        return Promise.reject(new Error(`load-balancer double: no target group ${arn} for ${query.service} ${color}`));
      }
      result[color] = this.between(arn, base, end);
    }
    this.windows.push({ query, result });
    return Promise.resolve(result);
  }

  private between(arn: string, base: Sample | undefined, end: Sample): ColorWindow {
    const after = end.groups.get(arn) ?? ZERO;
    let before = base?.groups.get(arn) ?? ZERO;
    // resetMetrics() in between: everything counted since is in the window.
    if (after.requests < before.requests || after.times < before.times) {
      before = ZERO;
    }
    const times = this.lb.metrics().find((m) => m.targetGroupArn === arn)?.targetResponseTimesMs.slice(before.times, after.times) ?? [];
    const latency = p99(times);
    return {
      requests: after.requests - before.requests,
      target5xx: after.target5xx - before.target5xx,
      elb5xx: after.elb5xx - before.elb5xx,
      ...(latency !== undefined ? { p99Ms: latency } : {}),
    };
  }
}
