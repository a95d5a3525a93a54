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
  const { cfg, env, opts, hosts } = w;
  const appsNamespace = new AppNamespace("apps", { name: APPS_NAMESPACE }, { ...opts, provider: cluster.provider });
  // Validated in config (interleaving prefixes are rejected there), so an order always exists.
  const routed = ingressOrder(cfg.services);
  const order = "order" in routed ? routed.order : new Map<string, number>();
  return cfg.services.map((svc) => {
    const groupName = svc.nodeGroup ?? cfg.cluster.nodeGroups[0].name;
    const group = cfg.cluster.nodeGroups.find((g) => g.name === groupName) ?? cfg.cluster.nodeGroups[0];
    const policies = awsPolicies(svc, n);
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
        aws: Object.keys(policies).length > 0 ? { oidcProviderArn: cluster.oidcProviderArn, oidcProviderUrl: cluster.oidcProviderUrl, policies } : undefined,
        env: serviceEnv(w, svc, n),
      },
      { ...opts, provider: cluster.provider },
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
