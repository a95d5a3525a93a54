import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AppNamespace } from "../apps/appNamespace";
import { APPS_NAMESPACE, ARGOCD_NAMESPACE, applicationManifest, applicationOwnershipProblems } from "../lib/argocd";
import type { ArgoCdApplicationSpec } from "../lib/argocd";
import type { ChartDefaults, ChartPdb } from "../lib/chartPdb";
import { withDefaults } from "../lib/defaults";
import { pinnedRelease } from "./helm";

export { APPS_NAMESPACE, applicationOwnershipProblems, argoCdProblems } from "../lib/argocd";
export type { ArgoCdApplicationSpec } from "../lib/argocd";

const ALB = "alb.ingress.kubernetes.io";

/** Container security context every ArgoCD container runs with (PodSecurity "restricted"). */
const RESTRICTED_CONTAINER = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  seccompProfile: { type: "RuntimeDefault" },
  capabilities: { drop: ["ALL"] },
};

type Pdb = { enabled: boolean; maxUnavailable?: number };
type Component = { replicas: number; pdb: Pdb };

/** The chart values this add-on sets (argoproj/argo-helm `charts/argo-cd/values.yaml`). */
export type ArgoCdValues = {
  fullnameOverride: string;
  crds: { install: boolean; keep: boolean };
  global: { domain: string; topologySpreadConstraints: Array<Record<string, unknown>> };
  configs: {
    cm: Record<string, string | boolean>;
    params: Record<string, string | boolean>;
    secret: { argocdServerAdminPassword: pulumi.Input<string> };
  };
  dex: { enabled: boolean };
  controller: { replicas: number };
  server: Component & { service: { type: string } };
  repoServer: Component;
  applicationSet: Component;
  "redis-ha": {
    enabled: boolean;
    hardAntiAffinity: boolean;
    containerSecurityContext: Record<string, unknown>;
    topologySpreadConstraints: { enabled: boolean; whenUnsatisfiable: string };
    podDisruptionBudget: { maxUnavailable: number } | Record<string, never>;
    haproxy: {
      hardAntiAffinity: boolean;
      containerSecurityContext: Record<string, unknown>;
      podDisruptionBudget: { maxUnavailable: number } | Record<string, never>;
    };
  };
};

