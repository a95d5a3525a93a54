import { strict as assert } from "assert";
import { ImageBucket, ImageBucketArgs } from "../infra/storage/imageBucket";
import { REGION } from "../automation/offline/mocks";
import { declare, Evaluation, named, ofType } from "./stack";

const T = {
  bucket: "aws:s3/bucket:Bucket",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  key: "aws:kms/key:Key",
} as const;
const NAME = "images-test";
const CHILD = `${NAME}-images`;
const BUCKET_ID = `${CHILD}-id`;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Principal?: Record<string, string[]>;
  Condition?: Record<string, Record<string, string[]>>;
}

function evaluateBucket(args: ImageBucketArgs): Promise<Evaluation> {
  return declare(() => {
    const images = new ImageBucket(NAME, args);
    return { bucketName: images.bucketName, bucketArn: images.bucketArn, keyArn: images.kmsKeyArn, readWrite: images.readWritePolicy() };
  });
}

describe("ImageBucket", () => {
  let versioned: Evaluation;
  let unversioned: Evaluation;
  before(async () => {
    versioned = await evaluateBucket({ versioning: true, forceDestroy: true, noncurrentVersionExpirationDays: 45 });
    unversioned = await evaluateBucket({});
  });

  it("declares one bucket and one of each bucket configuration, all on that bucket", () => {
    assert.equal(ofType(versioned, T.bucket).length, 1);
    for (const type of [T.publicAccess, T.ownership, T.encryption, T.versioning, T.lifecycle, T.policy]) {
      const all = ofType(versioned, type);
      assert.equal(all.length, 1, type);
      assert.equal(all[0].inputs["bucket"], BUCKET_ID, type);
    }
  });

  it("wires forceDestroy from the args and defaults it to false", () => {
    assert.equal(named(versioned, T.bucket, CHILD).inputs["forceDestroy"], true);
    assert.equal(named(unversioned, T.bucket, CHILD).inputs["forceDestroy"], false);
  });

  it("blocks every kind of public access", () => {
    const pab = named(unversioned, T.publicAccess, CHILD).inputs;
    for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
      assert.equal(pab[flag], true, flag);
    }
  });

  it("disables ACLs (bucket owner enforced)", () => {
    assert.deepEqual(named(unversioned, T.ownership, CHILD).inputs["rule"], { objectOwnership: "BucketOwnerEnforced" });
  });

  it("encrypts with SSE-KMS under its own rotating key, with bucket keys", async () => {
    const key = named(unversioned, T.key, CHILD).inputs;
    assert.equal(key["enableKeyRotation"], true);
    const rules = named(unversioned, T.encryption, CHILD).inputs["rules"] as Array<Record<string, unknown>>;
    assert.equal(rules.length, 1);
    assert.equal(rules[0]["bucketKeyEnabled"], true);
    const byDefault = rules[0]["applyServerSideEncryptionByDefault"] as Record<string, unknown>;
    assert.equal(byDefault["sseAlgorithm"], "aws:kms");
    assert.equal(byDefault["kmsMasterKeyId"], unversioned.outputs["keyArn"]);
  });

  it("enables versioning when asked and suspends it otherwise", () => {
    assert.deepEqual(named(versioned, T.versioning, CHILD).inputs["versioningConfiguration"], { status: "Enabled" });
    assert.deepEqual(named(unversioned, T.versioning, CHILD).inputs["versioningConfiguration"], { status: "Suspended" });
  });

  it("expires noncurrent versions after N days (default 30), then their delete markers, and aborts multipart uploads after 7", () => {
    const cases: Array<[Evaluation, number]> = [
      [versioned, 45],
      [unversioned, 30],
    ];
    for (const [ev, days] of cases) {
      const rules = named(ev, T.lifecycle, CHILD).inputs["rules"] as Array<Record<string, unknown>>;
      assert.ok(rules.every((r) => r["status"] === "Enabled"));
      const noncurrent = rules.filter((r) => r["noncurrentVersionExpiration"] !== undefined);
      assert.deepEqual(noncurrent.map((r) => r["noncurrentVersionExpiration"]), [{ noncurrentDays: days }]);
      assert.deepEqual(noncurrent[0]["expiration"], { expiredObjectDeleteMarker: true }, "orphaned delete markers are removed");
      const multipart = rules.filter((r) => r["abortIncompleteMultipartUpload"] !== undefined);
      assert.deepEqual(multipart.map((r) => r["abortIncompleteMultipartUpload"]), [{ daysAfterInitiation: 7 }]);
    }
  });

  it("denies every request that does not use TLS, on the bucket and its objects", () => {
    const arn = String(unversioned.outputs["bucketArn"]);
    const doc = JSON.parse(String(named(unversioned, T.policy, CHILD).inputs["policy"])) as { Statement: Statement[] };
    const deny = doc.Statement.filter((s) => s.Effect === "Deny");
    assert.equal(deny.length, 1);
    assert.deepEqual(deny[0].Action, ["s3:*"]);
    assert.deepEqual([...deny[0].Resource].sort(), [arn, `${arn}/*`].sort());
    assert.deepEqual(deny[0].Principal, { "*": ["*"] });
    assert.deepEqual(deny[0].Condition, { Bool: { "aws:SecureTransport": ["false"] } });
    assert.equal(doc.Statement.filter((s) => s.Effect !== "Deny").length, 0, "the bucket policy grants nothing");
  });

  it("builds a least-privilege read/write policy: objects, listing, and the bucket's key only", () => {
    const arn = String(unversioned.outputs["bucketArn"]);
    const doc = JSON.parse(String(unversioned.outputs["readWrite"])) as { Statement: Statement[] };
    const grants = doc.Statement.map((s) => ({ effect: s.Effect, actions: [...s.Action].sort(), resources: s.Resource }));
    assert.deepEqual(grants, [
      { effect: "Allow", actions: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], resources: [`${arn}/*`] },
      { effect: "Allow", actions: ["s3:ListBucket"], resources: [arn] },
      { effect: "Allow", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [unversioned.outputs["keyArn"]] },
    ]);
    assert.ok(!doc.Statement.some((s) => s.Resource.includes("*") || s.Action.some((a) => a.endsWith(":*"))));
    const kms = doc.Statement.find((s) => s.Action.includes("kms:Decrypt"));
    assert.deepEqual(kms?.Condition, { StringEquals: { "kms:ViaService": [`s3.${REGION}.amazonaws.com`] } }, "the key is usable only through S3");
  });

  it("rejects a non-positive noncurrentVersionExpirationDays", async () => {
    await assert.rejects(evaluateBucket({ noncurrentVersionExpirationDays: 0 }), /noncurrentVersionExpirationDays must be a positive integer, got 0/);
  });
});
