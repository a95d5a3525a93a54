/**
 * The load balancer's per-color metrics, in memory, counted the way the ALB counts them: each
 * service gets `requestsPerSecond` of live traffic, split between its colors by the weights its
 * live rule had applied at each moment (the fake load balancer's history, so the controller's
 * lag is paid in traffic too); a color's errors and latency are those of the image it runs.
 * Windows are judged on the injected clock. The query is resolved like the real one: by the load
 * balancer and target group ARNs the routing reading reported, so a step whose reading carried
 * no ARNs never reaches here.
 */
import { Color, COLORS } from "../../infra/config/schema";
import { CanaryMetrics, ColorWindow, MetricsWindowQuery } from "../../automation/ports";
import { fakeLoadBalancerArn, fakeTargetGroupArn, FakeLoadBalancer } from "./fakeRouting";
import { HealthWorld } from "./loopback";

/** How an image behaves under traffic. */
export interface ImageProfile {
  /** Share of its requests answered 5xx by the targets. */
  readonly errorRatio?: number;
  /** Share answered 5xx by the load balancer (a target that resets connections). */
  readonly elbErrorRatio?: number;
  readonly p99Ms?: number;
  readonly unhealthyHosts?: number;
}

export class FakeMetrics implements CanaryMetrics {
  readonly queries: MetricsWindowQuery[] = [];
  /** Live requests per second per service. */
  requestsPerSecond = 10;
  readonly profiles = new Map<string, ImageProfile>();
  /** Every query from this one on (1-based) is refused, as an API error would be. */
  failFrom?: number;
  /** Whether the source attributes the load balancer's own 5xx to a color (CloudWatch does not). */
  attributesElb5xx = false;
  /** Hook run at every query (tests interrupt from here: the analysis window is when it lands). */
  onWindow?: (query: MetricsWindowQuery) => void;

  constructor(
    private readonly lb: FakeLoadBalancer,
    private readonly world: HealthWorld,
  ) {}

  window(query: MetricsWindowQuery): Promise<Readonly<Record<Color, ColorWindow>>> {
    this.queries.push(query);
    this.onWindow?.(query);
    if (this.failFrom !== undefined && this.queries.length >= this.failFrom) {
      return Promise.reject(new Error("CloudWatch GetMetricData failed: Throttling: Rate exceeded"));
    }
    if (query.loadBalancerArn !== fakeLoadBalancerArn(query.stack) || COLORS.some((c) => query.targetGroupArns[c] !== fakeTargetGroupArn(query.stack, query.service, c))) {
      return Promise.resolve({ blue: { requests: 0, target5xx: 0 }, green: { requests: 0, target5xx: 0 } });
    }
    const seconds = this.secondsPerColor(query);
    const svc = this.world.stacks.get(query.stack)?.deployed().find((s) => s.name === query.service);
    const out = {} as Record<Color, ColorWindow>;
    for (const c of COLORS) {
      const requests = Math.round(seconds[c] * this.requestsPerSecond);
      const image = svc?.[c];
      const p = (image !== undefined ? this.profiles.get(image) : undefined) ?? {};
      const elb = Math.round(requests * (p.elbErrorRatio ?? 0));
      out[c] = {
        requests,
        target5xx: Math.round(requests * (p.errorRatio ?? 0)),
        ...(this.attributesElb5xx ? { elb5xx: elb } : {}),
        ...(requests > 0 ? { p99Ms: p.p99Ms ?? 120 } : {}),
        unhealthyHosts: p.unhealthyHosts ?? 0,
      };
    }
    return Promise.resolve(out);
  }

  /** Weighted seconds of live traffic each color got in [from, to), from the applied weights over time. */
  private secondsPerColor(query: MetricsWindowQuery): Record<Color, number> {
    const timeline = this.lb.timeline(query.stack, query.service);
    const out: Record<Color, number> = { blue: 0, green: 0 };
    timeline.forEach((change, i) => {
      const start = Math.max(change.at, query.from);
      const end = Math.min(timeline[i + 1]?.at ?? Number.POSITIVE_INFINITY, query.to);
      if (end > start) {
        for (const c of COLORS) {
          out[c] += ((end - start) / 1000) * (change.weights[c] / 100);
        }
      }
    });
    return out;
  }
}
