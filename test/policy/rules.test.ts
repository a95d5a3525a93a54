/**
 * Every rule of the policy pack, one passing and one violating case each (asserting the rule's
 * name and its message: what, where, how to fix, docs), the enforcement per environment from the
 * config files, the documented exceptions, and the real CrossGuard policies built from the same
 * rule objects.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { REQUIRED_TAG_KEYS } from "../../infra/providers";
import type { Environment, Violation } from "../../infra/policy/engine";
import { ENVIRONMENTS } from "../../infra/policy/engine";
import { enforcementLevel, evaluatePolicies, loadPolicyConfig, OfflineResource, PolicyPackConfig, runPolicies, validatePolicyConfig } from "../../infra/policy/offline";
import { buildPolicies } from "../../infra/policy/pack";
import { RULES, ruleNamed } from "../../infra/policy/rules";
import { EKS_SUPPORTED_VERSIONS } from "../../infra/policy/rules/eks";
import { REQUIRED_TAGS, TAGGABLE_TYPES } from "../../infra/policy/rules/tags";
import { REPO_ROOT, shippedStack, STACKS } from "../stack";

type Props = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Harness: one rule, enforced, over the given resources.

const exercised = { passed: new Set<string>(), violated: new Set<string>() };

function violationsOf(rule: string, resources: readonly OfflineResource[], environment: Environment = "prod", settings?: Props): Violation[] {
  const config: PolicyPackConfig = settings === undefined ? { all: "mandatory" } : { all: "mandatory", [rule]: settings };
  return runPolicies(resources, environment, { rules: [ruleNamed(rule)], config });
}

function passes(rule: string, resources: readonly OfflineResource[], environment: Environment = "prod", settings?: Props): void {
  const found = violationsOf(rule, resources, environment, settings);
  assert.deepEqual(
    found.map((v) => v.message),
    [],
    `${rule} should pass in ${environment}`,
  );
  exercised.passed.add(rule);
}

/** Asserts the rule reports `resource` with a message matching every pattern, and returns the messages. */
function violates(
  rule: string,
  resources: readonly OfflineResource[],
  offender: { type: string; name: string } | undefined,
  patterns: readonly RegExp[],
  environment: Environment = "prod",
  settings?: Props,
): string[] {
  const found = violationsOf(rule, resources, environment, settings);
  assert.ok(found.length > 0, `${rule} should report a violation in ${environment}`);
  for (const v of found) {
    assert.equal(v.policy, rule);
    assert.equal(v.enforcementLevel, "mandatory");
    assert.match(v.message, / Fix: .+\. Docs: https:\/\//, "every message says how to fix it and links the docs");
    assert.ok(v.message.endsWith(ruleNamed(rule).docs));
  }
  if (offender !== undefined) {
    const where = `${offender.type} "${offender.name}": `;
    assert.ok(
      found.some((v) => v.message.startsWith(where)),
      `expected a message about ${where}, got:\n${found.map((v) => v.message).join("\n")}`,
    );
    assert.deepEqual(found[0].resource, { type: offender.type, name: offender.name });
  }
  const all = found.map((v) => v.message).join("\n");
  for (const p of patterns) {
    assert.match(all, p);
  }
  exercised.violated.add(rule);
  return found.map((v) => v.message);
}

function r(type: string, name: string, props: Props, outputs?: Props): OfflineResource {
  return { type, name, props, outputs: outputs ?? { id: `${name}-id`, arn: `arn:aws:test:::${name}` } };
}

function withProps(res: OfflineResource, patch: Props): OfflineResource {
  return { ...res, props: { ...res.props, ...patch } };
}

function without(res: OfflineResource, ...keys: string[]): OfflineResource {
  const props = { ...res.props };
  for (const k of keys) {
    delete props[k];
  }
  return { ...res, props };
}

// ---------------------------------------------------------------------------------------------
// Fixtures, shaped like what the program's components declare.

const RDS = "aws:rds/instance:Instance";
const PARAMS = "aws:rds/parameterGroup:ParameterGroup";

function rdsInstance(patch: Props = {}): OfflineResource {
  return r(RDS, "prod-db-instance", {
    engine: "mariadb",
    engineVersion: "11.4",
    publiclyAccessible: false,
    storageEncrypted: true,
    kmsKeyId: "arn:aws:kms:ap-northeast-2:123456789012:key/db",
    backupRetentionPeriod: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: "platform-prod-db-final",
    multiAz: true,
    enabledCloudwatchLogsExports: ["audit", "error", "slowquery"],
    parameterGroupName: "prod-db-params",
    ...patch,
  });
}

function parameterGroup(requireTls: string | undefined): OfflineResource {
  const parameters = [{ name: "character_set_server", value: "utf8mb4", applyMethod: "immediate" }];
  if (requireTls !== undefined) {
    parameters.push({ name: "require_secure_transport", value: requireTls, applyMethod: "immediate" });
  }
  return r(PARAMS, "prod-db-params", { family: "mariadb11.4", parameters }, { id: "prod-db-params-1a2b", name: "prod-db-params-1a2b" });
}

const BUCKET = "aws:s3/bucket:Bucket";

function bucketSet(): Record<"bucket" | "pab" | "sse" | "versioning" | "ownership" | "policy", OfflineResource> {
  const ref = "prod-images-id";
  return {
    bucket: r(BUCKET, "prod-images", { forceDestroy: false }, { id: ref, bucket: ref, arn: "arn:aws:s3:::prod-images-id" }),
    pab: r("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "prod-images", {
      bucket: ref,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
    sse: r("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "prod-images", {
      bucket: ref,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:::key/images" }, bucketKeyEnabled: true }],
    }),
    versioning: r("aws:s3/bucketVersioning:BucketVersioning", "prod-images", { bucket: ref, versioningConfiguration: { status: "Enabled" } }),
    ownership: r("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "prod-images", { bucket: ref, rule: { objectOwnership: "BucketOwnerEnforced" } }),
    policy: r("aws:s3/bucketPolicy:BucketPolicy", "prod-images", {
      bucket: ref,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: ["arn:aws:s3:::prod-images-id", "arn:aws:s3:::prod-images-id/*"],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    }),
  };
}

const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

function ingressRule(name: string, patch: Props): OfflineResource {
  return r(INGRESS_RULE, name, { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS from the internet", ...patch });
}

const INSTANCE = "aws:ec2/instance:Instance";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";

function instance(patch: Props = {}): OfflineResource {
  return r(INSTANCE, "app-instance", {
    ami: "ami-1",
    instanceType: "t3.small",
    associatePublicIpAddress: false,
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    rootBlockDevice: { volumeType: "gp3", volumeSize: 30, encrypted: true },
    ...patch,
  });
}

function launchTemplate(patch: Props = {}): OfflineResource {
  const tags = { Project: "platform", Environment: "prod", Stack: "prod", ManagedBy: "pulumi" };
  return r(LAUNCH_TEMPLATE, "prod-bastion-lt", {
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 8, volumeType: "gp3", encrypted: "true" } }],
    networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false" }],
    tagSpecifications: [
      { resourceType: "instance", tags },
      { resourceType: "volume", tags },
    ],
    ...patch,
  });
}

const EKS_COMPONENT = "eks:index:Cluster";
const EKS_CLUSTER = "aws:eks/cluster:Cluster";

function eksComponent(patch: Props = {}): OfflineResource {
  return r(EKS_COMPONENT, "prod-eks", {
    version: "1.35",
    enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    encryptionConfigKeyArn: "arn:aws:kms:ap-northeast-2:123456789012:key/secrets",
    endpointPrivateAccess: true,
    endpointPublicAccess: true,
    publicAccessCidrs: ["203.0.113.0/24"],
    ...patch,
  });
}

function eksCluster(patch: Props = {}): OfflineResource {
  return r(EKS_CLUSTER, "prod-eks-eksCluster", {
    version: "1.35",
    enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    encryptionConfig: { provider: { keyArn: "arn:aws:kms:::key/secrets" }, resources: ["secrets"] },
    vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: false },
    ...patch,
  });
}

const LB = "aws:lb/loadBalancer:LoadBalancer";
const LISTENER = "aws:lb/listener:Listener";
const WEB_ACL = "aws:wafv2/webAcl:WebAcl";

function loadBalancer(patch: Props = {}): OfflineResource {
  return r(LB, "test-host-alb", { loadBalancerType: "application", internal: false, dropInvalidHeaderFields: true, ...patch }, { id: "alb-id", arn: "arn:aws:elasticloadbalancing:::loadbalancer/app/test-host-alb/1" });
}

function httpListener(patch: Props = {}): OfflineResource {
  return r(
    LISTENER,
    "test-host-http",
    { loadBalancerArn: "arn:aws:elasticloadbalancing:::loadbalancer/app/test-host-alb/1", port: 80, protocol: "HTTP", defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }], ...patch },
    { id: "l-http", arn: "arn:aws:elasticloadbalancing:::listener/http" },
  );
}

function managedRule(name: string, override: Props = { none: {} }): Props {
  return { name: `AWS-${name}`, priority: 10, overrideAction: override, statement: { managedRuleGroupStatement: { vendorName: "AWS", name } }, visibilityConfig: {} };
}

function webAcl(rules: Props[]): OfflineResource {
  return r(WEB_ACL, "prod-waf", { scope: "REGIONAL", defaultAction: { allow: {} }, rules }, { id: "waf-id", arn: "arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/prod-waf/1" });
}

const REQUIRED_GROUPS = [managedRule("AWSManagedRulesAmazonIpReputationList"), managedRule("AWSManagedRulesAnonymousIpList")];

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

function albIngress(name: string, annotations: Record<string, string>): OfflineResource {
  return r(INGRESS, `${name}-ingress`, {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: "apps", annotations: { "alb.ingress.kubernetes.io/group.name": "prod", ...annotations } },
    spec: { ingressClassName: "alb", rules: [] },
  });
}

const SECURE_ALB_ANNOTATIONS: Record<string, string> = {
  "alb.ingress.kubernetes.io/scheme": "internet-facing",
  "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
  "alb.ingress.kubernetes.io/ssl-redirect": "443",
  "alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:::certificate/1",
  "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
  "alb.ingress.kubernetes.io/wafv2-acl-arn": "arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/prod-waf/1",
};

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA_TYPE = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";

function container(patch: Props = {}): Props {
  return {
    name: "app",
    image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.4.0",
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    readinessProbe: { httpGet: { path: "/actuator/health", port: "http" } },
    livenessProbe: { tcpSocket: { port: "http" } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    ...patch,
  };
}

function deployment(name: string, opts: { namespace?: string; replicas?: number; labels?: Record<string, string>; container?: Props; pod?: Props } = {}): OfflineResource {
  const labels = opts.labels ?? { "app.kubernetes.io/name": name };
  return r(DEPLOYMENT, name, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: opts.namespace ?? "apps", labels },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, containers: [container(opts.container)], ...(opts.pod ?? {}) },
      },
    },
  });
}

function pdb(name: string, selector: Record<string, string>, spec: Props = { maxUnavailable: 1 }, namespace = "apps"): OfflineResource {
  return r("kubernetes:policy/v1:PodDisruptionBudget", name, {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace },
    spec: { ...spec, selector: { matchLabels: selector } },
  });
}

const TAGS = { Project: "platform", Environment: "prod", Stack: "prod", ManagedBy: "pulumi" };