/** Public access to the ArgoCD UI/API through the stack's ALB. */
export interface ArgoCdExposure {
  /** Host name, e.g. `argocd.staging.example.com`; it must be on the group's certificate. */
  readonly host: string;
  /** Source networks allowed through the ALB rule; everyone else gets the listener's 404. */
  readonly allowedCidrs: readonly string[];
  /** The stack's IngressGroup. */
  readonly ingressGroupName: string;
  /** The group-wide ALB annotations (`Edge.ingressGroupAnnotations`). */
  readonly ingressGroupAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
  /** `group.order` of the ArgoCD Ingress. Default: 1000 (its host rule overlaps no service rule). */
  readonly ingressOrder?: number;
  /** What the Ingress waits for: the load balancer controller's release. Default: none. */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface ArgoCdProps {
  /** Kubernetes provider of the cluster (`Cluster.provider`). */
  readonly provider: k8s.Provider;
  /** HA settings: redis-ha, 2 replicas and PDBs for server, repo-server and ApplicationSet controller. Default: false. */
  readonly highAvailability?: boolean;
  /** Applications ArgoCD syncs automatically. Default: none. */
  readonly applications?: readonly ArgoCdApplicationSpec[];
  /**
   * Names of the Pulumi-owned blue/green services; an Application with one of these names or
   * targeting `appsNamespace` is refused (see `applicationOwnershipProblems`). Default: none.
   */
  readonly serviceNames?: readonly string[];
  /** Namespace of the Pulumi-owned services. Default: `apps`. */
  readonly appsNamespace?: string;
  /** Expose the server through the stack's ALB. Default: not exposed (ClusterIP; `kubectl port-forward`). */
  readonly expose?: ArgoCdExposure;
  /** Chart version. Default: `defaults.version`. */
  readonly version?: string;
  /** Chart name. Default: `argo-cd`. */
  readonly chart?: string;
  /** Chart repository. Default: the official `https://argoproj.github.io/argo-helm`. */
  readonly repository?: string;
  /** Helm release name. Default: `argocd`. */
  readonly release?: string;
}

/** argo-cd 8.3.9's default for every component's `pdb` map. */
const ARGO_PDB_DEFAULT = { enabled: false, labels: {}, annotations: {}, minAvailable: "", maxUnavailable: "" };

/**
 * An argo-cd 8.3.9 component PDB: rendered when `<key>.pdb.enabled`, as `maxUnavailable` when set,
 * else `minAvailable: {{ .minAvailable | default 0 }}`, never both.
 */
function argoPdb(component: string, key: string, replicas: string | number, source: string, requires?: readonly string[]): ChartPdb {
  return { component, values: `${key}.pdb`, replicas, template: "max-else-min", renderedWhen: "enabled", source, ...(requires !== undefined ? { requires } : {}) };
}

export const defaults = {
  chart: "argo-cd",
  repository: "https://argoproj.github.io/argo-helm",
  // Chart 8.3.9 ships Argo CD 3.1. Upgrade hazard: chart majors follow breaking Argo CD changes
  // (e.g. 3.0 changed RBAC defaults and resource tracking); read the chart's and Argo CD's
  // upgrade notes, and keep the CRDs (`crds.keep`) so Applications survive a failed upgrade.
  version: "8.3.9",
  release: "argocd",
  // Re-read these with every chart bump (test/helmReleases.test.ts fails until `version` matches).
  chartDefaults: {
    chart: "argo-cd",
    version: "8.3.9",
    reviewed: "2026-11-30",
    source:
      "argoproj/argo-helm tag argo-cd-8.3.9 (67f44f94), charts/argo-cd; subchart redis-ha 4.33.7 " +
      "(DandyDeveloper/charts tag redis-ha-4.33.7, 48189ab0, charts/redis-ha)",
    values: {
      // Every component's pdb (values.yaml :806, :1151, :1425, :1966, :2646, :3021, :3404):
      // enabled false, minAvailable "", maxUnavailable "".
      controller: { replicas: 1, pdb: ARGO_PDB_DEFAULT },
      dex: { enabled: true, pdb: ARGO_PDB_DEFAULT },
      redis: { enabled: true, pdb: ARGO_PDB_DEFAULT },
      server: { replicas: 1, pdb: ARGO_PDB_DEFAULT },
      repoServer: { replicas: 1, pdb: ARGO_PDB_DEFAULT },
      applicationSet: { replicas: 1, pdb: ARGO_PDB_DEFAULT },
      notifications: { enabled: true, pdb: ARGO_PDB_DEFAULT },
      // argo-cd values.yaml:1732-1766 (enabled false, haproxy.enabled true); redis-ha values.yaml:36
      // replicas 3, :807 podDisruptionBudget {}, :119 haproxy.replicas 3, :151 haproxy.podDisruptionBudget {}.
      "redis-ha": { enabled: false, replicas: 3, podDisruptionBudget: {}, haproxy: { enabled: true, replicas: 3, podDisruptionBudget: {} } },
    },
    pdbs: [
      argoPdb("application-controller", "controller", "controller.replicas", "templates/argocd-application-controller/pdb.yaml"),
      argoPdb("dex", "dex", 1, "templates/dex/pdb.yaml (dex/deployment.yaml:23 replicas: 1)", ["dex.enabled"]),
      argoPdb("redis", "redis", 1, "templates/redis/pdb.yaml (redis/deployment.yaml:20 replicas: 1)", ["redis.enabled", "!redis-ha.enabled"]),
      argoPdb("server", "server", "server.replicas", "templates/argocd-server/pdb.yaml"),
      argoPdb("repo-server", "repoServer", "repoServer.replicas", "templates/argocd-repo-server/pdb.yaml"),
      argoPdb("applicationset-controller", "applicationSet", "applicationSet.replicas", "templates/argocd-applicationset/pdb.yaml"),
      argoPdb("notifications-controller", "notifications", 1, "templates/argocd-notifications/pdb.yaml (deployment.yaml:19 replicas: 1)", ["notifications.enabled"]),
      {
        component: "redis-ha",
        values: "redis-ha.podDisruptionBudget",
        replicas: "redis-ha.replicas",
        template: "to-yaml",
        renderedWhen: "non-empty",
        requires: ["redis-ha.enabled"],
        source: "redis-ha 4.33.7 templates/redis-ha-pdb.yaml (toYaml)",
      },
      {
        component: "redis-ha-haproxy",
        values: "redis-ha.haproxy.podDisruptionBudget",
        replicas: "redis-ha.haproxy.replicas",
        template: "to-yaml",
        renderedWhen: "non-empty",
        requires: ["redis-ha.enabled", "redis-ha.haproxy.enabled"],
        source: "redis-ha 4.33.7 templates/redis-haproxy-pdb.yaml (toYaml)",
      },
    ],
  } satisfies ChartDefaults,
};


/** The chart's values: HA replicas and PDBs when asked, TLS at the ALB when exposed, Dex off, the admin password as a bcrypt hash. */
function argoCdValues(ha: boolean, expose: ArgoCdProps["expose"], bcryptHash: pulumi.Output<string>): ArgoCdValues {
  const replicas = ha ? 2 : 1;
  const pdb: Pdb = ha ? { enabled: true, maxUnavailable: 1 } : { enabled: false };
  return {
    // Object names independent of the release name: `argocd-server`, `argocd-repo-server`, ...
    fullnameOverride: "argocd",
    crds: { install: true, keep: true },
    global: {
      domain: expose?.host ?? "argocd.invalid",
      // Components default their labelSelector; spreading replicas across zones keeps one alive in an AZ outage.
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway" }],
    },
    configs: {
      // The local admin is the only account (no SSO configured): break-glass, password above.
      cm: { "admin.enabled": true, "exec.enabled": false },
      // TLS ends at the ALB (ACM certificate); the server answers plain HTTP inside the VPC.
      // Not exposed, it keeps its own self-signed TLS for `kubectl port-forward`.
      params: { "server.insecure": expose !== undefined },
      // A bcrypt hash is what argocd-secret holds; marked secret so Pulumi encrypts the Helm
      // values in state and masks them in previews. The modification time is left to the chart
      // (render time), so a chart upgrade logs out existing admin sessions: acceptable for a
      // break-glass account, and it means a rotated password takes effect immediately.
      secret: { argocdServerAdminPassword: pulumi.secret(bcryptHash) },
    },
    // No SSO connector is configured, so Dex would be an idle pod with cluster credentials.
    dex: { enabled: false },
    // One controller even in HA: extra replicas shard by destination cluster, and there is one
    // cluster; the StatefulSet restarts a lost pod, and syncs resume where they left off.
    controller: { replicas: 1 },
    server: { replicas, pdb, service: { type: "ClusterIP" } },
    repoServer: { replicas, pdb },
    applicationSet: { replicas, pdb },
    "redis-ha": {
      enabled: ha,
      // Soft anti-affinity: redis-ha runs 3 Redis and 3 HAProxy pods, and "hard" would leave one
      // of each Pending on a 2-node cluster (prod's node group minimum).
      hardAntiAffinity: false,
      containerSecurityContext: RESTRICTED_CONTAINER,
      topologySpreadConstraints: { enabled: true, whenUnsatisfiable: "ScheduleAnyway" },
      // The subchart ships no PDB by default (`podDisruptionBudget: {}`, rendered with toYaml
      // when non-empty): without one a node drain may evict two of the three Redis pods (and
      // the Sentinel quorum with them) at once.
      podDisruptionBudget: ha ? { maxUnavailable: 1 } : {},
      haproxy: {
        hardAntiAffinity: false,
        containerSecurityContext: RESTRICTED_CONTAINER,
        podDisruptionBudget: ha ? { maxUnavailable: 1 } : {},
      },
    },
  };
}

/**
 * Argo CD in its own `argocd` namespace (PodSecurity restricted), with Applications declared from
 * config. It syncs what lives in Git (e.g. a team's Helm chart repositories); it never owns
 * the blue/green services, which Pulumi declares and the automation driver flips.
 *
 * The admin password is generated here and never appears in plain text outside Pulumi's
 * encrypted state: the chart receives only its bcrypt hash (what `argocd-secret` stores anyway),
 * and the plain text is exported as a secret output for break-glass use.
 */
export class ArgoCd extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  /** The admin password (secret). Read it with `pulumi stack output --show-secrets argocdAdminPassword`. */
  readonly adminPassword: pulumi.Output<string>;
  readonly namespace: pulumi.Output<string>;
  /** `https://<host>` when exposed. */
  readonly url?: string;
  /** The server's Ingress on the stack's IngressGroup, when exposed (pass it to `Edge.publish`). */
  readonly ingress?: k8s.networking.v1.Ingress;
  readonly applications: Record<string, k8s.apiextensions.CustomResource>;

