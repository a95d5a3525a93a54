/**
 * Target health through ELBv2: the target group(s) of a color's Service, found by the tags the
 * AWS Load Balancer Controller puts on them, and the health of every registered target.
 */
import {
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ClientConfig,
  paginateDescribeTargetGroups,
  Tag,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { TargetHealthChecker, TargetHealthQuery, TargetHealthResult } from "../ports";

/** The AWS Load Balancer Controller tags each target group `<ns>/<ingress>-<service>:<port>`. */
export const RESOURCE_TAG = "ingress.k8s.aws/resource";
export const CLUSTER_TAG = "elbv2.k8s.aws/cluster";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether a target group's tags say it serves `query`'s color. Pure; table-tested. */
export function isColorTargetGroup(tags: readonly Tag[], query: Pick<TargetHealthQuery, "clusterName" | "namespace" | "serviceName">): boolean {
  const get = (key: string): string | undefined => tags.find((t) => t.Key === key)?.Value;
  if (query.clusterName !== undefined && get(CLUSTER_TAG) !== query.clusterName) {
    return false;
  }
  const resource = get(RESOURCE_TAG);
  if (resource === undefined) {
    return false;
  }
  const ns = query.namespace === undefined ? "[^/]+" : escapeRegExp(query.namespace);
  return new RegExp(`^${ns}/.+-${escapeRegExp(query.serviceName)}:[^:/]+$`).test(resource);
}

/** Target health through ELBv2 DescribeTargetHealth (credentials from the default chain: OIDC role in CI). */
export class Elbv2TargetHealthChecker implements TargetHealthChecker {
  private readonly clients = new Map<string, ElasticLoadBalancingV2Client>();

  /** `clientConfig` is for endpoint overrides (VPC endpoints, tests); credentials come from the default chain. */
  constructor(private readonly clientConfig: Omit<ElasticLoadBalancingV2ClientConfig, "region"> = {}) {}

  private client(region: string | undefined): ElasticLoadBalancingV2Client {
    const key = region ?? "";
    let c = this.clients.get(key);
    if (c === undefined) {
      c = new ElasticLoadBalancingV2Client(region === undefined ? { ...this.clientConfig } : { ...this.clientConfig, region });
      this.clients.set(key, c);
    }
    return c;
  }

  async check(query: TargetHealthQuery, signal: AbortSignal): Promise<TargetHealthResult> {
    const client = this.client(query.region);
    const arns = query.targetGroupArn !== undefined ? [query.targetGroupArn] : await this.discover(client, query, signal);
    if (arns.length === 0) {
      return {
        healthy: false,
        detail: `no target group found for ${query.serviceName} (tag ${RESOURCE_TAG}${query.clusterName !== undefined ? `, cluster ${query.clusterName}` : ""})`,
      };
    }
    const problems: string[] = [];
    let healthy = 0;
    for (const arn of arns) {
      const res = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), { abortSignal: signal });
      const targets = res.TargetHealthDescriptions ?? [];
      if (targets.length === 0) {
        problems.push(`${arn}: no registered targets`);
      }
      for (const t of targets) {
        const state = t.TargetHealth?.State ?? "unknown";
        if (state === "healthy") {
          healthy++;
        } else {
          problems.push(`${t.Target?.Id ?? "?"}:${t.Target?.Port ?? "?"} ${state}${t.TargetHealth?.Reason !== undefined ? ` (${t.TargetHealth.Reason})` : ""}`);
        }
      }
    }
    return problems.length === 0
      ? { healthy: true, detail: `${healthy} target(s) healthy in ${arns.length} target group(s)` }
      : { healthy: false, detail: problems.slice(0, 10).join("; ") };
  }

  private async discover(client: ElasticLoadBalancingV2Client, query: TargetHealthQuery, signal: AbortSignal): Promise<string[]> {
    const candidates: string[] = [];
    for await (const page of paginateDescribeTargetGroups({ client, pageSize: 400 }, {})) {
      for (const tg of page.TargetGroups ?? []) {
        // Only target groups attached to a load balancer can serve the flipped listener rule.
        if (tg.TargetGroupArn !== undefined && (tg.LoadBalancerArns ?? []).length > 0) {
          candidates.push(tg.TargetGroupArn);
        }
      }
      if (signal.aborted) {
        throw signal.reason;
      }
    }
    const matches: string[] = [];
    // DescribeTags accepts at most 20 ARNs per call.
    for (let i = 0; i < candidates.length; i += 20) {
      const res = await client.send(new DescribeTagsCommand({ ResourceArns: candidates.slice(i, i + 20) }), { abortSignal: signal });
      for (const d of res.TagDescriptions ?? []) {
        if (d.ResourceArn !== undefined && isColorTargetGroup(d.Tags ?? [], query)) {
          matches.push(d.ResourceArn);
        }
      }
    }
    return matches;
  }
}
