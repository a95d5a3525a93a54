/**
 * The load balancer as the driver's routing port sees it, in memory: a live rule per service
 * whose weights follow the Ingress only after the controller's lag, the way the AWS Load Balancer
 * Controller reconciles an Ingress change into the listener rule some time after the Kubernetes
 * API accepted it. A controller can also be made to never apply (stuck reconcile, webhook or IAM
 * error), or the rule unreadable. Time is the injected clock's, so lag costs no real time.
 *
 * The memory stack tells it what the Ingress asks for (`desire`) whenever an `up` changes a
 * service's active color; the loopback health world asks it which color the live host reaches.
 */
import { Color } from "../../infra/config/schema";
import { Clock, LoadBalancerRouting, RoutingQuery, RoutingReading } from "../../automation/ports";

interface Rule {
  /** What the listener rule forwards to now. */
  applied: Color;
  /** What the Ingress asks for, and since when. */
  desired: Color;
  since: number;
}

export class FakeLoadBalancer implements LoadBalancerRouting {
  readonly queries: RoutingQuery[] = [];
  private readonly rules = new Map<string, Rule>();
  /** How long the controller takes to apply an Ingress change. */
  lagMs = 0;
  /** `<stack>/<service>` whose controller never applies a change. */
  readonly stuck = new Set<string>();
  /** `<stack>/<service>` whose rule cannot be read (e.g. AccessDenied on DescribeRules). */
  readonly unreadable = new Set<string>();

  constructor(private readonly clock: Clock) {}

  /** A service's rule as first deployed: already applied. */
  seed(stack: string, service: string, active: Color): void {
    this.rules.set(`${stack}/${service}`, { applied: active, desired: active, since: this.clock.now() });
  }

  /** The Ingress now asks for `active` (an `up` changed its forward action). */
  desire(stack: string, service: string, active: Color): void {
    const key = `${stack}/${service}`;
    const rule = this.rules.get(key);
    if (rule === undefined) {
      this.seed(stack, service, active);
      return;
    }
    this.reconcile(key, rule);
    if (rule.desired !== active) {
      rule.desired = active;
      rule.since = this.clock.now();
    }
  }

  /** The color the live rule forwards to now (the live host's answer comes from it). */
  routedColor(stack: string, service: string): Color | undefined {
    const key = `${stack}/${service}`;
    const rule = this.rules.get(key);
    if (rule === undefined) {
      return undefined;
    }
    this.reconcile(key, rule);
    return rule.applied;
  }

  liveWeights(query: RoutingQuery): Promise<RoutingReading> {
    this.queries.push(query);
    const key = `${query.stack}/${query.service}`;
    if (this.unreadable.has(key)) {
      return Promise.reject(new Error(`AccessDenied: elasticloadbalancing:DescribeRules on the ${query.ingressGroup} listener`));
    }
    const color = this.routedColor(query.stack, query.service);
    if (color === undefined) {
      return Promise.reject(new Error(`no listener rule for host ${query.liveHost} in IngressGroup ${query.ingressGroup}`));
    }
    const weights = new Map<Color, number>([
      ["blue", color === "blue" ? 100 : 0],
      ["green", color === "green" ? 100 : 0],
    ]);
    return Promise.resolve({ weights, detail: `rule for ${query.liveHost}${query.livePath} in ${query.ingressGroup}` });
  }

  private reconcile(key: string, rule: Rule): void {
    if (rule.applied !== rule.desired && !this.stuck.has(key) && this.clock.now() >= rule.since + this.lagMs) {
      rule.applied = rule.desired;
    }
  }
}