  constructor(name: string, props: ArgoCdProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:ArgoCd", name, {}, opts);

    const p = withDefaults(defaults, props);
    const ha = props.highAvailability ?? false;
    const applications = props.applications ?? [];
    const problems = applicationOwnershipProblems(applications, props.serviceNames ?? [], props.appsNamespace ?? APPS_NAMESPACE);
    if (problems.length > 0) {
      throw new pulumi.ResourceError(`ArgoCD applications rejected:\n${problems.map((x) => `  - ${x.message}. Fix: ${x.fix}`).join("\n")}`, this);
    }
    const expose = props.expose;
    if (expose !== undefined && expose.allowedCidrs.length === 0) {
      throw new pulumi.ResourceError("expose.allowedCidrs is empty; list the networks allowed to reach ArgoCD", this);
    }
    const k8sOpts = { provider: props.provider, parent: this };

    const namespace = new AppNamespace(
      `${name}-namespace`,
      // The readiness gate only matters when the ALB targets the server pods.
      { name: ARGOCD_NAMESPACE, podSecurity: "restricted", albReadinessGate: expose !== undefined },
      k8sOpts,
    );

    // Only the bcrypt hash leaves Pulumi; `result` stays in the encrypted state.
    const password = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this });

    const values = argoCdValues(ha, expose, password.bcryptHash);

    this.release = pinnedRelease(name, p, ARGOCD_NAMESPACE, values, { ...k8sOpts, dependsOn: [namespace] });

    if (expose !== undefined) {
      this.ingress = this.serverIngress(name, expose, k8sOpts);
      this.url = `https://${expose.host}`;
    }

    this.applications = {};
    for (const app of applications) {
      const manifest = applicationManifest(app, ARGOCD_NAMESPACE);
      this.applications[app.name] = new k8s.apiextensions.CustomResource(
        `${name}-app-${app.name}`,
        { apiVersion: manifest.apiVersion, kind: manifest.kind, metadata: manifest.metadata, spec: manifest.spec },
        // The chart installs the Application CRD, and the controller must run to honour the
        // finalizer when an Application is removed (destroy deletes these before the release).
        { ...k8sOpts, dependsOn: [this.release] },
      );
    }

    this.adminPassword = pulumi.secret(password.result);
    this.namespace = namespace.name;
    this.registerOutputs({ adminPassword: this.adminPassword, namespace: this.namespace, url: this.url, releaseStatus: this.release.status });
  }

  /** The server behind the stack's ALB at `expose.host`, for `expose.allowedCidrs` only. */
  private serverIngress(
    name: string,
    expose: NonNullable<ArgoCdProps["expose"]>,
    k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource },
  ): k8s.networking.v1.Ingress {
    const serviceName = "argocd-server";
    return new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: {
          name: "argocd",
          namespace: ARGOCD_NAMESPACE,
          annotations: {
            ...expose.ingressGroupAnnotations,
            [`${ALB}/group.name`]: expose.ingressGroupName,
            [`${ALB}/group.order`]: String(expose.ingressOrder ?? 1000),
            // A rule condition, not `inbound-cidrs`: that one is group-wide and would close the
            // services' listener to everyone else. Requests from other sources fall through to
            // the listener's default 404.
            [`${ALB}/conditions.${serviceName}`]: JSON.stringify([
              { field: "source-ip", sourceIpConfig: { values: [...expose.allowedCidrs] } },
            ]),
            [`${ALB}/healthcheck-path`]: "/healthz",
            [`${ALB}/backend-protocol`]: "HTTP",
          },
        },
        spec: {
          ingressClassName: "alb",
          rules: [
            {
              host: expose.host,
              http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: serviceName, port: { name: "http" } } } }] },
            },
          ],
        },
      },
      { ...k8sOpts, dependsOn: [this.release, ...(expose.dependsOn ?? [])] },
    );
  }
}
