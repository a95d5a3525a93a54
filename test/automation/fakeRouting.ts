/**
 * The load balancer as the driver's routing port sees it, in memory: a live rule per service
 * whose weights follow the Ingress only after the controller's lag, the way the AWS Load Balancer
 * Controller reconciles an Ingress change into the listener rule some time after the Kubernetes
 * API accepted it. A controller can also be made to never apply (stuck reconcile, webhook or IAM
 * error), or the rule unreadable. Time is the injected clock's, so lag costs no real time.
 *
 * The memory stack tells it what the Ingress asks for (`desire`, or `desireWeights` for a canary
 * step) whenever an `up` changes a service's forward action; the loopback health world asks it
 * which color the live host reaches; the fake metrics ask it which weights applied when
 * (`history`), as the ALB's per-target-group counters would have counted the traffic.
 */
import { Color } from "../../infra/config/schema";
import { Clock, LoadBalancerRouting, RoutingQuery, RoutingReading } from "../../automation/ports";

export type Weights = Readonly<Record<Color, number>>;

interface Rule {
  /** What the listener rule forwards now. */
  applied: Weights;
  /** What the Ingress asks for, and since when. */
  desired: Weights;
  since: number;
}

/** One change of a live rule's applied weights, at the (fake) time the controller applied it. */
export interface AppliedChange {
  readonly stack: string;
  readonly service: string;
  readonly at: number;
  readonly weights: Weights;
}

const all = (color: Color): Weights => ({ blue: color === "blue" ? 100 : 0, green: color === "green" ? 100 : 0 });
const same = (a: Weights, b: Weights): boolean => a.blue === b.blue && a.green === b.green;

export const FAKE_ACCOUNT = "123456789012";

/** The fake ARNs of a stack's load balancer and of a service's color target group (real ARN shapes). */
export function fakeLoadBalancerArn(stack: string): string {
  return `arn:aws:elasticloadbalancing:ap-northeast-2:${FAKE_ACCOUNT}:loadbalancer/app/k8s-${stack}-0123456789/50dc6c495c0c9188`;
}
export function fakeTargetGroupArn(stack: string, service: string, color: Color): string {
  return `arn:aws:elasticloadbalancing:ap-northeast-2:${FAKE_ACCOUNT}:targetgroup/k8s-apps-${service.slice(0, 7)}${color[0]}-${stack}/${color === "blue" ? "0b" : "0a"}${service.length.toString(16).padStart(14, "0")}`;
}

export class FakeLoadBalancer implements LoadBalancerRouting {
  readonly queries: RoutingQuery[] = [];
  /** Every applied change of every live rule, in order (the first entry of a rule is its seed). */
  readonly history: AppliedChange[] = [];
  private readonly rules = new Map<string, Rule>();
  /** How long the controller takes to apply an Ingress change. */
  lagMs = 0;
  /** `<stack>/<service>` whose controller never applies a change. */
  readonly stuck = new Set<string>();
  /** `<stack>/<service>` whose rule cannot be read (e.g. AccessDenied on DescribeRules). */
  readonly unreadable = new Set<string>();
  /** The reader reports no load balancer or target group ARNs (an older reader). */
  withoutArns = false;

  constructor(private readonly clock: Clock) {}

  /** A service's rule as first deployed: already applied. */
  seed(stack: string, service: string, active: Color): void {
    const weights = all(active);
    this.rules.set(`${stack}/${service}`, { applied: weights, desired: weights, since: this.clock.now() });
    this.history.push({ stack, service, at: this.clock.now(), weights });
  }

  /** The Ingress now asks for all traffic to `active` (an `up` changed its forward action). */
  desire(stack: string, service: string, active: Color): void {
    this.desireWeights(stack, service, all(active));
  }

  /** The Ingress now asks for `weights` (a canary step, or a switch). */
  desireWeights(stack: string, service: string, weights: Weights): void {
    const key = `${stack}/${service}`;
    const rule = this.rules.get(key);
    if (rule === undefined) {
      this.rules.set(key, { applied: weights, desired: weights, since: this.clock.now() });
      this.history.push({ stack, service, at: this.clock.now(), weights });
      return;
    }
    this.reconcile(key, rule);
    if (!same(rule.desired, weights)) {
      rule.desired = weights;
      rule.since = this.clock.now();
    }
  }

  /** The weights the live rule forwards now. */
  appliedWeights(stack: string, service: string): Weights | undefined {
    const key = `${stack}/${service}`;
    const rule = this.rules.get(key);
    if (rule === undefined) {
      return undefined;
    }
    this.reconcile(key, rule);
    return rule.applied;
  }

  /** The color the live rule sends most traffic to now (the live host's answer comes from it). */
  routedColor(stack: string, service: string): Color | undefined {
    const w = this.appliedWeights(stack, service);
    if (w === undefined) {
      return undefined;
    }
    return w.green > w.blue ? "green" : "blue";
  }

  /** The applied changes of one rule, in order. */
  timeline(stack: string, service: string): AppliedChange[] {
    this.appliedWeights(stack, service);
    return this.history.filter((h) => h.stack === stack && h.service === service);
  }

  liveWeights(query: RoutingQuery): Promise<RoutingReading> {
    this.queries.push(query);
    const key = `${query.stack}/${query.service}`;
    if (this.unreadable.has(key)) {
      return Promise.reject(new Error(`AccessDenied: elasticloadbalancing:DescribeRules on the ${query.ingressGroup} listener`));
    }
    const w = this.appliedWeights(query.stack, query.service);
    if (w === undefined) {
      return Promise.reject(new Error(`no listener rule for host ${query.liveHost} in IngressGroup ${query.ingressGroup}`));
    }
    const weights = new Map<Color, number>([
      ["blue", w.blue],
      ["green", w.green],
    ]);
    const arns = this.withoutArns
      ? {}
      : {
          loadBalancerArn: fakeLoadBalancerArn(query.stack),
          targetGroupArns: { blue: fakeTargetGroupArn(query.stack, query.service, "blue"), green: fakeTargetGroupArn(query.stack, query.service, "green") },
        };
    return Promise.resolve({ weights, detail: `rule for ${query.liveHost}${query.livePath} in ${query.ingressGroup}`, ...arns });
  }

  private reconcile(key: string, rule: Rule): void {
    if (!same(rule.applied, rule.desired) && !this.stuck.has(key) && this.clock.now() >= rule.since + this.lagMs) {
      rule.applied = rule.desired;
      const [stack = "", service = ""] = key.split("/");
      // Applied when the controller got to it, not when someone looked.
      this.history.push({ stack, service, at: rule.since + this.lagMs, weights: rule.desired });
    }
  }
}
