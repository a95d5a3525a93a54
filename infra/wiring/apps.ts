import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppNamespace, APPS_NAMESPACE } from "../apps/appNamespace";
import { BlueGreenService } from "../apps/blueGreenService";
import type { Cluster } from "../cluster/cluster";
import type { ServiceConfig } from "../config/schema";
import type { Database } from "../data/database";
import type { Edge } from "../edge/edge";
import { ingressOrder } from "../lib/bluegreen";
import { SERVICE_DATABASE_ENV, serviceDatabaseEnv, serviceDbUser } from "../lib/mariadb";
import type { ImageBucket } from "../storage/imageBucket";
import type { Wiring } from "./context";

/** What the services are given beside the cluster. */
export interface AppNeighbours {
  readonly database?: Database;
  readonly images?: ImageBucket;
  readonly edge?: Edge;
}

/** The blue/green services in the `apps` namespace, one Ingress each, ordered so no prefix is shadowed. */
export function wireApps(w: Wiring, cluster: Cluster | undefined, n: AppNeighbours): BlueGreenService[] {
  if (cluster === undefined) {
    return [];
  }
  return declareApps(w, { provider: cluster.provider, namespace: APPS_NAMESPACE, oidc: { providerArn: cluster.oidcProviderArn, providerUrl: cluster.oidcProviderUrl } }, n);
}

/** Where the services go: a Kubernetes provider, their namespace, and the cluster's IRSA identity provider. */
export interface AppsTarget {
  readonly provider: k8s.Provider;
  /** Name of the namespace the services share (`APPS_NAMESPACE` on EKS). */
  readonly namespace: string;
  /** The cluster's OIDC provider, for services with AWS permissions; a cluster without one gets no neighbours that need it. */
  readonly oidc?: { readonly providerArn: pulumi.Input<string>; readonly providerUrl: pulumi.Input<string> };
}

/**
 * The namespace and the services on `target`, with the same logical names and options as on EKS.
 * The integration tier's fixture calls it with a provider for the local API server.
 */
export function declareApps(w: Wiring, target: AppsTarget, n: AppNeighbours): BlueGreenService[] {
  const { cfg, env, opts, hosts } = w;
  const appsNamespace = new AppNamespace("apps", { name: target.namespace }, { ...opts, provider: target.provider });
  // Validated in config (interleaving prefixes are rejected there), so an order always exists.
  const routed = ingressOrder(cfg.services);
  const order = "order" in routed ? routed.order : new Map<string, number>();
  return cfg.services.map((svc) => {
    const groupName = svc.nodeGroup ?? cfg.cluster.nodeGroups[0].name;
    const group = cfg.cluster.nodeGroups.find((g) => g.name === groupName) ?? cfg.cluster.nodeGroups[0];
    const policies = awsPolicies(svc, n);
    if (Object.keys(policies).length > 0 && target.oidc === undefined) {
      throw new pulumi.RunError(`service "${svc.name}" needs AWS permissions (${Object.keys(policies).join(", ")}), but its cluster has no OIDC provider`);
    }
    return new BlueGreenService(
      svc.name,
      {
        service: svc,
        namespace: appsNamespace,
        liveHost: hosts.live,
        previewHost: hosts.preview,
        ingressGroupName: env,
        ingressOrder: order.get(svc.name) ?? 1000,
        ingressGroupAnnotations: n.edge?.ingressGroupAnnotations ?? {},
        nodeGroup: { name: group.name, taints: group.taints },
        aws: Object.keys(policies).length > 0 && target.oidc !== undefined ? { oidcProviderArn: target.oidc.providerArn, oidcProviderUrl: target.oidc.providerUrl, policies } : undefined,
        env: serviceEnv(w, svc, n),
      },
      { ...opts, provider: target.provider },
    );
  });
}

/** The IAM policies a service's IRSA role gets: its database user, and the images bucket where it asked for it. */
function awsPolicies(svc: ServiceConfig, { database, images }: AppNeighbours): Record<string, pulumi.Output<string>> {
  const policies: Record<string, pulumi.Output<string>> = {};
  if (database !== undefined) {
    // The service's own database user through IAM authentication, not the master secret: RDS
    // rotates that every 7 days while pods read it at start, and it can do anything.
    policies["db-connect"] = database.connectPolicy(serviceDbUser(svc.name));
  }
  if (images !== undefined && svc.imageBucketAccess) {
    policies["images"] = images.readWritePolicy();
  }
  return policies;
}

/** The variables the platform sets in a service's containers (how to reach the database over verified TLS, and the bucket). */
function serviceEnv({ cfg }: Wiring, svc: ServiceConfig, { database, images }: AppNeighbours): Record<string, pulumi.Input<string>> {
  const env: Record<string, pulumi.Input<string>> = { SERVICE_NAME: svc.name, AWS_REGION: cfg.region };
  if (database !== undefined) {
    const user = serviceDbUser(svc.name);
    const dbEnv = pulumi
      .all([database.address, database.port, database.databaseName])
      .apply(([host, port, name]) => serviceDatabaseEnv({ host, port, database: name, user }));
    for (const key of SERVICE_DATABASE_ENV) {
      env[key] = dbEnv.apply((e) => e[key] ?? "");
    }
  }
  if (images !== undefined && svc.imageBucketAccess) {
    env["IMAGE_BUCKET"] = images.bucketName;
  }
  return env;
}
