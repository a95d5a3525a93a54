/** The arguments of the TestHost component (./testHost.ts). */
import type * as pulumi from "@pulumi/pulumi";

/** One service's container on the test host (infra/wiring/compute.ts maps `platform:services` onto it). */
export interface TestHostService {
  /** DNS label; names the container, its systemd unit, log stream and target group. */
  readonly name: string;
  /** Port the container listens on. Services may share it: each gets its own host port. */
  readonly port: number;
  /** ALB health check path, e.g. `/actuator/health`. */
  readonly healthPath: string;
  /** Path prefixes routed to the service, e.g. `["/", "/student"]`; `/` is the catch-all. */
  readonly paths: readonly string[];
  /** The active color's image, pinned by tag or digest. */
  readonly image: string;
  /**
   * Plain, non-secret environment variables. Default: none. User data is readable by anyone
   * with ec2:DescribeInstanceAttribute, so secrets never go here.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Whether the service uses the images bucket (gets `IMAGE_BUCKET`). Default: false. */
  readonly imageBucketAccess?: boolean;
  /**
   * Run with a read-only root filesystem (a tmpfs on /tmp). Default: true. Turn off for images
   * that write elsewhere at runtime (e.g. stock nginx writes /var/cache/nginx).
   */
  readonly readOnlyRootFilesystem?: boolean;
}

export interface TestHostDatabase {
  /** RDS `endpoint` (`host:port`) or `address` (`host`). */
  readonly endpoint: pulumi.Input<string>;
  /** Secrets Manager secret holding `{ "username", "password" }` (RDS-managed master secret). */
  readonly secretArn: pulumi.Input<string>;
  /** Database (schema) name the services use. */
  readonly name: string;
  /** Default: 3306 (MariaDB). */
  readonly port?: number;
  /**
   * Customer-managed KMS key the secret is encrypted with (`Database.kmsKeyArn`). Default: none,
   * i.e. the aws/secretsmanager key, which needs no grant.
   */
  readonly secretKmsKeyArn?: pulumi.Input<string>;
}

export interface TestHostImageBucket {
  readonly name: pulumi.Input<string>;
  readonly arn: pulumi.Input<string>;
  /** SSE-KMS key of the bucket (`ImageBucket.kmsKeyArn`). Default: none (SSE-S3, no grant needed). */
  readonly kmsKeyArn?: pulumi.Input<string>;
}

export interface TestHostArgs {
  readonly vpcId: pulumi.Input<string>;
  /** Public subnets: the ALB spans all of them, the instance goes in the first. */
  readonly publicSubnetIds: pulumi.Input<string[]>;
  /** The VPC block; database egress is limited to it. */
  readonly vpcCidr: pulumi.Input<string>;
  /** Default: `t3.small`. Graviton types (`t4g.*`, `m7g.*`) get the arm64 AMI. */
  readonly instanceType?: string;
  /** Default: 30. */
  readonly rootVolumeGb?: number;
  /** Public name of the environment, e.g. `test.karina-univ.com`. */
  readonly hostname: string;
  /** Validated ACM certificate covering `hostname` (see `Certificate`). */
  readonly certificateArn: pulumi.Input<string>;
  /** Route 53 public zone for the alias record. */
  readonly zoneId: pulumi.Input<string>;
  readonly services: readonly TestHostService[];
  /** Default: no database (no DB_* variables, no secret access, no 3306 egress). */
  readonly database?: TestHostDatabase;
  /** Default: none. Access is granted to the host when any service has `imageBucketAccess`. */
  readonly imageBucket?: TestHostImageBucket;
  /** Retention of the container log group, in days. Default: 30. */
  readonly logRetentionDays?: number;
  /** The only repositories the host may pull from (see `ecrRepositoryArnsForImages`). */
  readonly ecrRepositoryArns: pulumi.Input<string>[];
  /** WAFv2 web ACL (REGIONAL) to associate with the ALB. Default: none. */
  readonly webAclArn?: pulumi.Input<string>;
  /** Pin the AMI (e.g. while a new AL2023 release is investigated). Default: latest AL2023. */
  readonly amiId?: pulumi.Input<string>;
  /** First host port; services get consecutive ports in order. Default: 8001. */
  readonly hostPortBase?: number;
  /** Default: `/platform/<name>/containers`. */
  readonly logGroupName?: string;
  /** ALB deletion protection. Default: false (test environments are torn down freely). */
  readonly deletionProtection?: boolean;
}
