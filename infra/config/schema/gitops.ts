/** `platform:argocd`: ArgoCD and the Applications it syncs. */
import { z } from "zod";
import { argoCdProblems } from "../../lib/argocd";
import { cidrString, Ctx, dnsLabel, fail, failOpenToInternet, failOverRuleBudget } from "./common";

const argoCdApplication = z.strictObject({
  name: dnsLabel,
  repoURL: z.string().regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, "must be an https://, ssh:// or git@ repository URL"),
  /** Directory in a Git repository. Exactly one of path and chart. */
  path: z.string().min(1).optional(),
  /** Chart name in a Helm repository. Exactly one of path and chart. */
  chart: z.string().min(1).optional(),
  targetRevision: z.string().min(1),
  /** Destination namespace; never the services' namespace (`apps`). */
  namespace: dnsLabel,
  helmValues: z.record(z.string(), z.unknown()).optional(),
});

/** Argo CD via Helm, with Applications it syncs (infra/addons/argocd.ts). */
export const argocdSchema = z.strictObject({
  enabled: z.boolean(),
  /** redis-ha and two replicas (with PDBs) of server, repo-server and ApplicationSet controller. */
  highAvailability: z.boolean(),
  /** Serve the UI/API at `argocd.<live host>` through the stack's ALB, for `allowedCidrs` only. */
  exposed: z.boolean(),
  /** Sources allowed to reach the exposed server; at most 3 (one source-ip condition of an ALB rule). */
  allowedCidrs: z.array(cidrString),
  applications: z.array(argoCdApplication),
});

export type ArgoCdConfig = z.infer<typeof argocdSchema>;

/** ArgoCD runs in the cluster and never owns the blue/green services (Pulumi does): see argoCdProblems. */
export function checkArgoCd(
  cfg: { readonly argocd: ArgoCdConfig; readonly services: ReadonlyArray<{ readonly name: string }>; readonly cluster: { readonly enabled: boolean }; readonly environment: string },
  ctx: Ctx,
): void {
  for (const p of argoCdProblems(cfg.argocd, cfg.services.map((s) => s.name))) {
    fail(ctx, ["argocd", ...p.path], p.message, p.fix);
  }
  // The server's rule on `argocd.<host>`, Prefix `/` (infra/addons/argocd.ts).
  failOverRuleBudget(ctx, ["argocd", "allowedCidrs"], cfg.argocd.allowedCidrs, "ArgoCD", { host: true, path: "/", pathType: "Prefix" });
  failOpenToInternet(ctx, ["argocd", "allowedCidrs"], cfg.argocd.allowedCidrs, "ArgoCD (cluster-admin through its UI)", "list your office/VPN egress ranges only");
  if (cfg.argocd.enabled && !cfg.cluster.enabled) {
    fail(
      ctx,
      ["argocd", "enabled"],
      "is true but cluster.enabled is false; ArgoCD runs in the EKS cluster",
      `set argocd.enabled to false in the ${cfg.environment} stack, or turn cluster.enabled on`,
    );
  }
}
