/**
 * `plan <stack>`: offline (the driver's dependencies are never built: the context's `deps`
 * throws), for every shipped stack; what it prints and returns as JSON; the Mermaid diagram; an
 * invalid config (exit 1, the key named) and a mandatory policy violation (exit 2, the rule named).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../automation/cli";
import { CommandContext } from "../../automation/cli/registry";
import { renderMermaid } from "../../automation/diagram";
import { ExitCode } from "../../automation/exitCodes";
import { plan } from "../../automation/plan";
import { componentGraph, securityGroupRelations } from "../../automation/plan/graph";
import { PlanReport } from "../../automation/plan/report";
import { describePlaceholder, findPlaceholders } from "../../automation/placeholders";
import { DeclaredResource } from "../../automation/offline/mocks";
import { Json, readStackConfig, REPO_ROOT, STACKS } from "../stack";

type Obj = { [key: string]: Json };

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(argv: string[]): Promise<Run> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const ctx: CommandContext = {
    io: { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {}, isTTY: false },
    signal: new AbortController().signal,
    deps: () => {
      throw new Error("plan must not build the driver's dependencies (Automation API, Pulumi CLI)");
    },
  };
  const code = await main(argv, ctx);
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

function servicesOf(stack: string): Obj[] {
  return readStackConfig(stack)["platform:services"] as Obj[];
}

describe("automation: plan (offline)", () => {
  for (const stack of STACKS) {
    it(`plan ${stack}: exit 0, names every service with both colors and their images`, async () => {
      const run = await cli(["plan", stack]);
      assert.equal(run.code, ExitCode.Ok, run.stderr + run.stdout);
      assert.equal(run.stderr, "");
      const out = run.stdout;
      assert.match(out, new RegExp(`^plan ${stack} \\(environment ${stack};`));
      assert.match(out, /Resources by component/);
      assert.match(out, /Resources by type:/);
      for (const s of servicesOf(stack)) {
        const name = String(s["name"]);
        const active = String(s["active"]);
        const block = out.slice(out.indexOf(`  ${name}: active ${active}\n`));
        assert.ok(out.includes(`  ${name}: active ${active}\n`), `${name} with its active color`);
        for (const color of ["blue", "green"]) {
          const image = (s[color] as Obj)["image"];
          const line = new RegExp(`\\n    ${color} +${image === undefined ? "\\(none\\)" : String(image).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`);
          assert.match(block, line, `${name}: ${color}`);
        }
      }
      // Every object of the stack is validated against the upstream schemas (the one place the stacks' objects are).
      assert.match(out, stack === "test" ? /Kubernetes objects: \d+ validated against the upstream schemas, 0 invalid/ : /Kubernetes objects: [1-9]\d* validated against the upstream schemas, 0 invalid/);
      assert.match(out, /Policy pack \(\d+ rules, config infra\/policy\/config\/\w+\.json\): 0 mandatory/);
      // The shipped stacks are examples: the plan runs and lists their placeholders, each with what to put.
      const placeholders = findPlaceholders(readStackConfig(stack));
      assert.ok(placeholders.length > 0);
      assert.ok(
        out.includes(`\nPlaceholders (${placeholders.length}): documentation values AWS would reject; preview, up, release, promote, flip and rollback refuse this stack until they are replaced:\n`),
        "the placeholder warning",
      );
      for (const p of placeholders) {
        assert.ok(out.includes(`\n  ! ${describePlaceholder(p)}\n`), p.key);
      }
      assert.match(out, /\n {2}! platform:services\[0\]\.blue\.image: "123456789012\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com\/student:[^"]+": 123456789012 is an example account id from the AWS documentation, not your account; put an image your build pushed to this account's ECR/);
      assert.match(out, new RegExp(`✔ plan ${stack}: ok \\(exit 0\\)\\n$`));
      if (stack === "test") {
        assert.match(out, /~ exempted ec2-no-public-ip on aws:ec2\/instance:Instance::test-host-instance: test has no NAT gateway/, "exemptions are listed");
      } else {
        assert.match(out, /\n {2}platform:apps:BlueGreenService student +\d+ +\d+\n {4}platform:iam:IrsaRole student-irsa /, "nested components under their parent");
      }
    });
  }

  it("--json prints the whole report; --diagram writes a Mermaid flowchart", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    const file = path.join(dir, "docs", "prod.mmd");
    const run = await cli(["plan", "prod", "--json", "--diagram", file]);
    assert.equal(run.code, ExitCode.Ok, run.stderr);
    const report = JSON.parse(run.stdout) as PlanReport;
    assert.equal(report.operation, "plan");
    assert.equal(report.stack, "prod");
    assert.equal(report.environment, "prod");
    assert.equal(report.result, "ok");
    assert.equal(report.diagram, file);

    // Every counted resource is in exactly one component or at the stack level.
    const own = report.components.reduce((n, c) => n + c.resources, 0) + Object.values(report.stackLevel).reduce((a, b) => a + b, 0);
    assert.equal(own, report.resources.counted);
    assert.equal(report.types.reduce((n, t) => n + t.count, 0), report.resources.counted);
    const db = report.components.find((c) => c.type === "platform:data:Database");
    assert.equal(db?.name, "prod-db");
    assert.equal(db?.area, "data");
    assert.equal(db?.types["aws:rds/instance:Instance"], 1);
    const irsa = report.components.find((c) => c.id === "platform:iam:IrsaRole::student-irsa");
    assert.equal(irsa?.parent, "platform:apps:BlueGreenService::student");
    const student = report.components.find((c) => c.id === "platform:apps:BlueGreenService::student");
    assert.equal(student?.total, (student?.resources ?? 0) + (irsa?.resources ?? 0));

    assert.deepEqual(
      report.services.map((s) => [s.name, s.active, s.blue, s.green]),
      servicesOf("prod").map((s) => [s["name"], s["active"], (s["blue"] as Obj)["image"], (s["green"] as Obj)["image"]]),
    );
    assert.ok(report.kubernetes.validated > 0);
    assert.deepEqual(report.kubernetes.invalid, []);
    assert.deepEqual(report.policy.mandatory, []);
    assert.equal(report.policy.environment, "prod");
    assert.deepEqual(report.placeholders, findPlaceholders(readStackConfig("prod")));
    assert.ok(report.placeholders.some((p) => p.key === "platform:cluster.adminRoleArns[0]" && p.kind === "example account" && p.found === "123456789012"));
    // The database admits the cluster and the bastion, nothing else.
    assert.deepEqual(
      report.relations.filter((r) => r.to === "platform:data:Database::prod-db").map((r) => [r.from, r.label]),
      [
        ["platform:cluster:Cluster::prod", "tcp 3306"],
        ["platform:compute:Bastion::prod-bastion", "tcp 3306"],
      ],
    );

    const mermaid = fs.readFileSync(file, "utf8");
    assert.ok(mermaid.startsWith("flowchart"), mermaid.slice(0, 40));
    for (const area of ["addons", "apps", "cluster", "data", "edge", "network"]) {
      assert.match(mermaid, new RegExp(`\\n  subgraph area_${area}\\["${area}"\\]\\n`));
    }
    assert.match(mermaid, /\["Database<br\/>prod-db<br\/>\d+ resources"\]/);
    const node = (label: string): string => /\n {4}(c\d+)\[/.exec(mermaid.slice(mermaid.indexOf(label) - 40))?.[1] ?? assert.fail(label);
    assert.ok(mermaid.includes(`  ${node('"BlueGreenService<br/>student')} --> ${node('"IrsaRole<br/>student-irsa')}\n`), "parent -> child");
    assert.ok(mermaid.includes(`  ${node('"Bastion<br/>prod-bastion')} -.->|"tcp 3306"| ${node('"Database<br/>prod-db')}\n`), "bastion -> database");
    assert.equal((mermaid.match(/\n {2}subgraph /g) ?? []).length, (mermaid.match(/\n {2}end\n/g) ?? []).length);
  });

  it("an invalid stack config prints the ConfigError and exits 1", async () => {
    const out = await plan({ stack: "prod", mutate: (c) => void ((c["platform:network"] as Obj)["cidr"] = "10.30.0.0/33") }).then(
      () => assert.fail("plan accepted an invalid CIDR"),
      (err: unknown) => err,
    );
    assert.ok(out instanceof Error);
    assert.match(out.message, /Invalid config for stack "prod" \(1 problem\):\n {2}- platform:network\.cidr: /);
    assert.equal((out as Error & { exitCode?: number }).exitCode, ExitCode.Error);

    const missing = await cli(["plan", "nowhere"]);
    assert.equal(missing.code, ExitCode.Error);
    // Refused by the CLI's argument check, before the program is evaluated.
    assert.match(missing.stderr, /^error: <stack> "nowhere": no such stack \(there is no Pulumi\.nowhere\.yaml; known: prod, staging, test\)/);
  });

  it("marks a parked idle color, and a parked color passes the policy pack (0 replicas, no HPA)", async () => {
    const out = await plan({
      stack: "staging",
      mutate: (c) => {
        const subject = (c["platform:services"] as Obj[]).find((s) => s["name"] === "subject");
        assert.ok(subject !== undefined);
        const idle = subject["active"] === "blue" ? "green" : "blue";
        (subject[idle] as Obj)["parked"] = true;
      },
    });
    assert.equal(out.exitCode, ExitCode.Ok, out.human);
    assert.equal((out.json as PlanReport).placeholders.length, findPlaceholders(readStackConfig("staging")).length);
    assert.match(out.human, /\n  subject: active (blue|green)\n(    .*\n)*    (blue|green) +\S+  \(idle, parked\)\n/);
    assert.equal((out.json as PlanReport).services.find((s) => s.name === "subject")?.parked.length, 1);
  });

  it("lists the placeholders of the config it evaluated (an edited one too), and stays exit 0", async () => {
    const out = await plan({ stack: "test", mutate: (c) => void (c["platform:domain"] = "example.com") });
    assert.equal(out.exitCode, ExitCode.Ok, out.human);
    const report = out.json as PlanReport;
    assert.deepEqual(
      report.placeholders.filter((p) => p.key === "platform:domain").map((p) => [p.kind, p.found]),
      [["example domain", "example.com"]],
    );
    assert.match(out.human, /\n {2}! platform:domain: "example\.com": example\.com is a reserved example or special-use domain \(RFC 2606 \/ RFC 6761\); put a public hosted zone of your account in Route 53/);
  });

  it("warns while the bootstrap address is on (and not otherwise)", async () => {
    const out = await plan({ stack: "prod", mutate: (c) => void ((c["platform:cluster"] as Obj)["bootstrapAccessCidr"] = "198.51.100.7/32") });
    assert.equal(out.exitCode, ExitCode.Ok, out.human);
    const report = out.json as PlanReport;
    assert.equal(report.warnings.length, 1);
    assert.match(report.warnings[0] ?? "", /^platform:cluster\.bootstrapAccessCidr is set \(198\.51\.100\.7\/32\): the cluster's API endpoint is public to that address\. It is for the first up only; once the stack's CI runners exist, remove it/);
    assert.ok(out.human.includes(`\nWarnings (1):\n  ⚠ ${report.warnings[0] ?? ""}\n`));
    const shipped = (await plan({ stack: "prod" })).json as PlanReport;
    assert.deepEqual(shipped.warnings, []);
  });

  it("a mandatory policy violation exits 2 and names the rule and the resource", async () => {
    // Config refuses prod settings its policy rules would refuse; a stricter policy config than the
    // stack's own (--policy-config) is what the pack alone stops here: a year of CloudWatch logs.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-policy-"));
    const file = path.join(dir, "prod.json");
    const shipped = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "infra/policy/config/prod.json"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...shipped, "log-retention-minimum": { minimumDays: 365 } }));
    const out = await plan({ stack: "prod", policyConfigFile: file });
    assert.equal(out.exitCode, ExitCode.PolicyViolation);
    assert.match(out.human, /\n {2}⛔ mandatory log-retention-minimum on aws:cloudwatch\/logGroup:LogGroup::prod-flow-logs: .*retentionInDays is 90, fewer than 365 days/);
    assert.match(out.human, /⛔ plan prod: policy violation \(exit 2\)\n$/);
    const report = out.json as PlanReport;
    assert.deepEqual([...new Set(report.policy.mandatory.map((v) => v.policy))], ["log-retention-minimum"]);
  });

  it("says when the live color is not the verified release (not an error: flips and rollbacks record nothing)", async () => {
    const ecr = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student";
    const verified = `${ecr}@sha256:${"a".repeat(64)}`;
    const record = { student: { image: verified, verifiedAt: "2026-11-01T00:00:00Z", source: "promote test->staging" } };
    const differs = await plan({ stack: "staging", mutate: (c) => void (c["platform:releases"] = record) });
    assert.equal(differs.exitCode, ExitCode.Ok);
    assert.match(differs.human, /\n {4}! the live color runs \S*student:1\.5\.0, not the verified release/);
    const same = await plan({
      stack: "staging",
      mutate: (c) => {
        c["platform:releases"] = record;
        ((c["platform:services"] as Obj[])[0]["blue"] as Obj)["image"] = verified;
      },
    });
    assert.doesNotMatch(same.human, /not the verified release/);
  });

  it("lists the documented exceptions it applied (prod: Fluentd's Docker Hub image)", async () => {
    const out = await plan({ stack: "prod" });
    assert.equal(out.exitCode, ExitCode.Ok);
    assert.match(out.human, /\n {2}~ exempted k8s-image-registry on kubernetes:apps\/v1:DaemonSet::prod-fluentd-daemonset: fluent\/fluentd-kubernetes-daemonset is published on Docker Hub only/);
    assert.deepEqual(
      (out.json as PlanReport).policy.exempted.map((e) => `${e.policy} ${e.resource.name}`),
      ["k8s-image-registry prod-fluentd-daemonset"],
    );
  });

  it("groups resources by component instance and finds the security-group paths (synthetic)", () => {
    const r = (type: string, name: string, parentType: string | undefined, inputs: Record<string, unknown> = {}): DeclaredResource => ({
      type,
      name,
      inputs,
      custom: !type.startsWith("platform:") && !type.startsWith("pulumi:pulumi"),
      ...(parentType !== undefined ? { parentType } : {}),
    });
    const resources = [
      r("pulumi:pulumi:Stack", "platform-x", undefined),
      r("platform:data:Database", "x-db", "pulumi:pulumi:Stack"),
      r("aws:ec2/securityGroup:SecurityGroup", "x-db-sg", "platform:data:Database"),
      r("platform:compute:Bastion", "x-bastion", "pulumi:pulumi:Stack"),
      r("platform:compute:Bastion", "x-bastion-2", "pulumi:pulumi:Stack"),
      r("aws:ec2/securityGroup:SecurityGroup", "x-bastion-2-sg", "platform:compute:Bastion"),
      r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "x-db-from-bastion", "platform:data:Database", {
        referencedSecurityGroupId: "x-bastion-2-sg-id",
        securityGroupId: "x-db-sg-id",
        ipProtocol: "tcp",
        fromPort: 3306,
        toPort: 3306,
      }),
      r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "x-db-https", "platform:data:Database", {
        cidrIpv4: "0.0.0.0/0",
        securityGroupId: "x-db-sg-id",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
      }),
    ];
    const graph = componentGraph(resources);
    assert.deepEqual(
      graph.components.map((c) => [c.id, c.resources]),
      [
        ["platform:compute:Bastion::x-bastion", 0],
        ["platform:compute:Bastion::x-bastion-2", 1],
        ["platform:data:Database::x-db", 3],
      ],
      "the longest matching name prefix picks the instance",
    );
    const relations = securityGroupRelations(resources, graph);
    assert.deepEqual(relations, [
      { from: "internet", to: "platform:data:Database::x-db", label: "tcp 443" },
      { from: "platform:compute:Bastion::x-bastion-2", to: "platform:data:Database::x-db", label: "tcp 3306" },
    ]);
    const mermaid = renderMermaid({ stack: "x", components: graph.components, relations });
    assert.match(mermaid, /^flowchart LR\n/);
    assert.match(mermaid, /\n {2}internet\(\("Internet"\)\)\n/);
    assert.match(mermaid, /\n {2}internet -\.->\|"tcp 443"\| c2\n/);
  });

  it("`npm run platform -- plan test` works as a subprocess without a Pulumi CLI on PATH", function () {
    this.timeout(90_000);
    const env = { ...process.env, PATH: path.dirname(process.execPath), PULUMI_HOME: fs.mkdtempSync(path.join(os.tmpdir(), "no-pulumi-")) };
    const npm = path.join(path.dirname(process.execPath), "npm");
    const command = fs.existsSync(npm) ? npm : "npm";
    const res = spawnSync(command, ["run", "--silent", "platform", "--", "plan", "test"], { cwd: REPO_ROOT, env, encoding: "utf8", timeout: 80_000 });
    assert.equal(res.status, 0, `${res.stderr}\n${res.stdout}`);
    assert.match(res.stdout, /✔ plan test: ok \(exit 0\)/);
    assert.match(res.stdout, /student: active blue/);
  });
});
