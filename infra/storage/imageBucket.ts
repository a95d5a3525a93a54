import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ImageBucketArgs {
  /**
   * Keep every overwritten or deleted image as a noncurrent version (prod). When false the
   * bucket's versioning is `Suspended`. Default: false.
   */
  readonly versioning?: boolean;
  /** Let `pulumi destroy` delete the bucket with its objects (disposable test stacks only). Default: false. */
  readonly forceDestroy?: boolean;
  /** Days a noncurrent version is kept before it is expired. Default: 30. */
  readonly noncurrentVersionExpirationDays?: number;
}

/**
 * The bucket for user-uploaded images (e.g. a chat service's): private, TLS-only, SSE-KMS with its own key.
 *
 * The application reaches it with the role returned by `readWritePolicy()` (instance role on
 * the test host, IRSA roles on EKS); images are never served from the bucket directly, so all
 * public access is blocked and ACLs are disabled.
 */
export class ImageBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** ARN of the key that encrypts the objects; readers and writers need kms:Decrypt / kms:GenerateDataKey on it. */
  readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: ImageBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:storage:ImageBucket", name, args, opts);

    const versioning = args.versioning ?? false;
    const noncurrentDays = args.noncurrentVersionExpirationDays ?? 30;
    if (!Number.isInteger(noncurrentDays) || noncurrentDays < 1) {
      throw new pulumi.ResourceError(`ImageBucket "${name}": noncurrentVersionExpirationDays must be a positive integer, got ${noncurrentDays}`, this);
    }

    const key = this.encryptionKey(name);

    // Autonamed: bucket names are global across all AWS accounts, so a fixed name could be taken.
    const bucket = new aws.s3.Bucket(`${name}-images`, { forceDestroy: args.forceDestroy ?? false }, { parent: this });

    const publicAccess = this.lockDown(name, bucket, key);

    // Always declared, `Suspended` when off, never `Disabled`: S3 cannot return a bucket that was
    // ever versioned to unversioned, so turning versioning off in a stack must suspend it; and on a
    // never-versioned bucket `Suspended` behaves like unversioned (one `null` version per key).
    const bucketVersioning = new aws.s3.BucketVersioning(
      `${name}-images`,
      { bucket: bucket.id, versioningConfiguration: { status: versioning ? "Enabled" : "Suspended" } },
      { parent: this },
    );

    this.lifecycle(name, bucket, noncurrentDays, bucketVersioning);

    this.tlsOnlyPolicy(name, bucket, publicAccess);

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;

    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn });
  }

  /** The bucket's own customer-managed KMS key. */
  private encryptionKey(name: string): aws.kms.Key {
    // A dedicated customer-managed key rather than the aws/s3 managed key: reading an object then
    // needs kms:Decrypt on this key as well as s3:GetObject, so an over-broad S3 grant elsewhere in
    // the account does not expose user images, and CloudTrail shows every decrypt per principal.
    // No explicit key policy: the default one delegates to IAM in this account, where the grants
    // live (`readWritePolicy()`). The 30-day deletion window makes a destroyed stack recoverable.
    return new aws.kms.Key(
      `${name}-images`,
      {
        description: `Encrypts the user-images bucket of ${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      { parent: this },
    );
  }

  /** No public access, no ACLs, SSE-KMS with the bucket's key by default. Returns the public access block. */
  private lockDown(name: string, bucket: aws.s3.Bucket, key: aws.kms.Key): aws.s3.BucketPublicAccessBlock {
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-images`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );

    // ACLs disabled: the bucket owner owns every object, so access is decided by policies alone.
    new aws.s3.BucketOwnershipControls(
      `${name}-images`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );

    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-images`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
            // Bucket keys cut KMS requests (and their cost and throttling) by orders of magnitude
            // for many small objects such as images.
            bucketKeyEnabled: true,
          },
        ],
      },
      { parent: this },
    );
    return publicAccess;
  }

  /**
   * A least-privilege identity policy (JSON) for a workload that reads and writes the images:
   * object get/put/delete, listing of the bucket, and the key operations SSE-KMS needs. Attach
   * it to the test host's instance role or a service's IRSA role.
   */
  readWritePolicy(): pulumi.Output<string> {
    return aws.iam.getPolicyDocumentOutput(
      {
        statements: [
          {
            sid: "ReadWriteObjects",
            actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            resources: [pulumi.interpolate`${this.bucketArn}/*`],
          },
          {
            sid: "ListBucket",
            actions: ["s3:ListBucket"],
            resources: [this.bucketArn],
          },
          {
            // GenerateDataKey for PutObject, Decrypt for GetObject and for completing multipart
            // uploads; only through S3, so the workload cannot use the key to decrypt anything else.
            sid: "UseImagesKey",
            actions: ["kms:Decrypt", "kms:GenerateDataKey"],
            resources: [this.kmsKeyArn],
            conditions: [
              {
                test: "StringEquals",
                variable: "kms:ViaService",
                values: [pulumi.interpolate`s3.${aws.getRegionOutput({}, { parent: this }).region}.amazonaws.com`],
              },
            ],
          },
        ],
      },
      { parent: this },
    ).json;
  }

  /** Noncurrent versions expire after `noncurrentDays`; abandoned multipart uploads after a week. */
  private lifecycle(name: string, bucket: aws.s3.Bucket, noncurrentDays: number, bucketVersioning: aws.s3.BucketVersioning): void {
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-images`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays },
            // Once a deleted image's old versions expire, its delete marker is all that is left;
            // removing it keeps listings and LIST request costs from growing with every deletion.
            expiration: { expiredObjectDeleteMarker: true },
          },
          {
            // Parts of abandoned multipart uploads are invisible in listings but billed until aborted.
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      // Versioning is configured first, as the provider documents for rules on noncurrent versions.
      { parent: this, dependsOn: [bucketVersioning] },
    );
  }

  /** Denies every request that does not use TLS. */
  private tlsOnlyPolicy(name: string, bucket: aws.s3.Bucket, publicAccess: aws.s3.BucketPublicAccessBlock): void {
    const tlsOnly = aws.iam.getPolicyDocumentOutput(
      {
        statements: [
          {
            sid: "DenyInsecureTransport",
            effect: "Deny",
            principals: [{ type: "*", identifiers: ["*"] }],
            actions: ["s3:*"],
            resources: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
          },
        ],
      },
      { parent: this },
    );
    new aws.s3.BucketPolicy(
      `${name}-images`,
      { bucket: bucket.id, policy: tlsOnly.json },
      // Serialised after the public access block: concurrent configuration calls on one bucket
      // fail with OperationAborted ("A conflicting conditional operation is in progress").
      { parent: this, dependsOn: [publicAccess] },
    );
  }
}
