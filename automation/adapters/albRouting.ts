/**
 * What the ALB itself forwards a service's live traffic to, read back through ELBv2. A flip is
 * verified only when the listener rules say so: `up` returning means the Kubernetes API server
 * accepted the new Ingress, and the AWS Load Balancer Controller rewrites the rules later,
 * asynchronously (or never, when it rejects the group).
 *
 * How the controller lays the rules out (aws-load-balancer-controller v2.12.0, the version the
 * program's chart 1.12.0 installs; paths in that repository):
 * - one ALB per IngressGroup, tagged `elbv2.k8s.aws/cluster` = the cluster name and
 *   `ingress.k8s.aws/stack` = the group name (pkg/deploy/tracking/provider.go);
 * - every path of every rule of every member Ingress becomes its own listener rule, with a
 *   host-header condition (the Ingress rule's host) and a path-pattern condition; a Prefix path
 *   `/x` becomes the patterns `/x` and `/x/*`, and `/` becomes `/*`
 *   (pkg/ingress/model_build_listener_rules.go buildPathPatternsForPrefixPathType);
 * - a backend with `port.name: use-annotation` forwards as `actions.<name>` says: here one forward
 *   to both colors' target groups with their weights (pkg/ingress/enhanced_backend_builder.go);
 * - each target group is tagged `ingress.k8s.aws/resource` = `<namespace>/<ingress>-<service>:<port>`
 *   (pkg/ingress/model_build_target_group.go buildTargetGroupResourceID), which is how a color's
 *   group is told apart without knowing its generated name.
 * So a service with three paths has three live rules, and the controller modifies them one
 * ModifyRule at a time: until it is done they can disagree, and `weights` is undefined.
 */
import {
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ClientConfig,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers,
  paginateDescribeRules,
  paginateDescribeTargetGroups,
  Rule,
  RuleCondition,
  Tag,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Color } from "../../infra/domain";
import { colorName, prefixOf } from "../../infra/lib/bluegreen";
import { COLORS } from "../../infra/domain";
import type { LoadBalancerRouting, RoutingQuery, RoutingReading } from "../ports";

/** pkg/deploy/tracking/provider.go (v2.12.0): the tags the controller puts on everything it creates for an Ingress. */
export const CLUSTER_TAG = "elbv2.k8s.aws/cluster";
export const STACK_TAG = "ingress.k8s.aws/stack";
export const RESOURCE_TAG = "ingress.k8s.aws/resource";
/** ELBv2 DescribeTags accepts at most 20 ARNs per call. */
const TAGS_PER_CALL = 20;
/** ELBv2's largest PageSize. */
const PAGE_SIZE = 400;

export interface LiveRoutingQuery {
  readonly region: string;
  /** The EKS cluster's name (the controller's `--cluster-name`). */
  readonly clusterName: string;
  /** `alb.ingress.kubernetes.io/group.name` of the stack's Ingresses. */
  readonly ingressGroup: string;
  readonly namespace: string;
  readonly service: string;
  /** Name of the service's Ingress. Default: the service's name (as infra/apps/blueGreenService.ts names it). */
  readonly ingressName?: string;
  /** The live host. */
  readonly host: string;
  /** The service's configured paths (`platform:services[].paths`). */
  readonly paths: readonly string[];
}

export interface LiveRule {
  readonly listenerArn: string;
  readonly ruleArn: string;
  readonly priority: number;
  /** The service path this rule serves (normalised prefix, e.g. `/student`). */
  readonly path: string;
  readonly weights: Readonly<Record<Color, number>>;
}

export interface LiveRouting {
  readonly loadBalancerArn: string;
  readonly loadBalancerName: string;
  /** Each color's target group ARN. */
  readonly targetGroups: Readonly<Record<Color, string>>;
  /** One live rule per path and listener, by priority. */
  readonly rules: readonly LiveRule[];
  /** The weights every live rule agrees on; undefined while they differ. */
  readonly weights: Readonly<Record<Color, number>> | undefined;
}

/** Reads a service's live rules off the load balancer (`Elbv2LoadBalancerRouting`; the integration tier's double answers the same calls). */
export interface LiveRuleReader {
  liveWeights(query: LiveRoutingQuery, signal: AbortSignal): Promise<LiveRouting>;
}

/** Something the ALB does not have (yet): not found, or not laid out as the Ingress asks. */
export class LoadBalancerRoutingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoadBalancerRoutingError";
  }
}

