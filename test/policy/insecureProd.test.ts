/**
 * Insecure prod configs, one mutation of Pulumi.prod.yaml at a time, each run through `plan` as an
 * operator would: every one must be stopped (a ConfigError naming the key and the policy rule,
 * exit 1, or a mandatory violation of the rule, exit 2), never exit 0. Then the second layer: with
 * the config's own checks lifted (as documented exceptions would lift them), the policy pack stops
 * the same settings by itself, evaluated in a few batches to keep the unit tier fast.
 */
import { strict as assert } from "assert";
import { ExitCode } from "../../automation/exitCodes";
import { plan } from "../../automation/plan";
import { PlanReport } from "../../automation/plan/report";
import { runPolicies } from "../../infra/policy/offline";
import { evaluateLifted, Json, StackConfig } from "../stack";
import { describeViolations, policyInput } from "./harness";

type Obj = { [key: string]: Json };

const section = (c: StackConfig, key: string): Obj => ((c[`platform:${key}`] ??= {}) as Obj);
const nested = (o: Obj, key: string): Obj => ((o[key] ??= {}) as Obj);
const service = (c: StackConfig, i: number): Obj => (c["platform:services"] as Obj[])[i] as Obj;
const nodeGroup = (c: StackConfig): Obj => (section(c, "cluster")["nodeGroups"] as Obj[])[0] as Obj;
const ECR = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com";
const app = (namespace: string, helmValues?: Obj): Obj => ({
  name: "batch",
  repoURL: "https://github.com/org/charts",
  path: "batch",
  targetRevision: "main",
  namespace,
  ...(helmValues !== undefined ? { helmValues } : {}),
});

interface Case {
  readonly name: string;
  readonly mutate: (c: StackConfig) => void;
  /** What must appear in the refusal: the policy rule, or the config key for checks that are not a rule's. */
  readonly expect: string;
}

