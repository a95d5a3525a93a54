/**
 * The deploy path: staging and prod declare their CI runners (CodeBuild-hosted GitHub Actions
 * runners in their private subnets), each with its own role, access entry and network path, and
 * keep the cluster's endpoint private; config refuses a cluster nothing can reach.
 */
import { strict as assert } from "assert";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import type { ConfigValue } from "../infra/config/defaults";
import {
  ADMIN_POLICIES,
  deployRolePolicy,
  deployServices,
  DRIVER_SERVICES,
  PolicyDocument,
  PolicyStatement,
  previewRolePolicy,
  RunnerPolicyContext,
  runnerProjectName,
  runnerRoleName,
  servicesOfInvoke,
  servicesOfResource,
} from "../infra/lib/runners";
import { DeclaredResource } from "../automation/offline/mocks";
import { evaluateStack, Evaluation, Json, list, obj, ofType, readStackConfig, shippedStack, StackConfig } from "./stack";

type Obj = { [key: string]: Json };

const RUNNER_STACKS = ["staging", "prod"] as const;
const KINDS = ["deploy", "preview"] as const;

function rawPlatform(config: StackConfig): Record<string, ConfigValue> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith("platform:")).map(([k, v]) => [k.slice("platform:".length), v as ConfigValue]));
}

function parse(stack: string, mutate?: (c: StackConfig) => void): ReturnType<typeof parsePlatformConfig> {
  const config = readStackConfig(stack);
  mutate?.(config);
  return parsePlatformConfig(stack, rawPlatform(config), config["aws:region"] as string);
}

const cluster = (c: StackConfig): Obj => c["platform:cluster"] as Obj;
const runners = (c: StackConfig): Obj => ((c["platform:ci"] as Obj)["runners"] ??= {}) as Obj;

/** The one resource of `type` in the runner component `<env>-ci-<kind>`. */
function part(ev: Evaluation, type: string, name: string): DeclaredResource {
  const found = ofType(ev, type).filter((r) => r.name === name);
  assert.equal(found.length, 1, `${type} ${name} in ${ev.stack}: ${ofType(ev, type).map((r) => r.name).join(", ")}`);
  return found[0] as DeclaredResource;
}

function policyOf(ev: Evaluation, env: string, kind: string): PolicyDocument {
  const p = part(ev, "aws:iam/rolePolicy:RolePolicy", `${env}-ci-${kind}-policy`).inputs["policy"];
  return JSON.parse(String(p)) as PolicyDocument;
}

function statement(doc: PolicyDocument, sid: string): PolicyStatement {
  const s = doc.Statement.find((x) => x.Sid === sid);
  assert.ok(s !== undefined, `no statement ${sid}`);
  return s;
}

/** IAM wildcard matching, as IAM does (case-insensitive actions, `*` any run). */
function iamMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
  return re.test(value);
}

