/**
 * S3 buckets. Since AWS provider v4 a bucket's settings are separate resources (public access
 * block, encryption, versioning, ownership, policy) that point at the bucket, so most of these
 * are stack rules: they follow the `bucket` reference from each setting to its bucket. The
 * deprecated inline arguments of `aws.s3.Bucket` (v7) are honoured too.
 */
import type { Finding, PolicyResource, ResourceRule, StackRule } from "../engine";
import { at, bool, list, obj, objs, str, strs } from "../values";
import { isAnyonePrincipal, ofTypes, references, statementsOf } from "./common";

const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ENCRYPTION = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const VERSIONING = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"];
const OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls";
const POLICY = "aws:s3/bucketPolicy:BucketPolicy";

const FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** Settings resources of `type` that point at `bucket`. */
function settingsOf(resources: readonly PolicyResource[], types: readonly string[], bucket: PolicyResource): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type) && references(r, "bucket", bucket));
}

function where(r: PolicyResource): Pick<PolicyResource, "type" | "name" | "urn"> {
  return { type: r.type, name: r.name, urn: r.urn };
}

export const s3PublicAccessBlockFlags: ResourceRule = {
  kind: "resource",
  name: "s3-public-access-block-flags",
  description: "S3 public access blocks turn on all four flags.",
  docs: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
  scannerIds: ["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [PUBLIC_ACCESS_BLOCK],
  check: (r) => {
    const off = FLAGS.filter((f) => bool(r.props[f]) !== true);
    return off.length > 0
      ? [{ problem: `${list(off)} ${off.length === 1 ? "is" : "are"} not true, so the bucket can still be made public`, fix: `set ${list(off)} to true` }]
      : [];
  },
};

export const s3BucketHasPublicAccessBlock: StackRule = {
  kind: "stack",
  name: "s3-bucket-public-access-block",
  description: "Every S3 bucket has its own public access block.",
  docs: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
  scannerIds: ["CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
  enforcementLevel: "mandatory",
  severity: "high",
  check: (resources) =>
    ofTypes(resources, ...BUCKETS)
      .filter((b) => settingsOf(resources, [PUBLIC_ACCESS_BLOCK], b).length === 0)
      .map((b) => ({
        resource: where(b),
        problem: "no aws.s3.BucketPublicAccessBlock points at this bucket, so only the account-level setting keeps it private",
        fix: "declare an aws.s3.BucketPublicAccessBlock with bucket: <bucket>.id and all four flags true",
      })),
};

const SSE_ALGORITHMS = ["aws:kms", "aws:kms:dsse", "AES256"];

export const s3BucketEncryption: StackRule = {
  kind: "stack",
  name: "s3-bucket-encryption",
  description: "Every S3 bucket declares default server-side encryption.",
  docs: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html",
  scannerIds: ["CKV_AWS_19", "CKV_AWS_145"],
  enforcementLevel: "mandatory",
  severity: "high",
  check: (resources) => {
    const findings: Finding[] = [];
    for (const b of ofTypes(resources, ...BUCKETS)) {
      // S3 has applied SSE-S3 to new objects since 2023 whatever the bucket says; the rule asks for
      // the encryption to be declared so the key (and who may use it) is a reviewed decision.
      const inline = str(at(b.props["serverSideEncryptionConfiguration"], "rule.applyServerSideEncryptionByDefault.sseAlgorithm"));
      const algorithms = settingsOf(resources, ENCRYPTION, b).flatMap((c) =>
        objs(c.props["rules"]).map((rule) => str(at(rule, "applyServerSideEncryptionByDefault.sseAlgorithm"))),
      );
      const all = [inline, ...algorithms].filter((a): a is string => a !== undefined);
      if (all.length === 0) {
        findings.push({
          resource: where(b),
          problem: "no default encryption is declared for the bucket",
          fix: 'declare an aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm "aws:kms" and a customer-managed key (bucketKeyEnabled: true)',
        });
      } else if (!all.every((a) => SSE_ALGORITHMS.includes(a))) {
        findings.push({ resource: where(b), problem: `declares encryption algorithm(s) ${list(all)}`, fix: `use one of ${list(SSE_ALGORITHMS)}` });
      }
    }
    return findings;
  },
};

export const s3BucketVersioning: StackRule = {
  kind: "stack",
  name: "s3-bucket-versioning",
  description: "Production S3 buckets keep object versions, so overwrites and deletions can be undone.",
  docs: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
  scannerIds: ["CKV_AWS_21"],
  enforcementLevel: "mandatory",
  severity: "medium",
  environments: ["prod"],
  check: (resources) =>
    ofTypes(resources, ...BUCKETS)
      .filter((b) => {
        const inline = bool(at(b.props["versioning"], "enabled")) === true;
        const separate = settingsOf(resources, VERSIONING, b).some((v) => str(at(v.props["versioningConfiguration"], "status")) === "Enabled");
        return !inline && !separate;
      })
      .map((b) => ({
        resource: where(b),
        problem: "versioning is not Enabled, so an overwritten or deleted object is gone",
        fix: 'declare an aws.s3.BucketVersioning for it with versioningConfiguration.status "Enabled" (the images bucket: platform:imagesBucket.versioning) and expire noncurrent versions with a lifecycle rule',
      })),
};

export const s3BucketOwnerEnforced: StackRule = {
  kind: "stack",
  name: "s3-bucket-owner-enforced",
  description: "S3 buckets disable ACLs (object ownership BucketOwnerEnforced), so access is decided by policies alone.",
  docs: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html",
  scannerIds: ["CKV2_AWS_65"],
  enforcementLevel: "mandatory",
  severity: "medium",
  check: (resources) => {
    const findings: Finding[] = [];
    for (const b of ofTypes(resources, ...BUCKETS)) {
      const owners = settingsOf(resources, [OWNERSHIP], b).map((o) => str(at(o.props["rule"], "objectOwnership")));
      if (!owners.includes("BucketOwnerEnforced")) {
        findings.push({
          resource: where(b),
          problem: owners.length === 0 ? "no aws.s3.BucketOwnershipControls points at this bucket" : `object ownership is ${list(owners.map(String))}, so ACLs still grant access`,
          fix: 'declare an aws.s3.BucketOwnershipControls for it with rule.objectOwnership "BucketOwnerEnforced"',
        });
      }
      const acl = str(b.props["acl"]);
      if (acl !== undefined && acl !== "private") {
        findings.push({ resource: where(b), problem: `sets the canned ACL "${acl}"`, fix: "remove acl; grant access with bucket or identity policies" });
      }
    }
    return findings;
  },
};

/** Whether a statement denies every S3 action over plain HTTP for everyone. */
function deniesInsecureTransport(document: unknown): { bucket: boolean; objects: boolean } {
  let bucket = false;
  let objects = false;
  for (const s of statementsOf(document)) {
    const condition = obj(obj(s.condition)["Bool"]);
    const insecure = strs(condition["aws:SecureTransport"]).includes("false");
    const everyAction = s.actions.includes("s3:*") || s.actions.includes("*");
    if (s.effect === "Deny" && insecure && everyAction && isAnyonePrincipal(s.principal)) {
      bucket = bucket || s.resources.some((r) => !r.endsWith("/*"));
      objects = objects || s.resources.some((r) => r.endsWith("/*"));
    }
  }
  return { bucket, objects };
}

export const s3BucketTlsOnly: StackRule = {
  kind: "stack",
  name: "s3-bucket-tls-only",
  description: "S3 bucket policies deny every request that does not use TLS.",
  docs: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
  scannerIds: ["AWS Security Hub S3.5"],
  enforcementLevel: "mandatory",
  severity: "medium",
  check: (resources) =>
    ofTypes(resources, ...BUCKETS).flatMap((b) => {
      const documents = [b.props["policy"], ...settingsOf(resources, [POLICY], b).map((p) => p.props["policy"])].filter((d) => d !== undefined);
      const covered = documents.map(deniesInsecureTransport).reduce((a, c) => ({ bucket: a.bucket || c.bucket, objects: a.objects || c.objects }), {
        bucket: false,
        objects: false,
      });
      if (covered.bucket && covered.objects) {
        return [];
      }
      return [
        {
          resource: where(b),
          problem:
            documents.length === 0
              ? "has no bucket policy, so requests over plain HTTP are accepted"
              : `its policy does not deny plain-HTTP requests to ${covered.bucket ? "the objects (<arn>/*)" : covered.objects ? "the bucket itself (<arn>)" : "the bucket and its objects"}`,
          fix: 'add a statement { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [<bucket arn>, "<bucket arn>/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }',
        },
      ];
    }),
};

export const s3Rules = [s3PublicAccessBlockFlags, s3BucketHasPublicAccessBlock, s3BucketEncryption, s3BucketVersioning, s3BucketOwnerEnforced, s3BucketTlsOnly];