/** The classes: production invariants, world-open allow-lists, the environment, and undeployable shapes. */
const CASES: Case[] = [
  { name: "one NAT gateway for both AZs", mutate: (c) => (section(c, "network")["natGateways"] = "single"), expect: "vpc-nat-per-az" },
  { name: "ALB deletion protection off", mutate: (c) => (section(c, "edge")["deletionProtection"] = false), expect: "alb-deletion-protection" },
  { name: "database deletion protection off", mutate: (c) => (section(c, "database")["deletionProtection"] = false), expect: "rds-deletion-protection" },
  { name: "single-AZ database", mutate: (c) => (section(c, "database")["multiAz"] = false), expect: "rds-multi-az" },
  { name: "3 days of database backups", mutate: (c) => (section(c, "database")["backupRetentionDays"] = 3), expect: "rds-backup-retention" },
  { name: "database backups off", mutate: (c) => (section(c, "database")["backupRetentionDays"] = 0), expect: "rds-backup-retention" },
  { name: "EFS backups off", mutate: (c) => (nested(section(c, "observability"), "efs")["backup"] = false), expect: "efs-backup-required" },
  { name: "EFS backups kept one day", mutate: (c) => (nested(section(c, "observability"), "efs")["backupRetentionDays"] = 1), expect: "efs-backup-required" },
  { name: "images bucket forceDestroy", mutate: (c) => (section(c, "imagesBucket")["forceDestroy"] = true), expect: "s3-no-force-destroy" },
  { name: "images bucket unversioned", mutate: (c) => (section(c, "imagesBucket")["versioning"] = false), expect: "s3-bucket-versioning" },
  { name: "one day of CloudWatch logs", mutate: (c) => (c["platform:logRetentionDays"] = 1), expect: "log-retention-minimum" },
  { name: "one day of ALB access logs", mutate: (c) => (section(c, "edge")["accessLogExpirationDays"] = 1), expect: "log-retention-minimum" },
  { name: "one day of application logs", mutate: (c) => (nested(section(c, "observability"), "logging")["retentionDays"] = 1), expect: "log-retention-minimum" },
  { name: "a WAF rate limit that limits nothing", mutate: (c) => (section(c, "waf")["rateLimitPer5Min"] = 2_000_000_000), expect: "waf-rate-limit-bounded" },
  { name: "WAF off", mutate: (c) => (section(c, "waf")["enabled"] = false), expect: "waf-alb-association" },
  { name: "one replica", mutate: (c) => (service(c, 0)["replicas"] = 1), expect: "k8s-min-replicas" },
  { name: "an HPA minimum of one", mutate: (c) => (service(c, 1)["autoscaling"] = { minReplicas: 1, maxReplicas: 4, targetCpuUtilization: 70 }), expect: "k8s-min-replicas" },
  { name: "monitoring off", mutate: (c) => (nested(section(c, "observability"), "monitoring")["enabled"] = false), expect: "observability-required" },
  { name: "logging off", mutate: (c) => (nested(section(c, "observability"), "logging")["enabled"] = false), expect: "observability-required" },
  { name: "a Docker Hub image", mutate: (c) => (service(c, 0)["blue"] = { image: "nginx:1.27" }), expect: "k8s-image-registry" },
  { name: "a docker.io image", mutate: (c) => (service(c, 1)["green"] = { image: "docker.io/library/nginx:1.27" }), expect: "k8s-image-registry" },
  { name: "an image of another registry", mutate: (c) => (service(c, 0)["blue"] = { image: "ghcr.io/someone/student:1.4.0" }), expect: "k8s-image-registry" },
  { name: "an image of another account's ECR", mutate: (c) => (service(c, 0)["blue"] = { image: "999999999999.dkr.ecr.us-east-1.amazonaws.com/student:1.4.0" }), expect: "k8s-image-registry" },
  { name: "a :latest image", mutate: (c) => (service(c, 0)["blue"] = { image: `${ECR}/student:latest` }), expect: "k8s-image-pinned" },
  { name: "an ArgoCD application into kube-system", mutate: (c) => (section(c, "argocd")["applications"] = [app("kube-system")]), expect: "kube-system" },
  { name: "an ArgoCD application into monitoring", mutate: (c) => (section(c, "argocd")["applications"] = [app("monitoring")]), expect: "monitoring" },
  { name: "an ArgoCD application into the services' namespace", mutate: (c) => (section(c, "argocd")["applications"] = [app("apps")]), expect: "apps" },
  { name: "a privileged ArgoCD application", mutate: (c) => (section(c, "argocd")["applications"] = [app("batch", { securityContext: { privileged: true } })]), expect: "asks for privilege" },
  { name: "an ArgoCD application adding SYS_ADMIN", mutate: (c) => (section(c, "argocd")["applications"] = [app("batch", { securityContext: { capabilities: { add: ["SYS_ADMIN"] } } })]), expect: "capabilities.add" },
  { name: "an ArgoCD application privileged as a string", mutate: (c) => (section(c, "argocd")["applications"] = [app("batch", { securityContext: { privileged: "true" } })]), expect: "asks for privilege" },
  { name: "an ArgoCD application mounting the node's disk", mutate: (c) => (section(c, "argocd")["applications"] = [app("batch", { volumes: [{ name: "root", hostPath: { path: "/" } }] })]), expect: "hostPath" },
  { name: "an old Kubernetes version", mutate: (c) => (section(c, "cluster")["version"] = "1.29"), expect: "platform:cluster.version" },
  { name: "an unreleased Kubernetes version", mutate: (c) => (section(c, "cluster")["version"] = "1.40"), expect: "platform:cluster.version" },
  { name: "the EKS endpoint open in two halves", mutate: (c) => (section(c, "cluster")["publicAccessCidrs"] = ["0.0.0.0/1", "128.0.0.0/1"]), expect: "platform:cluster.publicAccessCidrs" },
  { name: "the EKS endpoint open to half the internet", mutate: (c) => (section(c, "cluster")["publicAccessCidrs"] = ["0.0.0.0/1"]), expect: "platform:cluster.publicAccessCidrs" },
  {
    name: "the EKS endpoint open in eight /3 blocks",
    mutate: (c) => (section(c, "cluster")["publicAccessCidrs"] = [0, 32, 64, 96, 128, 160, 192, 224].map((o) => `${o}.0.0.0/3`)),
    expect: "platform:cluster.publicAccessCidrs",
  },
  { name: "the EKS endpoint written 0.0.0.0/00", mutate: (c) => (section(c, "cluster")["publicAccessCidrs"] = ["0.0.0.0/00"]), expect: "platform:cluster.publicAccessCidrs[0]" },
  { name: "Prometheus for everyone", mutate: (c) => (nested(section(c, "observability"), "monitoring")["allowedCidrs"] = ["0.0.0.0/1", "128.0.0.0/1"]), expect: "platform:observability.monitoring.allowedCidrs" },
  { name: "Dashboards for everyone", mutate: (c) => (nested(section(c, "observability"), "logging")["dashboardsCidrs"] = ["0.0.0.0/0"]), expect: "platform:observability.logging.dashboardsCidrs" },
  { name: "ArgoCD for everyone", mutate: (c) => Object.assign(section(c, "argocd"), { exposed: true, allowedCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }), expect: "platform:argocd.allowedCidrs" },
  { name: "a public database", mutate: (c) => (section(c, "database")["publiclyAccessible"] = true), expect: "platform:database.publiclyAccessible" },
  { name: "Pulumi.prod.yaml claiming staging", mutate: (c) => (c["platform:environment"] = "staging"), expect: "platform:environment" },
  { name: "Pulumi.prod.yaml claiming test", mutate: (c) => (c["platform:environment"] = "test"), expect: "platform:environment" },
  { name: "a prod node group with no nodes", mutate: (c) => Object.assign(nodeGroup(c), { minSize: 0, desiredSize: 0 }), expect: "platform:cluster.nodeGroups[0].minSize" },
];