describe("CI runners (the deploy path)", () => {
  const evs = new Map<string, Evaluation>();
  before(async function () {
    this.timeout(60_000);
    for (const s of ["test", ...RUNNER_STACKS] as const) {
      evs.set(s, await shippedStack(s));
    }
  });
  const ev = (s: string): Evaluation => evs.get(s) ?? assert.fail(s);

  it("test declares no runner (no cluster: it deploys from GitHub-hosted runners)", () => {
    for (const type of ["aws:codebuild/project:Project", "aws:codebuild/webhook:Webhook", "aws:eks/accessEntry:AccessEntry", "platform:ci:RunnerProject"]) {
      assert.deepEqual(ofType(ev("test"), type), [], type);
    }
    assert.deepEqual(Object.values(obj(ev("test").outputs["ci"])).filter((v) => v !== undefined), []);
  });

  for (const stack of RUNNER_STACKS) {
    describe(stack, () => {
      it("keeps the cluster's API endpoint private", () => {
        const c = ofType(ev(stack), "eks:index:Cluster")[0]?.inputs ?? assert.fail();
        assert.equal(c["endpointPublicAccess"], false);
        assert.equal(c["endpointPrivateAccess"], true);
      });

      for (const kind of KINDS) {
        const name = `${stack}-ci-${kind}`;
        const projectName = runnerProjectName("platform", stack, kind);

        it(`${kind}: a CodeBuild project in the private subnets, behind its own security group, with the repository through the connection`, () => {
          const p = part(ev(stack), "aws:codebuild/project:Project", `${name}-project`).inputs;
          assert.equal(p["name"], projectName);
          assert.deepEqual(obj(p["vpcConfig"]), {
            vpcId: `${stack}-vpc-vpc-id`,
            subnets: [`${stack}-vpc-private-ap-northeast-2a`, `${stack}-vpc-private-ap-northeast-2c`],
            securityGroupIds: [`${name}-sg-id`],
          });
          const source = obj(p["source"]);
          assert.equal(source["type"], "GITHUB");
          assert.equal(source["location"], "https://github.com/octo-org/platform.git");
          assert.deepEqual(obj(source["auth"]), { type: "CODECONNECTIONS", resource: runners(readStackConfig(stack))["connectionArn"] });
          assert.equal(p["serviceRole"], `arn:aws:iam::123456789012:role/${runnerRoleName("platform", stack, kind)}`);
          assert.equal(obj(p["environment"])["privilegedMode"], false);
          assert.equal(obj(obj(p["logsConfig"])["cloudwatchLogs"])["groupName"], `/aws/codebuild/${projectName}`);
        });

        it(`${kind}: one webhook, filtered to queued workflow jobs of its workflow`, () => {
          const hooks = ofType(ev(stack), "aws:codebuild/webhook:Webhook").filter((h) => h.inputs["projectName"] === projectName);
          assert.equal(hooks.length, 1);
          assert.equal(hooks[0]?.inputs["buildType"], "BUILD");
          assert.deepEqual(hooks[0]?.inputs["filterGroups"], [
            {
              filters: [
                { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
                { type: "WORKFLOW_NAME", pattern: kind === "deploy" ? "^deploy$" : "^pull-request$" },
              ],
            },
          ]);
        });

        it(`${kind}: its security group sends HTTPS only and admits nothing; the cluster's admits it on 443`, () => {
          const sg = `${name}-sg-id`;
          const egress = ofType(ev(stack), "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) => r.inputs["securityGroupId"] === sg);
          assert.deepEqual(
            egress.map((r) => [r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]]),
            [["tcp", 443, 443, "0.0.0.0/0"]],
          );
          const ingress = ofType(ev(stack), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
          assert.deepEqual(ingress.filter((r) => r.inputs["securityGroupId"] === sg), [], "nothing comes in");
          const toCluster = ingress.filter((r) => r.inputs["referencedSecurityGroupId"] === sg);
          assert.deepEqual(
            toCluster.map((r) => [r.inputs["securityGroupId"], r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"]]),
            [[`${stack}-eks-cluster-sg`, "tcp", 443, 443]],
          );
        });

        it(`${kind}: its role is trusted by CodeBuild for this project of this account only`, () => {
          const role = part(ev(stack), "aws:iam/role:Role", `${name}-role`).inputs;
          assert.equal(role["name"], runnerRoleName("platform", stack, kind));
          const trust = JSON.parse(String(role["assumeRolePolicy"])) as { Statement: Array<Record<string, unknown>> };
          assert.equal(trust.Statement.length, 1);
          const s = trust.Statement[0] ?? assert.fail();
          assert.deepEqual(s["Principal"], { Service: ["codebuild.amazonaws.com"] });
          assert.deepEqual(s["Condition"], {
            StringEquals: { "aws:SourceAccount": ["123456789012"] },
            ArnLike: { "aws:SourceArn": [`arn:aws:codebuild:ap-northeast-2:123456789012:project/${projectName}`] },
          });
        });

        it(`${kind}: an access entry on the cluster, ${kind === "deploy" ? "cluster-admin" : "view only"}`, () => {
          const entry = part(ev(stack), "aws:eks/accessEntry:AccessEntry", `${name}-access`).inputs;
          const role = `arn:aws:iam::123456789012:role/${runnerRoleName("platform", stack, kind)}`;
          assert.deepEqual(entry, { clusterName: `platform-${stack}`, principalArn: role, type: "STANDARD" });
          const association = part(ev(stack), "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", `${name}-access-policy`).inputs;
          assert.deepEqual(association, {
            clusterName: `platform-${stack}`,
            principalArn: role,
            policyArn: `arn:aws:eks::aws:cluster-access-policy/${kind === "deploy" ? "AmazonEKSClusterAdminPolicy" : "AmazonEKSViewPolicy"}`,
            accessScope: { type: "cluster" },
          });
        });

        it(`${kind}: the role's plumbing is scoped to its log group, the stack's private subnets and the connection`, () => {
          const doc = policyOf(ev(stack), stack, kind);
          assert.deepEqual(statement(doc, "RunnerLogs").Resource, [`arn:aws:cloudwatch:ap-northeast-2:123456789012:loggroup/${name}-logs`, `arn:aws:cloudwatch:ap-northeast-2:123456789012:loggroup/${name}-logs:*`]);
          const eni = statement(doc, "RunnerNetworkInterfacePermission");
          assert.deepEqual(eni.Condition, {
            StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" },
            ArnEquals: { "ec2:Subnet": ["a", "c"].map((z) => `arn:aws:ec2:ap-northeast-2:123456789012:subnet/${stack}-vpc-private-ap-northeast-2${z}`) },
          });
          assert.match(String(statement(doc, "RunnerSourceConnection").Resource), /^arn:aws:codeconnections:ap-northeast-2:\d{12}:connection\//);
        });
      }

      it("deploy role: every action of the stack's services in its regions, fenced off from other stacks and from the runner roles", () => {
        const doc = policyOf(ev(stack), stack, "deploy");
        const cfg = parse(stack);
        const allow = statement(doc, "DeployTheStack");
        assert.deepEqual(allow.Action, deployServices(cfg).map((s) => `${s}:*`));
        assert.deepEqual(allow.Condition, { StringEquals: { "aws:RequestedRegion": ["ap-northeast-2", "us-east-1"] } });
        assert.ok(!(allow.Action ?? []).includes("*"), "never every action");
        assert.deepEqual(statement(doc, "NotOtherStacks").Condition, { StringNotEquals: { "aws:ResourceTag/Stack": stack }, Null: { "aws:ResourceTag/Stack": "false" } });
        assert.deepEqual(statement(doc, "NoResourcesForOtherStacks").Condition, { StringNotEquals: { "aws:RequestTag/Stack": stack }, Null: { "aws:RequestTag/Stack": "false" } });
        const self = statement(doc, "NoChangesToTheRunnerRoles");
        for (const kind of KINDS) {
          const arn = `arn:aws:iam::123456789012:role/${runnerRoleName("platform", stack, kind)}`;
          assert.ok(iamMatch(String(self.Resource), arn), `${arn} is fenced`);
          for (const action of ["iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"]) {
            assert.ok((self.Action ?? []).some((a) => iamMatch(a, action)), action);
          }
        }
        const other = `arn:aws:iam::123456789012:role/${runnerRoleName("platform", stack === "prod" ? "staging" : "prod", "deploy")}`;
        assert.ok(!iamMatch(String(self.Resource), other), "another stack's runner roles are fenced by their tag, not this pattern");
        assert.deepEqual(statement(doc, "NoAdministratorPolicies").Condition, { ArnLike: { "iam:PolicyARN": ADMIN_POLICIES.map((p) => `arn:aws:iam::aws:policy/${p}`) } });
        for (const action of ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"]) {
          assert.ok((statement(doc, "NoIamUsers").Action ?? []).some((a) => iamMatch(a, action)), action);
        }
        assert.deepEqual(statement(doc, "StateBackend").Resource, ["arn:aws:s3:::platform-state-123456789012", "arn:aws:s3:::platform-state-123456789012/*"]);
      });

      it("preview role: reads only (Describe/Get/List), the state only, and no secret values, log events or other objects", () => {
        const doc = policyOf(ev(stack), stack, "preview");
        const read = statement(doc, "ReadTheStack");
        for (const action of read.Action ?? []) {
          assert.match(action, /^[a-z0-9-]+:(Describe|Get|List)\*$/, action);
        }
        const allowed = doc.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action ?? []);
        for (const write of ["ec2:RunInstances", "eks:UpdateClusterConfig", "iam:PutRolePolicy", "s3:PutObject", "rds:ModifyDBInstance", "codebuild:UpdateProject"]) {
          assert.ok(!allowed.some((a) => iamMatch(a, write)), `${write} is not allowed`);
        }
        for (const secret of ["secretsmanager:GetSecretValue", "logs:GetLogEvents"]) {
          assert.ok((statement(doc, "NoSecretValues").Action ?? []).includes(secret), secret);
        }
        assert.deepEqual(statement(doc, "NoOtherObjects").NotResource, ["arn:aws:s3:::platform-state-123456789012/*"]);
        assert.deepEqual(statement(doc, "ReadTheState").Action, ["s3:GetObject", "s3:ListBucket"]);
      });

      // The deploy role's service list is derived from config; this holds it against what the
      // stack declares: complete (every call a deployment makes is allowed) and minimal (no
      // service is allowed that nothing declared, and the driver does not, call).
      it("deploy services: exactly the services the stack's resources and data sources call, plus the driver's", () => {
        const e = ev(stack);
        const used = new Set([...e.resources.flatMap((r) => servicesOfResource(r.type, r.inputs)), ...e.invokes.flatMap((i) => servicesOfInvoke(i.token))]);
        assert.deepEqual([...used].filter((s) => s.startsWith("unmapped:")), [], "every declared AWS type maps to a service");
        const allowed = deployServices(parse(stack));
        assert.deepEqual([...used].filter((s) => !allowed.includes(s)).sort(), [], "declared but not allowed");
        assert.deepEqual(allowed.filter((s) => !used.has(s) && !(s in DRIVER_SERVICES)), [], "allowed but never called");
      });

      it("exports the runner projects and roles", () => {
        assert.deepEqual(ev(stack).outputs["ci"], {
          deployProject: runnerProjectName("platform", stack, "deploy"),
          deployRoleArn: `arn:aws:iam::123456789012:role/${runnerRoleName("platform", stack, "deploy")}`,
          previewProject: runnerProjectName("platform", stack, "preview"),
          previewRoleArn: `arn:aws:iam::123456789012:role/${runnerRoleName("platform", stack, "preview")}`,
        });
      });
    });
  }

  it("a webhook admits only the listed GitHub actors when ci.runners.actorIds is set", async () => {
    const e = await evaluateStack("staging", (c) => void (runners(c)["actorIds"] = ["583231", "9919"]));
    for (const hook of ofType(e, "aws:codebuild/webhook:Webhook")) {
      const filters = list(obj(list(hook.inputs["filterGroups"])[0])["filters"]);
      assert.deepEqual(filters[2], { type: "ACTOR_ACCOUNT_ID", pattern: "^(583231|9919)$" });
    }
  });
});

describe("runner policies (pure)", () => {
  const ctx: RunnerPolicyContext = {
    partition: "aws",
    region: "ap-northeast-2",
    accountId: "381492115072",
    stack: "prod",
    projectName: "platform-prod-deploy",
    services: ["ec2", "eks"],
    connectionArn: "arn:aws:codestar-connections:ap-northeast-2:381492115072:connection/8a7c9e0b-1f2d-4c3b-9a8e-0123456789ab",
    stateBucket: "state",
    logGroupArn: "arn:aws:logs:ap-northeast-2:381492115072:log-group:/aws/codebuild/platform-prod-deploy",
    subnetIds: ["subnet-1"],
    rolePrefix: "platform-prod-ci-",
  };

  it("uses the connection's own service prefix (IAM matches actions to the ARN's prefix)", () => {
    for (const doc of [deployRolePolicy(ctx), previewRolePolicy(ctx)]) {
      assert.deepEqual(statement(doc, "RunnerSourceConnection").Action, [
        "codestar-connections:GetConnection",
        "codestar-connections:GetConnectionToken",
        "codestar-connections:UseConnection",
      ]);
    }
    assert.deepEqual(statement(deployRolePolicy(ctx), "PassTheConnection").Action, ["codestar-connections:PassConnection"]);
  });

  it("asks for us-east-1 only once when the stack lives there", () => {
    assert.deepEqual(statement(deployRolePolicy({ ...ctx, region: "us-east-1" }), "DeployTheStack").Condition, { StringEquals: { "aws:RequestedRegion": ["us-east-1"] } });
  });

  it("maps resource and data-source types to IAM service prefixes", () => {
    const table: ReadonlyArray<readonly [string, readonly string[]]> = [
      ["aws:cloudwatch/logGroup:LogGroup", ["logs"]],
      ["aws:cloudwatch/metricAlarm:MetricAlarm", ["cloudwatch"]],
      ["aws:cloudwatch/eventRule:EventRule", ["events"]],
      ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", ["ec2"]],
      ["aws:lb/listenerRule:ListenerRule", ["elasticloadbalancing"]],
      ["aws:opensearch/domain:Domain", ["es"]],
      ["aws:efs/fileSystem:FileSystem", ["elasticfilesystem"]],
      ["aws:apigatewayv2/api:Api", ["apigateway"]],
      ["eks:index:Cluster", ["ec2", "eks", "iam"]],
      ["awsx:ec2:Vpc", ["ec2"]],
      ["kubernetes:apps/v1:Deployment", []],
      ["random:index/randomPassword:RandomPassword", []],
      ["platform:ci:RunnerProject", []],
      ["aws:quicksight/user:User", ["unmapped:quicksight"]],
    ];
    for (const [type, services] of table) {
      assert.deepEqual(servicesOfResource(type), services, type);
    }
    assert.deepEqual(servicesOfResource("aws:rds/instance:Instance", { manageMasterUserPassword: true }), ["rds", "secretsmanager"]);
    assert.deepEqual(servicesOfResource("aws:rds/instance:Instance", {}), ["rds"]);
    assert.deepEqual(servicesOfInvoke("aws:ecr/getRepository:getRepository"), ["ecr"]);
    assert.deepEqual(servicesOfInvoke("aws:lb/getLoadBalancer:getLoadBalancer"), ["elasticloadbalancing"]);
    assert.deepEqual(servicesOfInvoke("aws:index/getCallerIdentity:getCallerIdentity"), []);
    assert.deepEqual(servicesOfInvoke("aws:iam/getPolicyDocument:getPolicyDocument"), []);
  });
});

describe("config: who reaches the cluster", () => {
  function problems(stack: string, mutate: (c: StackConfig) => void): string[] {
    try {
      parse(stack, mutate);
    } catch (err) {
      if (err instanceof ConfigError) {
        return err.message.split("\n").slice(1);
      }
      throw err;
    }
    return [];
  }

  const cases: ReadonlyArray<readonly [string, string, (c: StackConfig) => void, RegExp]> = [
    [
      "a public endpoint while CI runs in the VPC",
      "prod",
      (c) => void (cluster(c)["publicAccessCidrs"] = ["198.51.100.0/24"]),
      /^ {2}- platform:cluster\.publicAccessCidrs: is not empty while CI runs inside the VPC \(ci\.runners\.enabled\).*\(value: \["198\.51\.100\.0\/24"\]\)\. Fix: leave it empty; for the one-time bootstrap set cluster\.bootstrapAccessCidr/,
    ],
    [
      "a private endpoint and no runners: nothing can reach it",
      "staging",
      (c) => void (runners(c)["enabled"] = false),
      /^ {2}- platform:cluster\.publicAccessCidrs: is empty and ci\.runners\.enabled is false: the API endpoint is private and nothing that deploys this stack is inside the VPC.*Fix: set ci\.runners\.enabled to true/,
    ],
    [
      "a bootstrap range wider than one address",
      "prod",
      (c) => void (cluster(c)["bootstrapAccessCidr"] = "198.51.100.0/24"),
      /^ {2}- platform:cluster\.bootstrapAccessCidr: 198\.51\.100\.0\/24 is a \/24; the bootstrap opens the public endpoint to one operator's address only.*Fix: give your own public address as a \/32/,
    ],
    ["a bootstrap address on a stack without a cluster", "test", (c) => void (c["platform:cluster"] = { bootstrapAccessCidr: "198.51.100.7/32" }), /^ {2}- platform:cluster\.bootstrapAccessCidr: is set but the stack has no cluster/],
    [
      "runners on a stack without a cluster",
      "test",
      (c) => void (c["platform:ci"] = { runners: { enabled: true, repository: "a/b", connectionArn: "arn:aws:codeconnections:ap-northeast-2:381492115072:connection/8a7c9e0b-1f2d-4c3b-9a8e-0123456789ab", stateBucket: "state" } }),
      /^ {2}- platform:ci\.runners\.enabled: is true but the stack has no cluster/,
    ],
    [
      "runners without private subnets behind a NAT",
      "test",
      (c) => void (c["platform:ci"] = { runners: { enabled: true, repository: "a/b", connectionArn: "arn:aws:codeconnections:ap-northeast-2:381492115072:connection/8a7c9e0b-1f2d-4c3b-9a8e-0123456789ab", stateBucket: "state" } }),
      /^ {2}- platform:ci\.runners\.enabled: is true but the stack has no private subnets behind a NAT gateway/,
    ],
    ["runners without a connection", "prod", (c) => void delete runners(c)["connectionArn"], /^ {2}- platform:ci\.runners\.connectionArn: is required while ci\.runners\.enabled is true \(value: unset\)\. Fix: create a GitHub connection/],
    ["runners without a state bucket", "prod", (c) => void delete runners(c)["stateBucket"], /^ {2}- platform:ci\.runners\.stateBucket: is required.*Fix: set it to the bucket of PULUMI_BACKEND_URL/],
    ["runners without a repository", "staging", (c) => void delete runners(c)["repository"], /^ {2}- platform:ci\.runners\.repository: is required/],
    ["a connection ARN that is not one", "prod", (c) => void (runners(c)["connectionArn"] = "arn:aws:iam::381492115072:role/x"), /^ {2}- platform:ci\.runners\.connectionArn: must be a connection ARN/],
    ["a repository that is not owner/name", "prod", (c) => void (runners(c)["repository"] = "https://github.com/a/b"), /^ {2}- platform:ci\.runners\.repository: must be a GitHub repository as owner\/name/],
    ["an actor that is a login, not an id", "prod", (c) => void (runners(c)["actorIds"] = ["octocat"]), /^ {2}- platform:ci\.runners\.actorIds\[0\]: must be a numeric GitHub user id/],
    [
      "more public CIDRs than EKS accepts",
      "prod",
      (c) => {
        runners(c)["enabled"] = false;
        cluster(c)["publicAccessCidrs"] = Array.from({ length: 41 }, (_, i) => `10.${i}.0.0/16`);
      },
      /^ {2}- platform:cluster\.publicAccessCidrs: lists 41 CIDRs; EKS accepts at most 40 public access CIDRs per cluster/,
    ],
  ];
  for (const [name, stack, mutate, expected] of cases) {
    it(`rejects ${name}`, () => {
      const lines = problems(stack, mutate);
      assert.ok(lines.some((l) => expected.test(l)), lines.join("\n") || "accepted");
    });
  }

  it("accepts the bootstrap (one /32 beside the runners), and a stack without runners that lists its CI egress", () => {
    assert.equal(parse("prod", (c) => void (cluster(c)["bootstrapAccessCidr"] = "198.51.100.7/32")).cluster.bootstrapAccessCidr, "198.51.100.7/32");
    const own = parse("prod", (c) => {
      runners(c)["enabled"] = false;
      cluster(c)["publicAccessCidrs"] = ["198.51.100.0/24"];
    });
    assert.deepEqual(own.cluster.publicAccessCidrs, ["198.51.100.0/24"]);
    assert.equal(own.ci.runners.enabled, false);
  });

  it("ships runners in staging and prod, none in test", () => {
    assert.deepEqual(["test", "staging", "prod"].map((s) => parse(s).ci.runners.enabled), [false, true, true]);
  });
});
