import { AwsLoadBalancerController } from "../addons/awsLoadBalancerController";
import type { Cluster } from "../cluster/cluster";
import { Edge } from "../edge/edge";
import { WebAcl } from "../edge/webAcl";
import type { Network } from "../network/network";
import { platformTags } from "../providers";
import type { Wiring } from "./context";

/** ArgoCD's host under the live host, when it is served through the stack's ALB. */
export function argocdHost({ cfg, hosts }: Wiring, cluster: Cluster | undefined): string | undefined {
  return cluster !== undefined && cfg.argocd.enabled && cfg.argocd.exposed ? `argocd.${hosts.live}` : undefined;
}

/** One web ACL per stack, for whichever ALB the stack has (the EKS IngressGroup's or the test host's). */
export function wireWebAcl({ cfg, env, opts }: Wiring): WebAcl | undefined {
  return cfg.waf.enabled
    ? new WebAcl(`${env}-waf`, { rateLimitPer5Min: cfg.waf.rateLimitPer5Min, logRetentionDays: cfg.logRetentionDays }, opts)
    : undefined;
}

/**
 * The EKS edge: load balancer controller, certificate, access logs and the group's ALB settings.
 * Declared before the services, whose Ingresses spread `edge.ingressGroupAnnotations`.
 */
export function wireEdge(w: Wiring, network: Network, cluster: Cluster | undefined, waf: WebAcl | undefined): Edge | undefined {
  if (cluster === undefined) {
    return undefined;
  }
  const { cfg, env, prod, opts, hosts } = w;
  const lbc = new AwsLoadBalancerController(
    `${env}-aws-load-balancer-controller`,
    { cluster, region: cfg.region, vpcId: network.vpcId, tags: { ...platformTags(cfg), ManagedBy: "aws-load-balancer-controller" } },
    opts,
  );
  const first = cfg.services[0];
  const argocd = argocdHost(w, cluster);
  return new Edge(
    env,
    {
      domain: cfg.domain,
      hosts,
      extraHosts: argocd !== undefined ? [argocd] : [],
      clusterName: cluster.clusterName,
      groupName: env,
      controller: lbc.release,
      webAclArn: waf?.arn,
      deletionProtection: cfg.edge.deletionProtection,
      idleTimeoutSeconds: cfg.edge.idleTimeoutSeconds,
      accessLogExpirationDays: cfg.edge.accessLogExpirationDays,
      accessLogVersioning: prod,
      healthCheck:
        // The live host forwards the path unchanged to the service config validated it routes to.
        cfg.edge.healthCheck && first !== undefined ? { path: first.healthPath, notifyEmails: cfg.edge.alarmEmails } : undefined,
    },
    opts,
  );
}