/** How `plan prod` ended for one mutation: exit code and the text that says why. */
async function planOutcome(mutate: (c: StackConfig) => void): Promise<{ exitCode: number; text: string }> {
  try {
    const out = await plan({ stack: "prod", mutate });
    const report = out.json as PlanReport;
    return { exitCode: out.exitCode, text: report.policy.mandatory.map((v) => `${v.policy}: ${v.message}`).join("\n") };
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    return { exitCode: e.exitCode ?? -1, text: e.message };
  }
}

describe("insecure prod configs are stopped by plan (one mutation of Pulumi.prod.yaml each)", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { exitCode, text } = await planOutcome(c.mutate);
      assert.notEqual(exitCode, ExitCode.Ok, `plan accepted it:\n${text}`);
      assert.ok(exitCode === ExitCode.Error || exitCode === ExitCode.PolicyViolation, `exit ${exitCode}: ${text}`);
      assert.ok(text.includes(c.expect), `expected ${JSON.stringify(c.expect)} in:\n${text}`);
      if (exitCode === ExitCode.Error) {
        assert.match(text, /^Invalid config for stack "prod" \(\d+ problems?\):\n {2}- platform:/, "a config error, never a program error");
      }
    });
  }
});

/**
 * The pack alone: the settings config refuses first are evaluated with the config's checks lifted
 * and must each be a mandatory violation of their rule. Batched (each evaluation of prod costs
 * most of a second); the mutations of one batch do not hide each other's resources. ArgoCD
 * applications into system namespaces are also refused by the ArgoCd component itself, so the
 * pack's argocd-application-scope is shown on declared Applications (test/policy/rules.test.ts).
 */
const BATCHES: ReadonlyArray<{ readonly mutations: ReadonlyArray<(c: StackConfig) => void>; readonly rules: readonly string[] }> = [
  {
    mutations: [
      (c) => (section(c, "network")["natGateways"] = "single"),
      (c) => (section(c, "edge")["deletionProtection"] = false),
      (c) => Object.assign(section(c, "database"), { deletionProtection: false, multiAz: false, backupRetentionDays: 3 }),
      (c) => (nested(section(c, "observability"), "efs")["backup"] = false),
      (c) => Object.assign(section(c, "imagesBucket"), { forceDestroy: true, versioning: false }),
      (c) => (c["platform:logRetentionDays"] = 7),
      (c) => (section(c, "edge")["accessLogExpirationDays"] = 7),
      (c) => (nested(section(c, "observability"), "logging")["retentionDays"] = 7),
      (c) => (section(c, "waf")["rateLimitPer5Min"] = 2_000_000_000),
      (c) => (service(c, 0)["replicas"] = 1),
      (c) => (service(c, 1)["blue"] = { image: "nginx:1.27" }),
    ],
    rules: [
      "vpc-nat-per-az",
      "alb-deletion-protection",
      "rds-deletion-protection",
      "rds-multi-az",
      "rds-backup-retention",
      "efs-backup-required",
      "s3-no-force-destroy",
      "s3-bucket-versioning",
      "log-retention-minimum",
      "waf-rate-limit-bounded",
      "k8s-min-replicas",
      "k8s-image-registry",
    ],
  },
  {
    mutations: [
      (c) => (nested(section(c, "observability"), "monitoring")["enabled"] = false),
      (c) => (nested(section(c, "observability"), "logging")["enabled"] = false),
      (c) => (section(c, "waf")["enabled"] = false),
    ],
    rules: ["observability-required", "waf-alb-association"],
  },
];

describe("the policy pack stops the same settings on its own (config checks lifted)", () => {
  BATCHES.forEach((batch, i) => {
    it(`batch ${i + 1}: ${batch.rules.join(", ")}`, async () => {
      const ev = await evaluateLifted("prod", (c) => batch.mutations.forEach((m) => m(c)));
      const mandatory = runPolicies(policyInput(ev), "prod").filter((v) => v.enforcementLevel === "mandatory");
      const fired = new Set(mandatory.map((v) => v.policy));
      const missing = batch.rules.filter((r) => !fired.has(r));
      assert.deepEqual(missing, [], describeViolations(mandatory));
    });
  });
});