function awsProviderResource(tags: Record<string, string> = TAGS, name = "platform-aws"): OfflineResource {
  return { type: "pulumi:providers:aws", name, props: { region: "ap-northeast-2", defaultTags: JSON.stringify({ tags }) } };
}

/** The SDK's provider reference for `platform-aws` (as the mocks record it). */
const PROVIDER_REF = "urn:pulumi:prod::platform::pulumi:providers:aws::platform-aws::platform-aws-provider-id";

// ---------------------------------------------------------------------------------------------

describe("policy pack rules", () => {
  describe("RDS", () => {
    it("rds-not-publicly-accessible: a private instance passes; publiclyAccessible true is reported", () => {
      passes("rds-not-publicly-accessible", [rdsInstance()]);
      violates("rds-not-publicly-accessible", [rdsInstance({ publiclyAccessible: true })], { type: RDS, name: "prod-db-instance" }, [/publiclyAccessible is true/, /bastion/]);
    });

    it("rds-storage-encrypted: storageEncrypted true passes; unset is reported", () => {
      passes("rds-storage-encrypted", [rdsInstance()]);
      violates("rds-storage-encrypted", [without(rdsInstance(), "storageEncrypted")], { type: RDS, name: "prod-db-instance" }, [/storageEncrypted is not true/, /kmsKeyId/]);
    });

    it("rds-backup-retention: 7+ days in prod, at least 1 elsewhere", () => {
      passes("rds-backup-retention", [rdsInstance({ backupRetentionPeriod: 7 })]);
      passes("rds-backup-retention", [rdsInstance({ backupRetentionPeriod: 1 })], "staging");
      violates("rds-backup-retention", [rdsInstance({ backupRetentionPeriod: 3 })], { type: RDS, name: "prod-db-instance" }, [/backupRetentionPeriod is 3 day\(s\) in prod; at least 7/]);
      violates("rds-backup-retention", [rdsInstance({ backupRetentionPeriod: 0 })], { type: RDS, name: "prod-db-instance" }, [/0 turns automated backups/], "test");
    });

    it("rds-deletion-protection: prod needs deletion protection and a final snapshot; other stacks are exempt", () => {
      passes("rds-deletion-protection", [rdsInstance()]);
      passes("rds-deletion-protection", [rdsInstance({ deletionProtection: false, skipFinalSnapshot: true })], "staging");
      const messages = violates(
        "rds-deletion-protection",
        [rdsInstance({ deletionProtection: false, skipFinalSnapshot: true, finalSnapshotIdentifier: undefined })],
        { type: RDS, name: "prod-db-instance" },
        [/deletionProtection is not true/, /no final snapshot on deletion \(skipFinalSnapshot true/],
      );
      assert.equal(messages.length, 2);
    });

    it("rds-multi-az: prod instances need a standby", () => {
      passes("rds-multi-az", [rdsInstance()]);
      passes("rds-multi-az", [rdsInstance({ multiAz: false })], "test");
      violates("rds-multi-az", [rdsInstance({ multiAz: false })], { type: RDS, name: "prod-db-instance" }, [/multiAz is not true/]);
    });

    it("rds-log-exports: MariaDB exports audit and error logs", () => {
      passes("rds-log-exports", [rdsInstance()]);
      violates("rds-log-exports", [rdsInstance({ enabledCloudwatchLogsExports: ["error", "slowquery"] })], { type: RDS, name: "prod-db-instance" }, [/misses audit/, /MARIADB_AUDIT_PLUGIN/]);
      violates("rds-log-exports", [rdsInstance({ enabledCloudwatchLogsExports: [] })], { type: RDS, name: "prod-db-instance" }, [/enabledCloudwatchLogsExports is empty/]);
    });

    it("rds-tls-required (stack): the instance's parameter group must set require_secure_transport = 1", () => {
      passes("rds-tls-required", [rdsInstance({ parameterGroupName: "prod-db-params-1a2b" }), parameterGroup("1")]);
      violates("rds-tls-required", [rdsInstance({ parameterGroupName: "prod-db-params-1a2b" }), parameterGroup(undefined)], { type: RDS, name: "prod-db-instance" }, [
        /sets require_secure_transport to nothing \(engine default: off\)/,
        /set the parameter require_secure_transport = 1 in prod-db-params/,
      ]);
      violates("rds-tls-required", [without(rdsInstance(), "parameterGroupName")], { type: RDS, name: "prod-db-instance" }, [/default parameter group/]);
    });
  });

  describe("S3", () => {
    it("s3-public-access-block-flags: all four flags", () => {
      const { pab } = bucketSet();
      passes("s3-public-access-block-flags", [pab]);
      violates("s3-public-access-block-flags", [withProps(pab, { restrictPublicBuckets: false, ignorePublicAcls: undefined })], { type: pab.type, name: "prod-images" }, [
        /ignorePublicAcls and restrictPublicBuckets are not true/,
      ]);
    });

    it("s3-bucket-public-access-block (stack): every bucket has a block pointing at it", () => {
      const s = bucketSet();
      passes("s3-bucket-public-access-block", [s.bucket, s.pab]);
      violates("s3-bucket-public-access-block", [s.bucket, withProps(s.pab, { bucket: "another-bucket" })], { type: BUCKET, name: "prod-images" }, [/no aws.s3.BucketPublicAccessBlock points at this bucket/]);
    });

    it("s3-bucket-encryption (stack): default encryption declared (separately or inline)", () => {
      const s = bucketSet();
      passes("s3-bucket-encryption", [s.bucket, s.sse]);
      passes("s3-bucket-encryption", [withProps(s.bucket, { serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } } })]);
      violates("s3-bucket-encryption", [s.bucket], { type: BUCKET, name: "prod-images" }, [/no default encryption is declared/, /aws:kms/]);
    });

    it("s3-bucket-versioning (stack): Enabled in prod only", () => {
      const s = bucketSet();
      passes("s3-bucket-versioning", [s.bucket, s.versioning]);
      const suspended = withProps(s.versioning, { versioningConfiguration: { status: "Suspended" } });
      passes("s3-bucket-versioning", [s.bucket, suspended], "staging");
      violates("s3-bucket-versioning", [s.bucket, suspended], { type: BUCKET, name: "prod-images" }, [/versioning is not Enabled/]);
    });

    it("s3-bucket-owner-enforced (stack): ACLs disabled", () => {
      const s = bucketSet();
      passes("s3-bucket-owner-enforced", [s.bucket, s.ownership]);
      violates("s3-bucket-owner-enforced", [s.bucket, withProps(s.ownership, { rule: { objectOwnership: "ObjectWriter" } })], { type: BUCKET, name: "prod-images" }, [/object ownership is ObjectWriter/]);
      violates("s3-bucket-owner-enforced", [withProps(s.bucket, { acl: "public-read" }), s.ownership], { type: BUCKET, name: "prod-images" }, [/canned ACL "public-read"/]);
    });

    it("s3-bucket-tls-only (stack): a Deny on aws:SecureTransport false for the bucket and its objects", () => {
      const s = bucketSet();
      passes("s3-bucket-tls-only", [s.bucket, s.policy]);
      // The mocks render `Principal: { type: "*", identifiers: ["*"] }` as {"*": ["*"]}.
      const mockShaped = withProps(s.policy, { policy: String(s.policy.props["policy"]).replace('"Principal":"*"', '"Principal":{"*":["*"]}') });
      passes("s3-bucket-tls-only", [s.bucket, mockShaped]);
      violates("s3-bucket-tls-only", [s.bucket], { type: BUCKET, name: "prod-images" }, [/has no bucket policy/]);
      const objectsOnly = withProps(s.policy, { policy: String(s.policy.props["policy"]).replace('"arn:aws:s3:::prod-images-id",', "") });
      violates("s3-bucket-tls-only", [s.bucket, objectsOnly], { type: BUCKET, name: "prod-images" }, [/does not deny plain-HTTP requests to the bucket itself/]);
    });
  });

  describe("security groups", () => {
    it("sg-no-world-admin-ingress: 22, 3389, 3306 and all ports from 0.0.0.0/0 or ::/0, in every rule form", () => {
      passes("sg-no-world-admin-ingress", [ingressRule("alb-https", {}), ingressRule("ssh-office", { fromPort: 22, toPort: 22, cidrIpv4: "203.0.113.0/24" })]);
      violates("sg-no-world-admin-ingress", [ingressRule("ssh", { fromPort: 22, toPort: 22, description: "SSH" })], { type: INGRESS_RULE, name: "ssh" }, [/admits 0.0.0.0\/0 to 22 \(SSH\)/, /SSM Session Manager/]);
      violates("sg-no-world-admin-ingress", [ingressRule("db", { fromPort: 3300, toPort: 3310, cidrIpv4: undefined, cidrIpv6: "::/0" })], { type: INGRESS_RULE, name: "db" }, [
        /admits ::\/0 to 3306 \(MySQL\/MariaDB\)/,
      ]);
      violates(
        "sg-no-world-admin-ingress",
        [r(SG, "legacy", { description: "legacy", ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "all" }] })],
        { type: SG, name: "legacy" },
        [/ingress\[0\] admits 0.0.0.0\/0 to all ports/],
      );
      violates(
        "sg-no-world-admin-ingress",
        [r(SG_RULE, "rdp", { type: "ingress", protocol: "tcp", fromPort: 3389, toPort: 3389, cidrBlocks: ["0.0.0.0/0"], securityGroupId: "sg-1", description: "RDP" })],
        { type: SG_RULE, name: "rdp" },
        [/3389 \(RDP\)/],
      );
    });

    it("sg-no-world-admin-ingress: the union of a rule's ranges counts, halves and /3 slices included", () => {
      const eighths = [0, 32, 64, 96, 128, 160, 192, 224].map((o) => `${o}.0.0.0/3`);
      violates(
        "sg-no-world-admin-ingress",
        [r(SG, "split", { description: "split", ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"], description: "SSH" }] })],
        { type: SG, name: "split" },
        [/ingress\[0\] admits 0.0.0.0\/1 and 128.0.0.0\/1 to 22 \(SSH\) \(the whole internet: the union covers all of 0.0.0.0\/0\)/],
      );
      violates(
        "sg-no-world-admin-ingress",
        [r(SG, "slices", { description: "slices", ingress: eighths.map((c) => ({ protocol: "tcp", fromPort: 3306, toPort: 3306, cidrBlocks: [c], description: "db" })) })],
        { type: SG, name: "slices" },
        [/ingress\[0\], ingress\[1\].* and ingress\[7\] admits .* to 3306 \(MySQL\/MariaDB\) \(the whole internet: .*\)/],
      );
      violates("sg-no-world-admin-ingress", [ingressRule("half", { fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/1" })], { type: INGRESS_RULE, name: "half" }, [
        /admits 0.0.0.0\/1 to 22 \(SSH\) \(half of the internet or more: the union covers 50% of 0.0.0.0\/0\)/,
      ]);
      violates("sg-no-world-admin-ingress", [ingressRule("v6", { fromPort: 22, toPort: 22, cidrIpv4: undefined, cidrIpv6: "2000::/3" })], { type: INGRESS_RULE, name: "v6" }, [
        /2000::\/3 \(global unicast\)/,
      ]);
      passes("sg-no-world-admin-ingress", [r(SG, "office", { description: "office", ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.0/24", "198.51.100.0/24"], description: "SSH" }] })]);
    });

    it("sg-world-ingress-web-only: the internet may reach TCP 80 and 443 only (the public ALB)", () => {
      violates("sg-world-ingress-web-only", [ingressRule("half-app", { fromPort: 8080, toPort: 8080, cidrIpv4: "128.0.0.0/1" })], { type: INGRESS_RULE, name: "half-app" }, [
        /admits 128.0.0.0\/1 to tcp\/8080 \(half of the internet or more/,
      ]);
      violates("sg-world-ingress-web-only", [ingressRule("wide", { fromPort: 0, toPort: 65535, cidrIpv4: "0.0.0.0/0" })], { type: INGRESS_RULE, name: "wide" }, [/tcp\/0-65535/]);
      passes("sg-world-ingress-web-only", [ingressRule("half-https", { cidrIpv4: "0.0.0.0/1" })]);
      passes("sg-world-ingress-web-only", [ingressRule("alb-https", {}), ingressRule("alb-http", { fromPort: 80, toPort: 80 }), ingressRule("app", { fromPort: 8080, toPort: 8080, cidrIpv4: undefined, referencedSecurityGroupId: "sg-alb" })]);
      violates("sg-world-ingress-web-only", [ingressRule("app", { fromPort: 8080, toPort: 8080 })], { type: INGRESS_RULE, name: "app" }, [/admits 0.0.0.0\/0 to tcp\/8080/]);
    });

    it("sg-ingress-union-not-world: separate rules of one group are judged together", () => {
      const halves = [ingressRule("ssh-low", { fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/2" }), ingressRule("ssh-high", { fromPort: 22, toPort: 22, cidrIpv4: "64.0.0.0/2" })];
      violates("sg-ingress-union-not-world", halves, { type: INGRESS_RULE, name: "ssh-low" }, [
        /the ingress rules "ssh-low" and "ssh-high" of security group sg-1 together admit 0.0.0.0\/2 and 64.0.0.0\/2 to 22 \(SSH\) \(half of the internet or more: the union covers 50% of 0.0.0.0\/0\)/,
        /split ranges are judged by what they cover together/,
      ]);
      const quarters = ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"].map((c, i) => ingressRule(`app-${i}`, { fromPort: 8000, toPort: 8100, cidrIpv4: c }));
      violates("sg-ingress-union-not-world", quarters, { type: INGRESS_RULE, name: "app-0" }, [/together admit .* to tcp\/8000-8100 \(the whole internet: the union covers all of 0.0.0.0\/0\)/]);
      // Two groups, each with a quarter: nothing adds up.
      passes("sg-ingress-union-not-world", [halves[0], withProps(halves[1], { securityGroupId: "sg-2" })]);
      // The public ALB's own world-open HTTPS is the one exposure allowed, however it is split.
      passes("sg-ingress-union-not-world", [ingressRule("https-low", { cidrIpv4: "0.0.0.0/1" }), ingressRule("https-high", { cidrIpv4: "128.0.0.0/1" })]);
    });

    it("sg-rules-described: the group and every rule have a description", () => {
      passes("sg-rules-described", [r(SG, "db-sg", { description: "MariaDB clients on 3306" }), ingressRule("alb-https", {}), r("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "out", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS out" })]);
      violates("sg-rules-described", [r(SG, "bare", { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8"] }] })], { type: SG, name: "bare" }, [
        /no description \(the provider writes "Managed by Pulumi"\)/,
        /ingress\[0\] \(ingress tcp\/443\) has no description/,
      ]);
      violates("sg-rules-described", [ingressRule("anon", { description: undefined })], { type: INGRESS_RULE, name: "anon" }, [/rule \(ingress tcp\/443\) has no description/]);
    });
  });

  describe("EC2", () => {
    it("ec2-imdsv2-required: httpTokens required on instances and launch templates", () => {
      passes("ec2-imdsv2-required", [instance(), launchTemplate()]);
      violates("ec2-imdsv2-required", [instance({ metadataOptions: { httpTokens: "optional" } })], { type: INSTANCE, name: "app-instance" }, [/httpTokens is "optional"/, /IMDSv1/]);
      violates("ec2-imdsv2-required", [launchTemplate({ metadataOptions: undefined })], { type: LAUNCH_TEMPLATE, name: "prod-bastion-lt" }, [/httpTokens is unset/]);
    });

    it("ec2-imds-hop-limit: 1, or up to 2 with a documented exception", () => {
      passes("ec2-imds-hop-limit", [instance(), launchTemplate()]);
      const hop2 = instance({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } });
      violates("ec2-imds-hop-limit", [hop2], { type: INSTANCE, name: "app-instance" }, [/httpPutResponseHopLimit is 2; 1 is the limit without a documented exception/, /maxHopLimit 2/]);
      violates("ec2-imds-hop-limit", [launchTemplate({ metadataOptions: { httpTokens: "required" } })], { type: LAUNCH_TEMPLATE, name: "prod-bastion-lt" }, [/unset, so the AMI decides/]);
      const exception = { exceptions: [{ resource: "app-instance", maxHopLimit: 2, reason: "containers on a Docker bridge network need the role" }] };
      passes("ec2-imds-hop-limit", [hop2], "prod", exception);
      const hop3 = instance({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 3 } });
      violates("ec2-imds-hop-limit", [hop3], { type: INSTANCE, name: "app-instance" }, [/documented exception \("containers on a Docker bridge network need the role"\) allows at most 2/], "prod", exception);
    });

    it("ec2-no-public-ip: explicit false on instances; no public interfaces in launch templates", () => {
      passes("ec2-no-public-ip", [instance(), launchTemplate()]);
      violates("ec2-no-public-ip", [instance({ associatePublicIpAddress: true })], { type: INSTANCE, name: "app-instance" }, [/associatePublicIpAddress is true/]);
      violates("ec2-no-public-ip", [without(instance(), "associatePublicIpAddress")], { type: INSTANCE, name: "app-instance" }, [/MapPublicIpOnLaunch decides/]);
      violates("ec2-no-public-ip", [launchTemplate({ networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "true" }] })], { type: LAUNCH_TEMPLATE, name: "prod-bastion-lt" }, [
        /every instance launched from it is on the internet/,
      ]);
    });

    it("ec2-encrypted-volumes: root and data volumes, template mappings, standalone volumes", () => {
      passes("ec2-encrypted-volumes", [instance(), launchTemplate(), r("aws:ebs/volume:Volume", "data", { encrypted: true, size: 10 })]);
      violates("ec2-encrypted-volumes", [instance({ rootBlockDevice: { volumeSize: 30 }, ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }] })], { type: INSTANCE, name: "app-instance" }, [
        /rootBlockDevice and ebsBlockDevices\[0\] \(\/dev\/sdf\) are not encrypted/,
      ]);
      violates("ec2-encrypted-volumes", [launchTemplate({ blockDeviceMappings: undefined })], { type: LAUNCH_TEMPLATE, name: "prod-bastion-lt" }, [/no block device mappings/]);
      violates("ec2-encrypted-volumes", [r("aws:ebs/volume:Volume", "data", { size: 10 })], { type: "aws:ebs/volume:Volume", name: "data" }, [/encrypted is not true/]);
    });
  });

  describe("EKS", () => {
    it("eks-control-plane-logging: all five log types, on the component and the cluster", () => {
      passes("eks-control-plane-logging", [eksComponent(), eksCluster()]);
      violates("eks-control-plane-logging", [eksComponent({ enabledClusterLogTypes: ["api"] })], { type: EKS_COMPONENT, name: "prod-eks" }, [/misses audit, authenticator, controllerManager and scheduler/]);
      violates("eks-control-plane-logging", [eksCluster({ enabledClusterLogTypes: undefined })], { type: EKS_CLUSTER, name: "prod-eks-eksCluster" }, [/misses api/]);
    });

    it("eks-secrets-encryption: a KMS key for secrets", () => {
      passes("eks-secrets-encryption", [eksComponent(), eksCluster()]);
      violates("eks-secrets-encryption", [without(eksComponent(), "encryptionConfigKeyArn")], { type: EKS_COMPONENT, name: "prod-eks" }, [/not envelope-encrypted/, /encryptionConfigKeyArn/]);
      violates("eks-secrets-encryption", [eksCluster({ encryptionConfig: { provider: { keyArn: "k" }, resources: [] } })], { type: EKS_CLUSTER, name: "prod-eks-eksCluster" }, [/resources: \["secrets"\]/]);
    });

    it("eks-endpoint-restricted: private, or public to listed CIDRs that never add up to (half) the internet", () => {
      passes("eks-endpoint-restricted", [eksComponent(), eksComponent({ endpointPublicAccess: false, publicAccessCidrs: undefined }), eksCluster()]);
      violates("eks-endpoint-restricted", [eksComponent({ publicAccessCidrs: ["0.0.0.0/0"] })], { type: EKS_COMPONENT, name: "prod-eks" }, [/publicAccessCidrs 0.0.0.0\/0 opens the Kubernetes API to the whole internet/]);
      violates("eks-endpoint-restricted", [eksComponent({ publicAccessCidrs: ["0.0.0.0/1", "128.0.0.0/1"] })], { type: EKS_COMPONENT, name: "prod-eks" }, [/to the whole internet \(the union covers all of 0.0.0.0\/0\)/]);
      violates("eks-endpoint-restricted", [eksCluster({ vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["128.0.0.0/1"] } })], { type: EKS_CLUSTER, name: "prod-eks-eksCluster" }, [/to half of the internet or more/]);
      violates("eks-endpoint-restricted", [eksCluster({ vpcConfig: { endpointPrivateAccess: true } })], { type: EKS_CLUSTER, name: "prod-eks-eksCluster" }, [/no publicAccessCidrs, which EKS treats as 0.0.0.0\/0/]);
    });

    it("eks-supported-version: one of EKS_SUPPORTED_VERSIONS", () => {
      assert.ok(EKS_SUPPORTED_VERSIONS.every((v) => /^1\.\d{2}$/.test(v)));
      passes("eks-supported-version", [eksComponent(), eksCluster({ version: EKS_SUPPORTED_VERSIONS[0] })]);
      violates("eks-supported-version", [eksComponent({ version: "1.29" })], { type: EKS_COMPONENT, name: "prod-eks" }, [/version "1.29" is not one EKS supports/]);
      violates("eks-supported-version", [without(eksCluster(), "version")], { type: EKS_CLUSTER, name: "prod-eks-eksCluster" }, [/version is unset/]);
    });
  });

  describe("ECR, EFS, KMS", () => {
    const repo = (patch: Props): OfflineResource => r("aws:ecr/repository:Repository", "registry-student", { name: "student", imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true }, ...patch });

    it("ecr-immutable-tags", () => {
      passes("ecr-immutable-tags", [repo({})]);
      violates("ecr-immutable-tags", [repo({ imageTagMutability: undefined })], { type: "aws:ecr/repository:Repository", name: "registry-student" }, [/imageTagMutability is MUTABLE/]);
    });

    it("ecr-scan-on-push", () => {
      passes("ecr-scan-on-push", [repo({})]);
      violates("ecr-scan-on-push", [repo({ imageScanningConfiguration: { scanOnPush: false } })], { type: "aws:ecr/repository:Repository", name: "registry-student" }, [/scanOnPush is not true/]);
    });

    it("efs-encrypted", () => {
      passes("efs-encrypted", [r("aws:efs/fileSystem:FileSystem", "prod-efs", { encrypted: true, kmsKeyId: "k" })]);
      violates("efs-encrypted", [r("aws:efs/fileSystem:FileSystem", "prod-efs", {})], { type: "aws:efs/fileSystem:FileSystem", name: "prod-efs" }, [/encrypted is not true/]);
    });

    it("kms-key-rotation: symmetric keys rotate; asymmetric keys cannot and are skipped", () => {
      passes("kms-key-rotation", [r("aws:kms/key:Key", "k", { enableKeyRotation: true }), r("aws:kms/key:Key", "signing", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" })]);
      violates("kms-key-rotation", [r("aws:kms/key:Key", "k", { description: "x" })], { type: "aws:kms/key:Key", name: "k" }, [/enableKeyRotation is not true/]);
    });
  });

  describe("ALB and WAF", () => {
    it("alb-listener-https: HTTP only redirects; HTTPS uses a TLS 1.2+ policy", () => {
      const https = r(LISTENER, "test-host-https", { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", certificateArn: "c", defaultActions: [{ type: "fixed-response" }] });
      passes("alb-listener-https", [httpListener(), https]);
      violates("alb-listener-https", [httpListener({ defaultActions: [{ type: "forward", targetGroupArn: "tg" }] })], { type: LISTENER, name: "test-host-http" }, [/does not redirect to HTTPS/]);
      violates("alb-listener-https", [withProps(https, { sslPolicy: "ELBSecurityPolicy-TLS13-1-0-2021-06" })], { type: LISTENER, name: "test-host-https" }, [/accepts protocols older than TLS 1.2/]);
      violates("alb-listener-https", [without(https, "sslPolicy")], { type: LISTENER, name: "test-host-https" }, [/ELBSecurityPolicy-2016-08/]);
    });

    it("alb-http-rules-redirect-only (stack): no forwarding rules on an HTTP listener", () => {
      const rule = (listenerArn: string, actions: Props[]): OfflineResource => r("aws:lb/listenerRule:ListenerRule", "route-root", { listenerArn, priority: 100, actions, conditions: [] });
      passes("alb-http-rules-redirect-only", [httpListener(), rule("arn:aws:elasticloadbalancing:::listener/https", [{ type: "forward", targetGroupArn: "tg" }])]);
      violates("alb-http-rules-redirect-only", [httpListener(), rule("arn:aws:elasticloadbalancing:::listener/http", [{ type: "forward", targetGroupArn: "tg" }])], { type: "aws:lb/listenerRule:ListenerRule", name: "route-root" }, [
        /belongs to a plain HTTP listener/,
      ]);
    });

    it("alb-drop-invalid-headers", () => {
      passes("alb-drop-invalid-headers", [loadBalancer(), loadBalancer({ loadBalancerType: "network", dropInvalidHeaderFields: undefined })]);
      violates("alb-drop-invalid-headers", [loadBalancer({ dropInvalidHeaderFields: false })], { type: LB, name: "test-host-alb" }, [/dropInvalidHeaderFields is not true/]);
    });

    it("alb-ingress-https (stack): HTTPS listener, redirect and TLS 1.2+ policy, merged across the IngressGroup", () => {
      passes("alb-ingress-https", [albIngress("student", SECURE_ALB_ANNOTATIONS), albIngress("subject", {})]);
      const messages = violates("alb-ingress-https", [albIngress("student", {})], { type: INGRESS, name: "student-ingress" }, [
        /listens on HTTP:80 only/,
        /listens on plain HTTP without a redirect/,
      ]);
      assert.equal(messages.length, 2);
      const weakPolicy = { ...SECURE_ALB_ANNOTATIONS, "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-2016-08" };
      violates("alb-ingress-https", [albIngress("student", weakPolicy)], { type: INGRESS, name: "student-ingress" }, [/ssl-policy "ELBSecurityPolicy-2016-08" accepts protocols older than TLS 1.2/]);
    });

    it("alb-source-ip-restricted (stack): tools outside the public namespaces admit listed sources only, never (half) the internet", () => {
      const tool = (conditions: Record<string, string>, namespace = "monitoring"): OfflineResource =>
        r(INGRESS, "prod-monitoring-prometheus", {
          apiVersion: "networking.k8s.io/v1",
          kind: "Ingress",
          metadata: { name: "prometheus", namespace, annotations: { ...SECURE_ALB_ANNOTATIONS, "alb.ingress.kubernetes.io/group.name": "prod", ...conditions } },
          spec: {
            ingressClassName: "alb",
            rules: [{ host: "monitoring.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "prometheus", port: { number: 9090 } } } }] } }],
          },
        });
      const sourceIp = (values: string[]): Record<string, string> => ({
        "alb.ingress.kubernetes.io/conditions.prometheus": JSON.stringify([{ field: "source-ip", sourceIpConfig: { values } }]),
      });
      passes("alb-source-ip-restricted", [tool(sourceIp(["203.0.113.0/24"])), albIngress("student", SECURE_ALB_ANNOTATIONS)]);
      violates("alb-source-ip-restricted", [tool({})], { type: INGRESS, name: "prod-monitoring-prometheus" }, [
        /routes to prometheus in namespace "monitoring" with no source-ip condition, so anyone on the internet reaches it/,
      ]);
      violates("alb-source-ip-restricted", [tool(sourceIp(["0.0.0.0/1", "128.0.0.0/1"]))], { type: INGRESS, name: "prod-monitoring-prometheus" }, [
        /conditions.prometheus admits 0.0.0.0\/1 and 128.0.0.0\/1, the whole internet \(the union covers all of 0.0.0.0\/0\), so the condition restricts nothing/,
      ]);
      violates("alb-source-ip-restricted", [tool(sourceIp(["0.0.0.0/1"]), "apps")], { type: INGRESS, name: "prod-monitoring-prometheus" }, [/half of the internet or more/]);
      violates("alb-source-ip-restricted", [tool(sourceIp(["203.0.113.0/00"]))], { type: INGRESS, name: "prod-monitoring-prometheus" }, [/leading zero/]);
      // A namespace the stack's policy config declares public needs no condition.
      passes("alb-source-ip-restricted", [tool({})], "prod", { publicNamespaces: ["apps", "monitoring"] });
    });

    it("waf-required-managed-rules (stack): both groups enforced (inline, ruleJson or rule-group associations), not counted", () => {
      passes("waf-required-managed-rules", [webAcl(REQUIRED_GROUPS)]);
      const viaAssociation = r("aws:wafv2/webAclRuleGroupAssociation:WebAclRuleGroupAssociation", "anon", {
        webAclArn: "arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/prod-waf/1",
        ruleName: "anon",
        priority: 20,
        managedRuleGroup: { vendorName: "AWS", name: "AWSManagedRulesAnonymousIpList" },
      });
      passes("waf-required-managed-rules", [webAcl([REQUIRED_GROUPS[0]]), viaAssociation]);
      violates("waf-required-managed-rules", [webAcl([REQUIRED_GROUPS[0], managedRule("AWSManagedRulesAnonymousIpList", { count: {} })])], { type: WEB_ACL, name: "prod-waf" }, [
        /does not enforce AWSManagedRulesAnonymousIpList \(absent, overridden to count, or its core rule counted: AnonymousIPList\)/,
      ]);
      // Counting the hosting-provider rule keeps the group enforced; counting its core rule does not.
      const counting = (rules: string[]): Props => {
        const rule = managedRule("AWSManagedRulesAnonymousIpList");
        const statement = (rule["statement"] as Props)["managedRuleGroupStatement"] as Props;
        statement["ruleActionOverrides"] = rules.map((name) => ({ name, actionToUse: { count: {} } }));
        return rule;
      };
      passes("waf-required-managed-rules", [webAcl([REQUIRED_GROUPS[0], counting(["HostingProviderIPList"])])]);
      violates("waf-required-managed-rules", [webAcl([REQUIRED_GROUPS[0], counting(["HostingProviderIPList", "AnonymousIPList"])])], { type: WEB_ACL, name: "prod-waf" }, [
        /its core rule counted: AnonymousIPList/,
      ]);
    });

    it("waf-alb-association (stack, prod): internet-facing ALBs and ALB Ingresses are behind a compliant WebACL", () => {
      const acl = webAcl(REQUIRED_GROUPS);
      const association = r("aws:wafv2/webAclAssociation:WebAclAssociation", "test-host-waf", { resourceArn: "arn:aws:elasticloadbalancing:::loadbalancer/app/test-host-alb/1", webAclArn: String(acl.outputs?.["arn"]) });
      passes("waf-alb-association", [loadBalancer(), association, acl, albIngress("student", SECURE_ALB_ANNOTATIONS)]);
      passes("waf-alb-association", [loadBalancer({ internal: true }), albIngress("student", { ...SECURE_ALB_ANNOTATIONS, "alb.ingress.kubernetes.io/scheme": "internal", "alb.ingress.kubernetes.io/wafv2-acl-arn": "none" })]);
      passes("waf-alb-association", [loadBalancer()], "staging");
      violates("waf-alb-association", [loadBalancer(), acl], { type: LB, name: "test-host-alb" }, [/internet-facing with no WAF WebACL \(no aws.wafv2.WebAclAssociation/]);
      violates("waf-alb-association", [acl, albIngress("student", { ...SECURE_ALB_ANNOTATIONS, "alb.ingress.kubernetes.io/wafv2-acl-arn": "none" })], { type: INGRESS, name: "student-ingress" }, [
        /wafv2-acl-arn is "none"/,
      ]);
      violates("waf-alb-association", [webAcl([REQUIRED_GROUPS[0]]), albIngress("student", SECURE_ALB_ANNOTATIONS)], { type: INGRESS, name: "student-ingress" }, [
        /its WebACL aws:wafv2\/webAcl:WebAcl "prod-waf" does not enforce AWSManagedRulesAnonymousIpList/,
      ]);
    });
  });

  describe("IAM and Lambda", () => {
    const doc = (statements: Props[]): string => JSON.stringify({ Version: "2012-10-17", Statement: statements });

    it("iam-no-wildcard-admin: Action * on Resource * in Role inline policies, RolePolicy and Policy", () => {
      passes("iam-no-wildcard-admin", [
        r("aws:iam/rolePolicy:RolePolicy", "lottery", { role: "r", policy: doc([{ Effect: "Allow", Action: ["xray:PutTraceSegments"], Resource: ["*"] }]) }),
        r("aws:iam/policy:Policy", "deny-all", { policy: doc([{ Effect: "Deny", Action: "*", Resource: "*" }]) }),
      ]);
      violates("iam-no-wildcard-admin", [r("aws:iam/policy:Policy", "admin", { policy: doc([{ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }]) })], { type: "aws:iam/policy:Policy", name: "admin" }, [
        /policy statement "Admin" allows Action "\*" on Resource "\*"/,
      ]);
      violates(
        "iam-no-wildcard-admin",
        [r("aws:iam/role:Role", "ci", { assumeRolePolicy: doc([]), inlinePolicies: [{ name: "all", policy: doc([{ Effect: "Allow", Action: ["*:*"], Resource: ["*"] }]) }] })],
        { type: "aws:iam/role:Role", name: "ci" },
        [/inlinePolicies\[0\] \(all\) statement 0 allows Action "\*"/],
      );
      violates("iam-no-wildcard-admin", [r("aws:iam/rolePolicy:RolePolicy", "notaction", { role: "r", policy: doc([{ Effect: "Allow", NotAction: ["iam:*"], Resource: "*" }]) })], undefined, [
        /allows everything except iam:\* \(NotAction\)/,
      ]);
    });

    it("iam-irsa-trust-pinned: sub pinned to exactly named service accounts and aud to sts.amazonaws.com", () => {
      const issuer = "oidc.eks.ap-northeast-2.amazonaws.com/id/PROD";
      const trust = (condition: Props): OfflineResource =>
        r("aws:iam/role:Role", "student-irsa-role", {
          assumeRolePolicy: doc([
            {
              Effect: "Allow",
              Action: ["sts:AssumeRoleWithWebIdentity"],
              Principal: { Federated: [`arn:aws:iam::123456789012:oidc-provider/${issuer}`] },
              Condition: condition,
            },
          ]),
        });
      passes("iam-irsa-trust-pinned", [
        trust({ StringEquals: { [`${issuer}:sub`]: "system:serviceaccount:apps:student", [`${issuer}:aud`]: "sts.amazonaws.com" } }),
        trust({
          StringEquals: {
            [`${issuer}:sub`]: ["system:serviceaccount:kube-system:efs-csi-controller-sa", "system:serviceaccount:kube-system:efs-csi-node-sa"],
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        }),
        r("aws:iam/role:Role", "ec2", { assumeRolePolicy: doc([{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ec2.amazonaws.com" } }]) }),
      ]);
      violates("iam-irsa-trust-pinned", [trust({ StringEquals: { [`${issuer}:aud`]: ["sts.amazonaws.com"] } })], { type: "aws:iam/role:Role", name: "student-irsa-role" }, [
        /has no <issuer>:sub condition, so every pod of the cluster can assume the role/,
      ]);
      violates("iam-irsa-trust-pinned", [trust({ StringLike: { [`${issuer}:sub`]: "system:serviceaccount:apps:*" } })], { type: "aws:iam/role:Role", name: "student-irsa-role" }, [
        /does not pin <issuer>:sub to exactly named service accounts with StringEquals \(found "system:serviceaccount:apps:\*"\)/,
        /does not pin <issuer>:aud to "sts.amazonaws.com" \(found nothing\)/,
      ]);
      violates(
        "iam-irsa-trust-pinned",
        [trust({ StringEquals: { [`${issuer}:sub`]: ["system:serviceaccount:kube-system:efs-csi-controller-sa", "system:serviceaccount:kube-system:efs-csi-*"], [`${issuer}:aud`]: "sts.amazonaws.com" } })],
        { type: "aws:iam/role:Role", name: "student-irsa-role" },
        [/does not pin <issuer>:sub to exactly named service accounts with StringEquals/],
      );
    });

    it("lambda-permission-source-arn: service principals need sourceArn", () => {
      const permission = (patch: Props): OfflineResource => r("aws:lambda/permission:Permission", "staging-lottery", { action: "lambda:InvokeFunction", function: "f", principal: "apigateway.amazonaws.com", ...patch });
      passes("lambda-permission-source-arn", [permission({ sourceArn: "arn:aws:execute-api:ap-northeast-2:123456789012:api/*/*" }), permission({ principal: "123456789012" })]);
      violates("lambda-permission-source-arn", [permission({})], { type: "aws:lambda/permission:Permission", name: "staging-lottery" }, [/has no sourceArn/, /confused deputy/]);
      violates("lambda-permission-source-arn", [permission({ principal: "*" })], { type: "aws:lambda/permission:Permission", name: "staging-lottery" }, [/principal is "\*"/]);
    });
  });

  describe("Kubernetes", () => {
    it("k8s-pod-security-restricted: restricted profile outside documented privileged namespaces", () => {
      passes("k8s-pod-security-restricted", [deployment("student-blue")]);
      const rootish = deployment("legacy", { container: { securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN"] } } }, pod: { securityContext: {}, hostNetwork: true } });
      violates("k8s-pod-security-restricted", [rootish], { type: DEPLOYMENT, name: "legacy" }, [
        /the pod uses hostNetwork in namespace "apps"/,
        /container "app" in namespace "apps": runAsNonRoot is not true, allowPrivilegeEscalation is not false, privileged is true, capabilities.drop does not include ALL, capabilities.add has SYS_ADMIN and seccompProfile.type is unset/,
      ]);
      const fluentd = deployment("fluentd", { namespace: "logging", pod: { securityContext: {}, volumes: [{ name: "varlog", hostPath: { path: "/var/log" } }] }, container: { securityContext: {} } });
      violates("k8s-pod-security-restricted", [fluentd], { type: DEPLOYMENT, name: "fluentd" }, [/hostPath volume varlog/]);
      passes("k8s-pod-security-restricted", [fluentd], "prod", { privilegedNamespaces: [{ namespace: "logging", reason: "Fluentd reads /var/log through hostPath" }] });
      const ns = (name: string, level?: string): OfflineResource =>
        r("kubernetes:core/v1:Namespace", `${name}-ns`, { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: level === undefined ? {} : { "pod-security.kubernetes.io/enforce": level } } });
      passes("k8s-pod-security-restricted", [ns("apps", "restricted"), ns("kube-system", "privileged")]);
      violates("k8s-pod-security-restricted", [ns("tools", "privileged")], { type: "kubernetes:core/v1:Namespace", name: "tools-ns" }, [/enforces the privileged Pod Security level but is not a documented privileged namespace/]);
      violates("k8s-pod-security-restricted", [ns("tools")], { type: "kubernetes:core/v1:Namespace", name: "tools-ns" }, [/has no pod-security.kubernetes.io\/enforce label/]);
    });

    it("k8s-resources-set: CPU and memory requests and limits", () => {
      passes("k8s-resources-set", [deployment("student-blue")]);
      violates("k8s-resources-set", [deployment("student-blue", { container: { resources: { requests: { cpu: "100m" } } } })], { type: DEPLOYMENT, name: "student-blue" }, [
        /container "app" has no requests.memory, limits.cpu and limits.memory/,
      ]);
    });

    it("k8s-probes-set: readiness and liveness on long-running containers", () => {
      passes("k8s-probes-set", [deployment("student-blue")]);
      violates("k8s-probes-set", [deployment("student-blue", { container: { livenessProbe: undefined } })], { type: DEPLOYMENT, name: "student-blue" }, [/container "app" has no livenessProbe/]);
      const noProbes = container({ readinessProbe: undefined, livenessProbe: undefined });
      violates("k8s-probes-set", [deployment("worker", { container: noProbes })], { type: DEPLOYMENT, name: "worker" }, [/container "app" has no readinessProbe and livenessProbe/]);
    });

    it("k8s-probes-set exempts run-to-completion Jobs and CronJobs, which the other workload rules still cover", () => {
      const noProbes = container({ readinessProbe: undefined, livenessProbe: undefined });
      const podSpec = { restartPolicy: "Never", securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, containers: [noProbes] };
      const job = r("kubernetes:batch/v1:Job", "ism-policy", {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "logs-retention-0123456789", namespace: "log-retention" },
        spec: { backoffLimit: 4, activeDeadlineSeconds: 480, template: { spec: podSpec } },
      });
      const cronJob = r("kubernetes:batch/v1:CronJob", "nightly", {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "nightly", namespace: "apps" },
        spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: podSpec } } } },
      });
      const typesOf = (name: string): readonly string[] => {
        const rule = ruleNamed(name);
        return rule.kind === "resource" ? rule.resourceTypes : [];
      };
      passes("k8s-probes-set", [job, cronJob]);
      assert.ok(!typesOf("k8s-probes-set").includes("kubernetes:batch/v1:Job"));
      for (const rule of ["k8s-pod-security-restricted", "k8s-resources-set", "k8s-image-pinned"]) {
        passes(rule, [job, cronJob]);
        assert.ok(typesOf(rule).includes("kubernetes:batch/v1:Job"), `${rule} covers Jobs`);
      }
      const rootJob = { ...job, props: { ...job.props, spec: { template: { spec: { ...podSpec, securityContext: {}, containers: [container({ securityContext: {}, readinessProbe: undefined, livenessProbe: undefined })] } } } } };
      violates("k8s-pod-security-restricted", [rootJob], { type: "kubernetes:batch/v1:Job", name: "ism-policy" }, [/container "app" in namespace "log-retention": runAsNonRoot is not true/]);
    });

    it("k8s-image-pinned: no :latest or untagged images outside test", () => {
      passes("k8s-image-pinned", [deployment("student-blue"), deployment("student-green", { container: { image: `student@sha256:${"a".repeat(64)}` } })]);
      passes("k8s-image-pinned", [deployment("student-blue", { container: { image: "student:latest" } })], "test");
      violates("k8s-image-pinned", [deployment("student-blue", { container: { image: "registry.local:5000/student:latest" } })], { type: DEPLOYMENT, name: "student-blue" }, [
        /uses "registry.local:5000\/student:latest"/,
      ]);
      violates("k8s-image-pinned", [deployment("student-blue", { container: { image: "registry.local:5000/student" } })], { type: DEPLOYMENT, name: "student-blue" }, [/\(no tag means :latest\)/], "staging");
    });

    it("k8s-pdb-for-replicated (stack): replicated workloads (spec or HPA minimum) have a PDB that allows evictions", () => {
      const labels = { "app.kubernetes.io/name": "student", "platform.io/color": "blue" };
      const dep = deployment("student-blue", { replicas: 3, labels });
      passes("k8s-pdb-for-replicated", [dep, pdb("student-blue", labels)]);
      passes("k8s-pdb-for-replicated", [deployment("single", { replicas: 1 })]);
      violates("k8s-pdb-for-replicated", [dep, pdb("other", { "app.kubernetes.io/name": "subject" })], { type: DEPLOYMENT, name: "student-blue" }, [/runs 3 replicas but no PodDisruptionBudget in namespace "apps" selects its pods/]);
      violates("k8s-pdb-for-replicated", [dep, pdb("student-blue", labels, { maxUnavailable: 0 })], { type: DEPLOYMENT, name: "student-blue" }, [/allows no eviction, so node upgrades hang/]);
      const hpa = r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "single-hpa", {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "single", namespace: "apps" },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "single" }, minReplicas: 2, maxReplicas: 4 },
      });
      violates("k8s-pdb-for-replicated", [deployment("single", { replicas: 1 }), hpa], { type: DEPLOYMENT, name: "single" }, [/runs 2 replicas/]);
    });
  });

  describe("platform stack rules", () => {
    const colorLabels = (svc: string, color: string): Record<string, string> => ({ "app.kubernetes.io/name": svc, "platform.io/color": color });
    const activeService = (svc: string, colors: string[]): OfflineResource =>
      r("kubernetes:core/v1:Service", `${svc}-active`, {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: svc, namespace: "apps" },
        spec: { selector: Object.fromEntries([["app.kubernetes.io/name", svc], ...colors.map((c, i) => [i === 0 ? "platform.io/color" : `color${i}`, c])]) },
      });
    const weighted = (svc: string, blue: number, green: number): OfflineResource =>
      albIngress(svc, {
        [`alb.ingress.kubernetes.io/actions.${svc}-live`]: JSON.stringify({
          Type: "forward",
          ForwardConfig: { TargetGroups: [{ ServiceName: `${svc}-blue`, ServicePort: "8080", Weight: blue }, { ServiceName: `${svc}-green`, ServicePort: "8080", Weight: green }] },
        }),
      });
    const component = (svc: string): OfflineResource => ({ type: "platform:apps:BlueGreenService", name: svc, props: {} });

    const colorService = (svc: string, color: string): OfflineResource =>
      r("kubernetes:core/v1:Service", `${svc}-${color}`, { apiVersion: "v1", kind: "Service", metadata: { name: `${svc}-${color}`, namespace: "apps" }, spec: { selector: colorLabels(svc, color) } });

    it("bluegreen-both-colors (stack): both colors' Services, exactly one active color, ALB weights agree, pods behind the active color", () => {
      const complete = [
        component("student"),
        deployment("student-blue", { labels: colorLabels("student", "blue") }),
        deployment("student-green", { labels: colorLabels("student", "green") }),
        colorService("student", "blue"),
        colorService("student", "green"),
        activeService("student", ["blue"]),
        weighted("student", 100, 0),
      ];
      passes("bluegreen-both-colors", complete);
      passes("bluegreen-both-colors", []);
      // The idle color without a Deployment (no image yet, or parked) keeps its Service: allowed.
      passes("bluegreen-both-colors", complete.filter((x) => !(x.type === DEPLOYMENT && x.name === "student-green")));
      violates("bluegreen-both-colors", complete.filter((x) => !(x.type === "kubernetes:core/v1:Service" && x.name === "student-green")), { type: "platform:apps:BlueGreenService", name: "student" }, [
        /service "student" has no student-green Service, so the weighted forward action names a Service that does not exist/,
      ]);
      violates("bluegreen-both-colors", complete.filter((x) => !(x.type === DEPLOYMENT && x.name === "student-blue")), { type: "platform:apps:BlueGreenService", name: "student" }, [
        /service "student"'s active color blue has no student-blue Deployment/,
      ]);
      const others = complete.filter((x) => x.name !== "student-active" && x.name !== "student-ingress");
      violates("bluegreen-both-colors", [...others, activeService("student", ["blue", "green"]), weighted("student", 100, 0)], { type: "kubernetes:core/v1:Service", name: "student-active" }, [
        /student-active selects both blue and green; exactly one color must be active/,
      ]);
      violates("bluegreen-both-colors", [...others, activeService("student", ["blue"]), weighted("student", 0, 100)], { type: INGRESS, name: "student-ingress" }, [
        /the ALB forwards to student-green while student-active selects blue/,
      ]);
    });

    it("prometheus-tsdb-on-efs (stack, advisory by design): reports Prometheus on an EFS storage class", () => {
      const release = (storageClassName: string): OfflineResource =>
        r("kubernetes:helm.sh/v3:Release", "prod-monitoring", {
          chart: "kube-prometheus-stack",
          namespace: "monitoring",
          values: { prometheus: { prometheusSpec: { storageSpec: { volumeClaimTemplate: { spec: { storageClassName } } } } } },
        });
      passes("prometheus-tsdb-on-efs", [release("gp3")]);
      violates("prometheus-tsdb-on-efs", [release("efs-sc")], { type: "kubernetes:helm.sh/v3:Release", name: "prod-monitoring" }, [/Prometheus' TSDB is on the EFS storage class efs-sc/, /gp3/]);
      const sc = r("kubernetes:storage.k8s.io/v1:StorageClass", "shared", { metadata: { name: "shared-files" }, provisioner: "efs.csi.aws.com" });
      violates("prometheus-tsdb-on-efs", [sc, release("shared-files")], { type: "kubernetes:helm.sh/v3:Release", name: "prod-monitoring" }, [/shared-files/]);
      assert.equal(ruleNamed("prometheus-tsdb-on-efs").enforcementLevel, "advisory");
    });
  });

  describe("production invariants", () => {
    const vpc = (natGateways: string, privateSubnets = true): OfflineResource =>
      r("awsx:ec2:Vpc", "prod-vpc", {
        cidrBlock: "10.30.0.0/16",
        subnetSpecs: [{ type: "Public", name: "public" }, ...(privateSubnets ? [{ type: "Private", name: "private" }] : [])],
        natGateways: { strategy: natGateways },
      });

    it("vpc-nat-per-az: private subnets leave through a NAT gateway in their own AZ (prod)", () => {
      passes("vpc-nat-per-az", [vpc("OnePerAz")]);
      passes("vpc-nat-per-az", [vpc("None", false)]);
      passes("vpc-nat-per-az", [vpc("Single")], "staging");
      violates("vpc-nat-per-az", [vpc("Single")], { type: "awsx:ec2:Vpc", name: "prod-vpc" }, [/natGateways.strategy is Single: the private subnets of every AZ leave through one AZ's NAT gateway/, /OnePerAz/]);
    });

    const attributes = (protection: boolean, bucket = "prod-alb-logs-bucket"): Record<string, string> => ({
      ...SECURE_ALB_ANNOTATIONS,
      "alb.ingress.kubernetes.io/load-balancer-attributes": `access_logs.s3.bucket=${bucket},access_logs.s3.enabled=true,deletion_protection.enabled=${String(protection)}`,
    });

    it("alb-deletion-protection (stack): declared ALBs and IngressGroup ALBs refuse deletion (prod)", () => {
      passes("alb-deletion-protection", [loadBalancer({ enableDeletionProtection: true }), albIngress("student", attributes(true)), albIngress("subject", SECURE_ALB_ANNOTATIONS)]);
      violates("alb-deletion-protection", [albIngress("student", attributes(false))], { type: INGRESS, name: "student-ingress" }, [/IngressGroup "prod" has no deletion_protection.enabled=true/]);
      violates("alb-deletion-protection", [loadBalancer()], { type: LB, name: "test-host-alb" }, [/enableDeletionProtection is not true/]);
      passes("alb-deletion-protection", [loadBalancer()], "test");
      // A preview that cannot know the attribute yet does not guess.
      passes("alb-deletion-protection", [albIngress("student", { ...SECURE_ALB_ANNOTATIONS, "alb.ingress.kubernetes.io/load-balancer-attributes": "(unknown during preview)" })]);
    });

    it("stateful-resources-protected: databases, file systems, domains and vaults carry protect (prod)", () => {
      const fs = (protect: boolean | undefined): OfflineResource => ({ ...r("aws:efs/fileSystem:FileSystem", "prod-efs-fs", { encrypted: true }), protect });
      passes("stateful-resources-protected", [{ ...rdsInstance(), protect: true }, fs(true)]);
      violates("stateful-resources-protected", [fs(undefined)], { type: "aws:efs/fileSystem:FileSystem", name: "prod-efs-fs" }, [/not protected \(resource option protect: false\)/, /pulumi state unprotect/]);
      violates("stateful-resources-protected", [{ ...rdsInstance(), protect: false }], { type: RDS, name: "prod-db-instance" }, [/deletes its data/]);
      passes("stateful-resources-protected", [fs(false)], "staging");
    });

    const efsWithBackup = (deleteAfter: number | undefined): OfflineResource[] => {
      const fs = r("aws:efs/fileSystem:FileSystem", "prod-efs-fs", { encrypted: true }, { id: "fs-1", arn: "arn:aws:elasticfilesystem:ap-northeast-2:123456789012:file-system/fs-1" });
      if (deleteAfter === undefined) {
        return [fs];
      }
      const plan = r("aws:backup/plan:Plan", "prod-efs-plan", { rules: [{ ruleName: "daily", lifecycle: { deleteAfter } }] }, { id: "plan-1", arn: "arn:aws:backup:::plan/1" });
      const selection = r("aws:backup/selection:Selection", "prod-efs-selection", { planId: "plan-1", resources: ["arn:aws:elasticfilesystem:ap-northeast-2:123456789012:file-system/fs-1"] });
      return [fs, plan, selection];
    };

    it("efs-backup-required (stack): a backup selection with a week or more of retention covers every file system (prod)", () => {
      passes("efs-backup-required", efsWithBackup(35));
      violates("efs-backup-required", efsWithBackup(undefined), { type: "aws:efs/fileSystem:FileSystem", name: "prod-efs-fs" }, [/no AWS Backup selection or automatic backup policy covers the file system/]);
      violates("efs-backup-required", efsWithBackup(3), { type: "aws:efs/fileSystem:FileSystem", name: "prod-efs-fs" }, [/its backups are kept 3 day\(s\), fewer than 7/]);
      const automatic = r("aws:efs/backupPolicy:BackupPolicy", "prod-efs-backup-policy", { fileSystemId: "fs-1", backupPolicy: { status: "ENABLED" } });
      passes("efs-backup-required", [...efsWithBackup(undefined), automatic]);
    });

    it("s3-no-force-destroy: no prod bucket empties itself on deletion", () => {
      passes("s3-no-force-destroy", [r("aws:s3/bucket:Bucket", "prod-images", { forceDestroy: false })]);
      violates("s3-no-force-destroy", [r("aws:s3/bucket:Bucket", "prod-images", { forceDestroy: true })], { type: "aws:s3/bucket:Bucket", name: "prod-images" }, [/forceDestroy is true/]);
      passes("s3-no-force-destroy", [r("aws:s3/bucket:Bucket", "test-images", { forceDestroy: true })], "test");
    });

    it("log-retention-minimum (stack): CloudWatch logs, ALB access logs and ISM index deletion meet prod's minimums", () => {
      const group = (days: number): OfflineResource => r("aws:cloudwatch/logGroup:LogGroup", "prod-flow-logs", { retentionInDays: days });
      const logBucket = r("aws:s3/bucket:Bucket", "prod-alb-logs", {}, { id: "prod-alb-logs-bucket", bucket: "prod-alb-logs-bucket", arn: "arn:aws:s3:::prod-alb-logs-bucket" });
      const lifecycle = (days: number): OfflineResource =>
        r("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "prod-alb-logs", { bucket: "prod-alb-logs-bucket", rules: [{ id: "expire-access-logs", status: "Enabled", expiration: { days } }] });
      const ism = (days: number): OfflineResource =>
        r("kubernetes:batch/v1:Job", "prod-log-retention-job", {
          metadata: { name: "ism", namespace: "log-retention" },
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: "apply",
                    env: [{ name: "POLICY", value: JSON.stringify({ policy: { states: [{ name: "hot", actions: [], transitions: [{ state_name: "delete", conditions: { min_index_age: `${days}d` } }] }, { name: "delete", actions: [{ delete: {} }], transitions: [] }] } }) }],
                  },
                ],
              },
            },
          },
        });
      const ingress = albIngress("student", attributes(true));
      passes("log-retention-minimum", [group(90), group(0), logBucket, lifecycle(365), ingress, ism(30)]);
      violates("log-retention-minimum", [group(30)], { type: "aws:cloudwatch/logGroup:LogGroup", name: "prod-flow-logs" }, [/retentionInDays is 30, fewer than 90 days/]);
      violates("log-retention-minimum", [logBucket, lifecycle(7), ingress], { type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", name: "prod-alb-logs" }, [
        /rule "expire-access-logs" expires the ALB access logs after 7 day\(s\), fewer than 90/,
      ]);
      violates("log-retention-minimum", [ism(3)], { type: "kubernetes:batch/v1:Job", name: "prod-log-retention-job" }, [/deletes log indices after 3 day\(s\), fewer than 30/]);
      // Lifecycle rules of buckets that do not hold access logs are not log retention.
      passes("log-retention-minimum", [logBucket, lifecycle(7)]);
      passes("log-retention-minimum", [group(30)], "prod", { minimumDays: 30 });
    });

    it("waf-rate-limit-bounded: a blocking per-IP rate rule at or below the bound (prod)", () => {
      const acl = (limit: number, action: Props = { block: {} }): OfflineResource =>
        webAcl([...REQUIRED_GROUPS, { name: "rate-limit-per-ip", priority: 40, action, statement: { rateBasedStatement: { limit, aggregateKeyType: "IP" } }, visibilityConfig: {} }]);
      passes("waf-rate-limit-bounded", [acl(2000)]);
      violates("waf-rate-limit-bounded", [acl(2_000_000_000)], { type: WEB_ACL, name: "prod-waf" }, [/allows 2000000000 requests per 5 minutes per IP, above the bound of 50000/]);
      violates("waf-rate-limit-bounded", [acl(2000, { count: {} })], { type: WEB_ACL, name: "prod-waf" }, [/only count, never block/]);
      violates("waf-rate-limit-bounded", [webAcl(REQUIRED_GROUPS)], { type: WEB_ACL, name: "prod-waf" }, [/has no rate-based rule/]);
      passes("waf-rate-limit-bounded", [acl(200_000)], "prod", { maxRateLimitPer5Min: 250_000 });
    });

    const hpa = (target: string, minReplicas: number): OfflineResource =>
      r(HPA_TYPE, `${target}-hpa`, { metadata: { name: target, namespace: "apps" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target }, minReplicas, maxReplicas: 4 } });

    it("k8s-min-replicas (stack): service Deployments keep two pods; a parked color runs none (prod)", () => {
      passes("k8s-min-replicas", [deployment("student-blue", { replicas: 2 }), deployment("student-green", { replicas: 0 })]);
      passes("k8s-min-replicas", [deployment("student-blue", { replicas: 1 }), hpa("student-blue", 2)]);
      violates("k8s-min-replicas", [deployment("student-blue", { replicas: 1 })], { type: DEPLOYMENT, name: "student-blue" }, [/runs 1 replica\(s\) at minimum/]);
      // The HPA, not spec.replicas, decides how few pods run.
      violates("k8s-min-replicas", [deployment("student-blue", { replicas: 3 }), hpa("student-blue", 1)], { type: DEPLOYMENT, name: "student-blue" }, [/runs 1 replica/]);
      passes("k8s-min-replicas", [deployment("tool", { replicas: 1, namespace: "monitoring" })]);
      passes("k8s-min-replicas", [deployment("student-blue", { replicas: 1 })], "staging");
    });

    it("observability-required (stack): a prod cluster runs Prometheus, a log agent and a log store", () => {
      const cluster = eksComponent();
      const prom = r("kubernetes:helm.sh/v3:Release", "prod-monitoring-release", { chart: "kube-prometheus-stack", namespace: "monitoring" });
      const fluentd = deployment("fluentd", { namespace: "logging", container: { image: "fluent/fluentd-kubernetes-daemonset:v1.19-debian-opensearch-1" } });
      const daemonSet = { ...fluentd, type: "kubernetes:apps/v1:DaemonSet", name: "prod-fluentd-daemonset" };
      const domain = r("aws:opensearch/domain:Domain", "prod-logs-domain", {});
      passes("observability-required", [cluster, prom, daemonSet, domain]);
      passes("observability-required", [prom]);
      violates("observability-required", [cluster, daemonSet, domain], { type: EKS_COMPONENT, name: "prod-eks" }, [/the cluster has no Prometheus/]);
      violates("observability-required", [cluster, prom], { type: EKS_COMPONENT, name: "prod-eks" }, [/ships no container logs \(no Fluentd\/Fluent Bit DaemonSet, no OpenSearch domain\)/]);
    });

    it("k8s-image-registry: services pull from the platform's ECR; nothing pulls from Docker Hub (prod)", () => {
      passes("k8s-image-registry", [deployment("student-blue"), deployment("proxy", { namespace: "log-dashboards", container: { image: "public.ecr.aws/aws-observability/aws-sigv4-proxy:1.11" } })]);
      violates("k8s-image-registry", [deployment("student-blue", { container: { image: "nginx:1.27" } })], { type: DEPLOYMENT, name: "student-blue" }, [/pulls "nginx:1.27" from Docker Hub/, /platform's ECR repository/]);
      violates("k8s-image-registry", [deployment("student-blue", { container: { image: "ghcr.io/someone/student:1.4.0" } })], { type: DEPLOYMENT, name: "student-blue" }, [/from ghcr.io, not from the platform's ECR registry/]);
      violates("k8s-image-registry", [deployment("fluentd", { namespace: "logging", container: { image: "docker.io/fluent/fluentd-kubernetes-daemonset:v1" } })], { type: DEPLOYMENT, name: "fluentd" }, [
        /from Docker Hub/,
        /pull-through cache/,
      ]);
      passes("k8s-image-registry", [deployment("student-blue", { container: { image: "nginx:1.27" } })], "staging");
    });

    it("k8s-image-registry: with its registries setting, another account's ECR is refused too (prod)", () => {
      const own = { registries: ["123456789012.dkr.ecr.ap-northeast-2.amazonaws.com"] };
      const image = (registry: string) => ({ container: { image: `${registry}/student@sha256:${"a".repeat(64)}` } });
      passes("k8s-image-registry", [deployment("student-blue", image("123456789012.dkr.ecr.ap-northeast-2.amazonaws.com"))], "prod", own);
      violates("k8s-image-registry", [deployment("student-blue", image("999999999999.dkr.ecr.us-east-1.amazonaws.com"))], { type: DEPLOYMENT, name: "student-blue" }, [
        /from 999999999999\.dkr\.ecr\.us-east-1\.amazonaws\.com, another ECR registry than the platform's \(123456789012\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com\)/,
      ], "prod", own);
      // Without the setting any private ECR registry is accepted (the stack's policy config names its own).
      passes("k8s-image-registry", [deployment("student-blue", image("999999999999.dkr.ecr.us-east-1.amazonaws.com"))]);
    });

    it("argocd-application-scope: own namespace, restricted Pod Security, no privilege, this cluster", () => {
      const app = (spec: Props): OfflineResource =>
        r("kubernetes:argoproj.io/v1alpha1:Application", "prod-argocd-app-batch", {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Application",
          metadata: { name: "batch", namespace: "argocd" },
          spec: {
            project: "default",
            source: { repoURL: "https://github.com/org/charts", path: "batch", targetRevision: "main" },
            destination: { server: "https://kubernetes.default.svc", namespace: "batch" },
            syncPolicy: { syncOptions: ["CreateNamespace=true"], managedNamespaceMetadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
            ...spec,
          },
        });
      passes("argocd-application-scope", [app({})]);
      violates("argocd-application-scope", [app({ destination: { server: "https://kubernetes.default.svc", namespace: "kube-system" } })], { type: "kubernetes:argoproj.io/v1alpha1:Application", name: "prod-argocd-app-batch" }, [
        /deploys into namespace "kube-system", which belongs to Kubernetes or to the platform/,
      ]);
      violates("argocd-application-scope", [app({ destination: { server: "https://kubernetes.default.svc", namespace: "monitoring" } })], undefined, [/namespace "monitoring"/]);
      violates("argocd-application-scope", [app({ syncPolicy: { syncOptions: ["CreateNamespace=true"] } })], undefined, [/not labelled pod-security.kubernetes.io\/enforce: restricted \(no label: the cluster default, privileged\)/]);
      violates("argocd-application-scope", [app({ source: { repoURL: "https://x", chart: "c", targetRevision: "1", helm: { valuesObject: { securityContext: { privileged: true }, hostNetwork: true } } } })], undefined, [
        /its Helm values ask for privilege \(helm.valuesObject.securityContext.privileged and helm.valuesObject.hostNetwork\)/,
      ]);
      violates("argocd-application-scope", [app({ destination: { server: "https://other.example.com", namespace: "batch" } })], undefined, [/another cluster than its own/]);
      // What restricted Pod Security refuses besides: added capabilities other than NET_BIND_SERVICE, hostPath
      // volumes; and "true" as a string, which a chart's template renders as the YAML boolean.
      const helm = (valuesObject: Props): Props => ({ source: { repoURL: "https://x", chart: "c", targetRevision: "1", helm: { valuesObject } } });
      passes("argocd-application-scope", [app(helm({ securityContext: { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] }, privileged: false }, volumes: [{ name: "tmp", emptyDir: {} }] }))]);
      violates("argocd-application-scope", [app(helm({ securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }))], undefined, [/ask for privilege \(helm.valuesObject.securityContext.capabilities.add\)/]);
      violates("argocd-application-scope", [app(helm({ securityContext: { privileged: "true" } }))], undefined, [/ask for privilege \(helm.valuesObject.securityContext.privileged\)/]);
      violates("argocd-application-scope", [app(helm({ volumes: [{ name: "root", hostPath: { path: "/" } }] }))], undefined, [/ask for privilege \(helm.valuesObject.volumes\[0\].hostPath\)/]);
    });
  });

  describe("tags", () => {
    it("REQUIRED_TAGS mirrors infra/providers.ts", () => {
      assert.deepEqual([...REQUIRED_TAGS], [...REQUIRED_TAG_KEYS]);
    });

    it("aws-required-tags: provider defaultTags count; ASGs and launched instances need their own", () => {
      const logGroup: OfflineResource = { type: "aws:cloudwatch/logGroup:LogGroup", name: "prod-flow-logs", props: { retentionInDays: 90 }, provider: PROVIDER_REF };
      passes("aws-required-tags", [awsProviderResource(), logGroup]);
      passes("aws-required-tags", [{ ...logGroup, provider: undefined, props: { retentionInDays: 90, tags: TAGS } }]);
      violates("aws-required-tags", [awsProviderResource({ Project: "platform" }), logGroup], { type: logGroup.type, name: "prod-flow-logs" }, [
        /misses Environment, Stack and ManagedBy \(its provider platform-aws has default tags Project\)/,
      ]);
      violates("aws-required-tags", [{ ...logGroup, provider: undefined }], { type: logGroup.type, name: "prod-flow-logs" }, [/managed by no known provider/]);
      const asg = (tags: Props[]): OfflineResource => ({ type: "aws:autoscaling/group:Group", name: "prod-bastion-asg", props: { minSize: 1, maxSize: 2, tags }, provider: PROVIDER_REF });
      passes("aws-required-tags", [awsProviderResource(), asg(Object.entries(TAGS).map(([key, value]) => ({ key, value, propagateAtLaunch: false })))]);
      violates("aws-required-tags", [awsProviderResource(), asg([{ key: "Name", value: "bastion" }])], { type: "aws:autoscaling/group:Group", name: "prod-bastion-asg" }, [
        /provider default tags do not apply to Auto Scaling groups/,
      ]);
      const lt = { ...launchTemplate({ tagSpecifications: [{ resourceType: "instance", tags: { Name: "node" } }] }), provider: PROVIDER_REF };
      violates("aws-required-tags", [awsProviderResource(), lt], { type: LAUNCH_TEMPLATE, name: "prod-bastion-lt" }, [
        /instances launched from it miss Project, Environment, Stack and ManagedBy \(its "instance" tagSpecification\)/,
        /volumes launched from it miss .* \(no tagSpecifications for "volume"\)/,
      ]);
    });

    it("aws-provider-default-tags (stack): every AWS provider carries the keys and the stack's environment", () => {
      passes("aws-provider-default-tags", [awsProviderResource()]);
      violates("aws-provider-default-tags", [awsProviderResource({}, "default_7_48_0")], { type: "pulumi:providers:aws", name: "default_7_48_0" }, [/the engine's default provider/]);
      violates("aws-provider-default-tags", [awsProviderResource({ ...TAGS, Environment: "staging" })], { type: "pulumi:providers:aws", name: "platform-aws" }, [/defaultTags.Environment is "staging" in the prod stack/]);
    });

    it("TAGGABLE_TYPES are taggable in the installed @pulumi/aws, and include every taggable type a shipped stack declares", async () => {
      const awsRoot = path.join(REPO_ROOT, "node_modules", "@pulumi", "aws");
      const hasTags = (token: string): boolean => {
        const [, modulePath, cls] = token.split(":");
        const [mod, file] = modulePath.split("/");
        const source = fs.readFileSync(path.join(awsRoot, mod, `${file}.d.ts`), "utf8");
        const args = new RegExp(`export interface ${cls}Args \\{([\\s\\S]*?)\\n\\}`).exec(source);
        return args !== null && /\n {4}tags\?:/.test(args[1]);
      };
      for (const token of TAGGABLE_TYPES) {
        assert.ok(hasTags(token), `${token} is listed as taggable but its Args have no tags`);
      }
      const declared = new Set<string>();
      for (const stack of STACKS) {
        for (const res of (await shippedStack(stack)).resources) {
          if (res.type.startsWith("aws:")) {
            declared.add(res.type);
          }
        }
      }
      const missing = [...declared].filter((t) => hasTags(t) && !TAGGABLE_TYPES.includes(t));
      assert.deepEqual(missing, [], "add these taggable types to TAGGABLE_TYPES in infra/policy/rules/tags.ts");
    });
  });

});

describe("policy pack rule coverage", () => {
  it("every rule has a passing and a violating case above", () => {
    const names = RULES.map((rule) => rule.name);
    assert.deepEqual(
      names.filter((n) => !exercised.passed.has(n)),
      [],
      "rules without a passing case",
    );
    assert.deepEqual(
      names.filter((n) => !exercised.violated.has(n)),
      [],
      "rules without a violating case",
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("policy pack configuration", () => {
  it("each stack's config file is valid for the pack (rule names, settings schemas)", () => {
    for (const env of ENVIRONMENTS) {
      assert.doesNotThrow(() => validatePolicyConfig(loadPolicyConfig(env)), env);
    }
    assert.throws(() => validatePolicyConfig({ "rds-not-public": "mandatory" }), /"rds-not-public" is not a rule of the pack/);
    assert.throws(() => validatePolicyConfig({ "ec2-no-public-ip": { exceptions: [{ resource: "x", reason: "short" }] } }), /exceptions\[0\]\.reason must be at least 20 characters/);
    assert.throws(() => validatePolicyConfig({ all: "blocking" as "mandatory" }), /"blocking" is not an enforcement level/);
  });

  it("test is advisory; staging and prod are mandatory except the Prometheus-on-EFS advisory", () => {
    for (const rule of RULES) {
      assert.equal(enforcementLevel(rule, loadPolicyConfig("test")), "advisory", `${rule.name} in test`);
      for (const env of ["staging", "prod"] as const) {
        assert.equal(enforcementLevel(rule, loadPolicyConfig(env)), rule.name === "prometheus-tsdb-on-efs" ? "advisory" : "mandatory", `${rule.name} in ${env}`);
      }
    }
  });

  it("the same finding is advisory in test and mandatory in staging and prod", () => {
    const unencrypted = [without(rdsInstance(), "storageEncrypted")];
    const levels = ENVIRONMENTS.map((env) => runPolicies(unencrypted, env).filter((v) => v.policy === "rds-storage-encrypted").map((v) => v.enforcementLevel));
    assert.deepEqual(levels, [["advisory"], ["mandatory"], ["mandatory"]]);
  });

  it("environment-scoped rules only apply where the control is required", () => {
    const singleAz = [rdsInstance({ multiAz: false })];
    assert.deepEqual(
      ENVIRONMENTS.map((env) => runPolicies(singleAz, env).filter((v) => v.policy === "rds-multi-az").length),
      [0, 0, 1],
    );
  });

  it("documented exceptions: the test host's public IP and IMDS hop limit 2 pass in test (and are listed), not in prod", () => {
    const testHost = instance({ associatePublicIpAddress: true, metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } });
    const host = { ...testHost, name: "test-host-instance" };
    const inTest = evaluatePolicies([host], "test");
    assert.deepEqual(
      inTest.violations.filter((v) => v.policy.startsWith("ec2-")).map((v) => v.message),
      [],
    );
    assert.deepEqual(inTest.exempted.map((e) => e.policy).sort(), ["ec2-imds-hop-limit", "ec2-no-public-ip"]);
    assert.ok(inTest.exempted.every((e) => e.exception.reason.length >= 20));
    const inProd = runPolicies([host], "prod").filter((v) => v.policy.startsWith("ec2-"));
    assert.deepEqual(inProd.map((v) => v.policy).sort(), ["ec2-imds-hop-limit", "ec2-no-public-ip"]);
    // The exception names the instance exactly: another instance in test is not exempt.
    const other = runPolicies([{ ...host, name: "test-other-instance" }], "test").filter((v) => v.policy === "ec2-no-public-ip");
    assert.equal(other.length, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// The real CrossGuard policies: the same rules behind the SDK's callbacks.

interface Reported {
  message: string;
  urn?: string;
}

function collect(): { reports: Reported[]; reportViolation: ReportViolation } {
  const reports: Reported[] = [];
  return { reports, reportViolation: (message: string, urn?: string) => reports.push({ message, urn }) };
}

function resourceArgs(type: string, name: string, props: Props, stack: string, config: Props = {}, provider?: OfflineResource): ResourceValidationArgs {
  const args = {
    type,
    name,
    props,
    urn: `urn:pulumi:${stack}::platform::${type}::${name}`,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    provider: provider === undefined ? undefined : { type: provider.type, name: provider.name, props: provider.props, urn: `urn:pulumi:${stack}::platform::${provider.type}::${provider.name}` },
    stackTags: new Map<string, string>(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (): never => {
      throw new Error("not applicable");
    },
  };
  return args;
}

describe("policy pack (CrossGuard adapters)", () => {
  const policies = buildPolicies();
  const resourcePolicyNamed = (name: string): ResourceValidationPolicy => {
    const p = policies.find((x) => x.name === name);
    assert.ok(p !== undefined && "validateResource" in p, name);
    return p as ResourceValidationPolicy;
  };
  const stackPolicyNamed = (name: string): StackValidationPolicy => {
    const p = policies.find((x) => x.name === name);
    assert.ok(p !== undefined && "validateStack" in p, name);
    return p as StackValidationPolicy;
  };

  it("builds one policy per rule, with the description, scanner ids, docs link and a config schema for exceptions", () => {
    assert.deepEqual(
      policies.map((p) => p.name),
      RULES.map((rule) => rule.name),
    );
    const rds = resourcePolicyNamed("rds-not-publicly-accessible");
    assert.equal(rds.description, "RDS instances are never publicly accessible. [CKV_AWS_17]");
    assert.equal(rds.url, ruleNamed("rds-not-publicly-accessible").docs);
    assert.equal(rds.enforcementLevel, "mandatory");
    assert.ok(rds.configSchema?.properties["exceptions"] !== undefined);
    assert.equal(stackPolicyNamed("prometheus-tsdb-on-efs").enforcementLevel, "advisory");
  });

  it("a resource policy reports through reportViolation, takes the environment from the URN and exceptions from its config", async () => {
    const policy = resourcePolicyNamed("rds-multi-az");
    const validate = policy.validateResource;
    assert.ok(typeof validate === "function");
    const singleAz = rdsInstance({ multiAz: false }).props;
    const prod = collect();
    await validate(resourceArgs(RDS, "prod-db-instance", singleAz, "prod"), prod.reportViolation);
    assert.equal(prod.reports.length, 1);
    assert.match(prod.reports[0].message, /^aws:rds\/instance:Instance "prod-db-instance": multiAz is not true/);
    const test = collect();
    await validate(resourceArgs(RDS, "test-db-instance", singleAz, "test"), test.reportViolation);
    assert.deepEqual(test.reports, []);
    const other = collect();
    await validate(resourceArgs("aws:s3/bucket:Bucket", "b", {}, "prod"), other.reportViolation);
    assert.deepEqual(other.reports, []);

    const publicIp = resourcePolicyNamed("ec2-no-public-ip").validateResource;
    assert.ok(typeof publicIp === "function");
    const exempt = collect();
    const exceptions = { exceptions: [{ resource: "aws:ec2/instance:Instance::test-host-instance", reason: "no NAT in test; the host needs egress" }] };
    await publicIp(resourceArgs(INSTANCE, "test-host-instance", instance({ associatePublicIpAddress: true }).props, "test", exceptions), exempt.reportViolation);
    assert.deepEqual(exempt.reports, []);
  });

  it("the tags policy reads the provider's defaultTags from the SDK's provider argument", async () => {
    const validate = resourcePolicyNamed("aws-required-tags").validateResource;
    assert.ok(typeof validate === "function");
    const ok = collect();
    await validate(resourceArgs("aws:kms/key:Key", "k", { enableKeyRotation: true }, "prod", {}, awsProviderResource()), ok.reportViolation);
    assert.deepEqual(ok.reports, []);
    const bad = collect();
    await validate(resourceArgs("aws:kms/key:Key", "k", { enableKeyRotation: true }, "prod", {}, awsProviderResource({ Project: "platform" })), bad.reportViolation);
    assert.match(bad.reports[0]?.message ?? "", /misses Environment, Stack and ManagedBy/);
  });

  it("a stack policy follows references through property dependencies while ids are unknown (preview)", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const proxy = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(value: T): T; unknownStringValue: string };
    const bucketUrn = "urn:pulumi:prod::platform::platform:storage:ImageBucket$aws:s3/bucket:Bucket::prod-images";
    const sdkResource = (type: string, name: string, props: Props, deps: Record<string, string[]> = {}, urn = `urn:pulumi:prod::platform::${type}::${name}`) => ({
      type,
      name,
      urn,
      props: proxy.unknownCheckingProxy(props),
      opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
      dependencies: [],
      propertyDependencies: Object.fromEntries(Object.entries(deps).map(([k, urns]) => [k, urns.map((u) => ({ urn: u }))])),
      isType: () => false,
      asType: () => undefined,
    });
    const unknownId = proxy.unknownStringValue;
    const bucket = sdkResource("aws:s3/bucket:Bucket", "prod-images", { id: unknownId, bucket: unknownId, arn: unknownId }, {}, bucketUrn);
    const block = sdkResource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "prod-images", { bucket: unknownId, blockPublicAcls: true }, { bucket: [bucketUrn] });
    const args = (resources: unknown[]): StackValidationArgs =>
      ({ resources, stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable: () => undefined }) as unknown as StackValidationArgs;

    const policy = stackPolicyNamed("s3-bucket-public-access-block");
    const found = collect();
    await policy.validateStack(args([bucket, block]), found.reportViolation);
    assert.deepEqual(found.reports, []);

    const missing = collect();
    await policy.validateStack(args([bucket]), missing.reportViolation);
    assert.equal(missing.reports.length, 1);
    assert.equal(missing.reports[0].urn, bucketUrn, "stack violations point at the offending resource");
    assert.match(missing.reports[0].message, /^aws:s3\/bucket:Bucket "prod-images": no aws.s3.BucketPublicAccessBlock points at this bucket/);
  });
});