/** The color that receives all of the live traffic, if one does. */
export function forwardedColor(weights: Readonly<Record<Color, number>> | undefined): Color | undefined {
  if (weights === undefined) {
    return undefined;
  }
  const total = COLORS.reduce((s, c) => s + weights[c], 0);
  return total > 0 ? COLORS.find((c) => weights[c] === total) : undefined;
}

/** The path-pattern values the controller gives a Prefix path. */
export function prefixPatterns(path: string): string[] {
  const p = prefixOf(path);
  return p === "/" ? ["/*"] : [p, `${p}/*`];
}

function conditionValues(rule: Rule, field: string): string[] | undefined {
  const c: RuleCondition | undefined = (rule.Conditions ?? []).find((x) => x.Field === field);
  if (c === undefined) {
    return undefined;
  }
  // ELBv2 reports the values in the field's config and in the legacy top-level Values.
  const values = field === "host-header" ? c.HostHeaderConfig?.Values : field === "path-pattern" ? c.PathPatternConfig?.Values : undefined;
  return values ?? c.Values ?? [];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * Picks the service's live rules out of a listener's rules and reads their weights. Pure.
 * Throws LoadBalancerRoutingError naming the host, path and listener when a path has no rule,
 * or when a rule for it forwards anywhere but the two colors' target groups.
 */
export function liveRulesOf(listenerArn: string, rules: readonly Rule[], targetGroups: Readonly<Record<Color, string>>, query: Pick<LiveRoutingQuery, "host" | "paths" | "service">): LiveRule[] {
  const colorOf = new Map<string, Color>(COLORS.map((c) => [targetGroups[c], c]));
  const host = query.host.toLowerCase();
  const onHost = rules.filter((r) => r.IsDefault !== true && (conditionValues(r, "host-header") ?? []).some((h) => h.toLowerCase() === host));
  const out: LiveRule[] = [];
  for (const path of [...new Set(query.paths.map(prefixOf))]) {
    const patterns = prefixPatterns(path);
    const rule = onHost.find((r) => sameSet(conditionValues(r, "path-pattern") ?? [], patterns));
    if (rule === undefined) {
      throw new LoadBalancerRoutingError(
        `no listener rule for host ${query.host} and path-pattern ${patterns.join(", ")} (service ${query.service}, path ${path}) on listener ${listenerArn}; ` +
          `the controller has not applied the service's Ingress (or rejected its IngressGroup)`,
      );
    }
    const forward = (rule.Actions ?? []).find((a) => a.Type === "forward");
    const tuples = forward?.ForwardConfig?.TargetGroups ?? (forward?.TargetGroupArn !== undefined ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
    const foreign = tuples.filter((t) => !colorOf.has(t.TargetGroupArn ?? ""));
    if (forward === undefined || tuples.length === 0 || foreign.length > 0) {
      const what = forward === undefined ? `does not forward (${(rule.Actions ?? []).map((a) => a.Type).join(", ") || "no action"})` : `forwards to ${foreign.map((t) => t.TargetGroupArn).join(", ")}`;
      throw new LoadBalancerRoutingError(
        `listener rule ${rule.RuleArn ?? "?"} (priority ${rule.Priority ?? "?"}) for ${query.host}${path} ${what}, not to ${query.service}'s color target groups ${COLORS.map((c) => targetGroups[c]).join(", ")}`,
      );
    }
    const weights = { blue: 0, green: 0 } as Record<Color, number>;
    for (const t of tuples) {
      weights[colorOf.get(t.TargetGroupArn ?? "") as Color] += t.Weight ?? 1;
    }
    out.push({ listenerArn, ruleArn: rule.RuleArn ?? "", priority: Number(rule.Priority), path, weights });
  }
  return out;
}

/** The weights all rules share, or undefined when they differ (or there are none). */
export function agreedWeights(rules: readonly LiveRule[]): Readonly<Record<Color, number>> | undefined {
  const first = rules[0];
  if (first === undefined) {
    return undefined;
  }
  return rules.every((r) => COLORS.every((c) => r.weights[c] === first.weights[c])) ? first.weights : undefined;
}

function tagValue(tags: readonly Tag[] | undefined, k: string): string | undefined {
  return (tags ?? []).find((t) => t.Key === k)?.Value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `LiveRuleReader` over the AWS SDK v3 ELBv2 client (credentials from the default chain). */
export class Elbv2LoadBalancerRouting implements LiveRuleReader {
  private readonly clients = new Map<string, ElasticLoadBalancingV2Client>();

  /** `clientConfig` is for endpoint overrides (VPC endpoints, the test double) and credentials. */
  constructor(private readonly clientConfig: Omit<ElasticLoadBalancingV2ClientConfig, "region"> = {}) {}

  private client(region: string): ElasticLoadBalancingV2Client {
    let c = this.clients.get(region);
    if (c === undefined) {
      c = new ElasticLoadBalancingV2Client({ ...this.clientConfig, region });
      this.clients.set(region, c);
    }
    return c;
  }

  async liveWeights(query: LiveRoutingQuery, signal: AbortSignal): Promise<LiveRouting> {
    const elb = new Elbv2Reads(this.client(query.region), query.region, signal);
    const lb = await elb.groupAlb(query);
    const targetGroups = await elb.colorTargetGroups(lb, query);
    const rules: LiveRule[] = [];
    for (const listener of await elb.servingListeners(lb)) {
      rules.push(...liveRulesOf(listener, await elb.rules(listener), targetGroups, query));
    }
    rules.sort((a, b) => a.priority - b.priority);
    return { loadBalancerArn: lb.arn, loadBalancerName: lb.name, targetGroups, rules, weights: agreedWeights(rules) };
  }
}

/** The ELBv2 reads of one `liveWeights` call: one region, one abort signal, errors that name the call. */
class Elbv2Reads {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly region: string,
    private readonly signal: AbortSignal,
  ) {}

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (this.signal.aborted) {
        throw this.signal.reason;
      }
      const e = err as { name?: string; message?: string };
      throw new Error(`ELBv2 ${what} in ${this.region} failed: ${e.name ?? "Error"}: ${e.message ?? String(err)}`);
    }
  }

  private async tagsOf(arns: readonly string[]): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>();
    for (let i = 0; i < arns.length; i += TAGS_PER_CALL) {
      const res = await this.call("DescribeTags", () =>
        this.client.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + TAGS_PER_CALL) }), { abortSignal: this.signal }),
      );
      for (const d of res.TagDescriptions ?? []) {
        out.set(d.ResourceArn ?? "", d.Tags ?? []);
      }
    }
    return out;
  }

  /** 1. The group's ALB, by the controller's tags. */
  async groupAlb(query: LiveRoutingQuery): Promise<{ readonly arn: string; readonly name: string }> {
    const albs: Array<{ arn: string; name: string }> = [];
    await this.call("DescribeLoadBalancers", async () => {
      for await (const page of paginateDescribeLoadBalancers({ client: this.client, pageSize: PAGE_SIZE }, {}, { abortSignal: this.signal })) {
        for (const lb of page.LoadBalancers ?? []) {
          if (lb.Type === "application" && lb.LoadBalancerArn !== undefined) {
            albs.push({ arn: lb.LoadBalancerArn, name: lb.LoadBalancerName ?? lb.LoadBalancerArn });
          }
        }
      }
    });
    const lbTags = await this.tagsOf(albs.map((a) => a.arn));
    const mine = albs.filter((a) => tagValue(lbTags.get(a.arn), CLUSTER_TAG) === query.clusterName && tagValue(lbTags.get(a.arn), STACK_TAG) === query.ingressGroup);
    if (mine.length !== 1) {
      throw new LoadBalancerRoutingError(
        mine.length === 0
          ? `no ALB tagged ${CLUSTER_TAG}=${query.clusterName} and ${STACK_TAG}=${query.ingressGroup} in ${query.region} (${albs.length} ALB(s) checked): ` +
              `the AWS Load Balancer Controller creates it when it first reconciles the IngressGroup`
          : `${mine.length} ALBs tagged ${CLUSTER_TAG}=${query.clusterName} and ${STACK_TAG}=${query.ingressGroup} in ${query.region}: ${mine.map((a) => a.name).join(", ")}`,
      );
    }
    return mine[0];
  }

  /** 2. The colors' target groups, by `ingress.k8s.aws/resource`. */
  async colorTargetGroups(lb: { readonly arn: string; readonly name: string }, query: LiveRoutingQuery): Promise<Record<Color, string>> {
    const tgArns: string[] = [];
    await this.call("DescribeTargetGroups", async () => {
      for await (const page of paginateDescribeTargetGroups({ client: this.client, pageSize: PAGE_SIZE }, { LoadBalancerArn: lb.arn }, { abortSignal: this.signal })) {
        for (const tg of page.TargetGroups ?? []) {
          if (tg.TargetGroupArn !== undefined) {
            tgArns.push(tg.TargetGroupArn);
          }
        }
      }
    });
    const tgTags = await this.tagsOf(tgArns);
    const ingress = query.ingressName ?? query.service;
    const targetGroups = {} as Record<Color, string>;
    for (const color of COLORS) {
      const resourcePrefix = `${query.namespace}/${ingress}-${colorName(query.service, color)}:`;
      const pattern = new RegExp(`^${escapeRegExp(resourcePrefix)}[^:/]+$`);
      const found = tgArns.filter((arn) => pattern.test(tagValue(tgTags.get(arn), RESOURCE_TAG) ?? ""));
      if (found.length !== 1) {
        throw new LoadBalancerRoutingError(
          found.length === 0
            ? `no target group tagged ${RESOURCE_TAG}=${resourcePrefix}<port> on ALB ${lb.name}: the controller has not applied Ingress ${query.namespace}/${ingress}, or it does not reference Service ${colorName(query.service, color)}`
            : `${found.length} target groups tagged ${RESOURCE_TAG}=${resourcePrefix}<port> on ALB ${lb.name}: ${found.join(", ")}`,
        );
      }
      targetGroups[color] = found[0];
    }
    return targetGroups;
  }

  /** 3. The HTTPS listener(s) (the HTTP one only redirects when ssl-redirect is set), else HTTP. */
  async servingListeners(lb: { readonly arn: string; readonly name: string }): Promise<string[]> {
    const listeners: Array<{ arn: string; protocol: string }> = [];
    await this.call("DescribeListeners", async () => {
      for await (const page of paginateDescribeListeners({ client: this.client, pageSize: PAGE_SIZE }, { LoadBalancerArn: lb.arn }, { abortSignal: this.signal })) {
        for (const l of page.Listeners ?? []) {
          if (l.ListenerArn !== undefined) {
            listeners.push({ arn: l.ListenerArn, protocol: l.Protocol ?? "" });
          }
        }
      }
    });
    const https = listeners.filter((l) => l.protocol === "HTTPS");
    const serving = https.length > 0 ? https : listeners.filter((l) => l.protocol === "HTTP");
    if (serving.length === 0) {
      throw new LoadBalancerRoutingError(`ALB ${lb.name} has no HTTP or HTTPS listener`);
    }
    return serving.map((l) => l.arn);
  }

  /** 4. Every rule of one listener (the service's live rules are picked by `liveRulesOf`). */
  async rules(listenerArn: string): Promise<Rule[]> {
    const all: Rule[] = [];
    await this.call("DescribeRules", async () => {
      for await (const page of paginateDescribeRules({ client: this.client, pageSize: PAGE_SIZE }, { ListenerArn: listenerArn }, { abortSignal: this.signal })) {
        all.push(...(page.Rules ?? []));
      }
    });
    return all;
  }
}

