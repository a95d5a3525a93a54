import { TestHost } from "../compute/testHost";
import type { Database } from "../data/database";
import { Certificate } from "../edge/certificate";
import type { WebAcl } from "../edge/webAcl";
import { ecrRepositoryArnsForImages } from "../lib/ecr";
import type { Network } from "../network/network";
import type { ImageBucket } from "../storage/imageBucket";
import type { Wiring } from "./context";

/** What the test host is given beside the network. */
export interface TestHostNeighbours {
  readonly database?: Database;
  readonly images?: ImageBucket;
  readonly waf?: WebAcl;
}

/** The test environment: every service's active image on one EC2 host behind a TLS ALB; the database admits it. */
export function wireTestHost({ cfg, env, opts, hosts }: Wiring, network: Network, n: TestHostNeighbours): TestHost | undefined {
  if (!cfg.testHost.enabled) {
    return undefined;
  }
  const services = cfg.services.map((s) => ({
    name: s.name,
    port: s.port,
    healthPath: s.healthPath,
    paths: s.paths,
    // The test environment has no blue/green: it runs the active color's image (validated to exist).
    image: s[s.active].image ?? "",
    env: s.env,
    imageBucketAccess: s.imageBucketAccess,
  }));
  const certificate = new Certificate(`${env}-edge`, { domain: cfg.domain, hosts: [hosts.live] }, opts);
  const { database, images, waf } = n;
  const testHost = new TestHost(
    `${env}-host`,
    {
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      vpcCidr: network.cidr,
      instanceType: cfg.testHost.instanceType,
      rootVolumeGb: cfg.testHost.rootVolumeGb,
      hostname: hosts.live,
      certificateArn: certificate.certificateArn,
      zoneId: certificate.zoneId,
      services,
      database:
        database !== undefined
          ? { endpoint: database.endpoint, secretArn: database.masterUserSecretArn, name: cfg.database.databaseName, secretKmsKeyArn: database.kmsKeyArn }
          : undefined,
      imageBucket: images !== undefined ? { name: images.bucketName, arn: images.bucketArn, kmsKeyArn: images.kmsKeyArn } : undefined,
      logRetentionDays: cfg.logRetentionDays,
      webAclArn: waf?.arn,
      // Pull rights for exactly the repositories the host runs.
      ecrRepositoryArns: ecrRepositoryArnsForImages(services.map((s) => s.image)),
    },
    opts,
  );
  database?.allowFrom("test-host", testHost.securityGroupId);
  return testHost;
}
