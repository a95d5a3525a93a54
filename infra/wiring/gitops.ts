import { ArgoCd } from "../addons/argocd";
import type { Cluster } from "../cluster/cluster";
import type { Edge } from "../edge/edge";
import type { Wiring } from "./context";
import { argocdHost } from "./edge";

/** ArgoCD (Helm) with the Applications of the config; on the stack's ALB when exposed. */
export function wireGitOps(w: Wiring, cluster: Cluster | undefined, edge: Edge | undefined): ArgoCd | undefined {
  const { cfg, env, opts } = w;
  if (cluster === undefined || !cfg.argocd.enabled) {
    return undefined;
  }
  const host = argocdHost(w, cluster);
  return new ArgoCd(
    `${env}-argocd`,
    {
      provider: cluster.provider,
      highAvailability: cfg.argocd.highAvailability,
      applications: cfg.argocd.applications,
      serviceNames: cfg.services.map((s) => s.name),
      expose:
        host !== undefined && edge !== undefined
          ? { host, allowedCidrs: cfg.argocd.allowedCidrs, ingressGroupName: env, ingressGroupAnnotations: edge.ingressGroupAnnotations }
          : undefined,
    },
    opts,
  );
}