/**
 * The driver's routing port (automation/ports.ts) over a live-rule reader: the weights every live
 * rule of the service agrees on. While the controller is still rewriting the rules one by one they
 * disagree, and the reading has no weights yet, so the routing gate keeps polling.
 */
export class AlbRouting implements LoadBalancerRouting {
  constructor(private readonly reader: LiveRuleReader) {}

  async liveWeights(query: RoutingQuery, signal: AbortSignal): Promise<RoutingReading> {
    const missing = [query.region === undefined ? "aws:region" : undefined, query.clusterName === undefined ? "the cluster.name output" : undefined, query.namespace === undefined ? "the service's namespace output" : undefined].filter(
      (m): m is string => m !== undefined,
    );
    if (query.region === undefined || query.clusterName === undefined || query.namespace === undefined) {
      throw new LoadBalancerRoutingError(`cannot find ${query.service}'s live rule without ${missing.join(", ")}`);
    }
    const routing = await this.reader.liveWeights(
      { region: query.region, clusterName: query.clusterName, ingressGroup: query.ingressGroup, namespace: query.namespace, service: query.service, host: query.liveHost, paths: query.paths },
      signal,
    );
    const rules = routing.rules.map((r) => `priority ${r.priority} ${r.path}: ${COLORS.map((c) => `${c} ${r.weights[c]}`).join("/")}`).join("; ");
    const detail = `${routing.loadBalancerName}, ${routing.rules.length} live rule(s): ${rules}`;
    const agreed = routing.weights;
    return {
      weights: agreed === undefined ? new Map() : new Map(COLORS.map((c) => [c, agreed[c]] as const)),
      detail: agreed === undefined ? `${detail} (the rules disagree: the controller is mid-update)` : detail,
      loadBalancerArn: routing.loadBalancerArn,
      targetGroupArns: routing.targetGroups,
    };
  }
}
