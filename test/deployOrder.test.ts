/**
 * The first-deploy order from an empty account (test -> staging -> prod): every shared resource a
 * stack looks up or relies on is created by exactly one stack earlier in the order, or is a
 * documented prerequisite; judged over what the three stack files make the program declare.
 */
import { strict as assert } from "assert";
import { DEPLOY_ORDER, Footprint, footprintOf, orderProblems, SharedResource } from "../automation/deployOrder";
import { STAGES } from "../automation/cli/validate";
import { evaluateStack, Evaluation, Json, shippedStack, STACKS, StackConfig } from "./stack";

const fp = (stack: string, creates: string[], needs: string[]): Footprint => {
  const parse = (k: string): SharedResource => {
    const [kind, ...name] = k.split(":");
    return { kind: kind as SharedResource["kind"], name: name.join(":") };
  };
  return { stack, creates: creates.map(parse), needs: needs.map(parse) };
};
const keys = (rs: readonly SharedResource[]): string[] => rs.map((r) => `${r.kind}:${r.name}`);
const footprint = (ev: Evaluation): Footprint => footprintOf(ev.stack, ev.resources, ev.invokes);

describe("deploy order", () => {
  it("is the pipeline's order, and every shipped stack is in it", () => {
    assert.deepEqual([...DEPLOY_ORDER], ["test", "staging", "prod"]);
    assert.deepEqual([...STAGES], [...DEPLOY_ORDER]);
    assert.deepEqual([...STACKS].sort(), [...DEPLOY_ORDER].sort());
  });

  describe("orderProblems", () => {
    const order = ["test", "staging", "prod"];
    const cases: ReadonlyArray<readonly [string, Footprint[], string[]]> = [
      ["the owner first, then the stacks that look it up", [fp("test", ["ecr-repository:student"], []), fp("staging", [], ["ecr-repository:student"]), fp("prod", [], ["ecr-repository:student"])], []],
      ["a stack needing what it creates itself", [fp("staging", ["service-linked-role:opensearchservice.amazonaws.com"], ["service-linked-role:opensearchservice.amazonaws.com"])], []],
      [
        "a lookup before its owner",
        [fp("test", [], ["ecr-repository:student"]), fp("staging", ["ecr-repository:student"], [])],
        ["test needs ecr-repository:student, which staging creates later in the order (test -> staging -> prod): its first deployment fails"],
      ],
      [
        "two owners",
        [fp("staging", ["service-linked-role:opensearchservice.amazonaws.com"], []), fp("prod", ["service-linked-role:opensearchservice.amazonaws.com"], [])],
        ["service-linked-role:opensearchservice.amazonaws.com: created by staging and prod; exactly one stack may own it (the others look it up)"],
      ],
      ["needed, created by nobody", [fp("prod", [], ["service-linked-role:opensearchservice.amazonaws.com"])], ["prod needs service-linked-role:opensearchservice.amazonaws.com, which no stack creates and no prerequisite covers"]],
      ["a prerequisite (the hosted zone, the GitHub connection)", [fp("test", [], ["route53-zone:karina-univ.com", "codeconnections-connection:arn:aws:codeconnections:ap-northeast-2:1:connection/x"])], []],
      ["a stack outside the order", [fp("qa", [], [])], ["qa: not in the deploy order (test -> staging -> prod)"]],
    ];
    for (const [name, footprints, expected] of cases) {
      it(name, () => assert.deepEqual(orderProblems(order, footprints), expected));
    }
  });

  describe("footprintOf", () => {
    it("reads creations and lookups from declared resources and data-source calls", () => {
      const f = footprintOf(
        "x",
        [
          { type: "aws:ecr/repository:Repository", inputs: { name: "student" } },
          { type: "aws:iam/serviceLinkedRole:ServiceLinkedRole", inputs: { awsServiceName: "opensearchservice.amazonaws.com" } },
          { type: "aws:opensearch/domain:Domain", inputs: { vpcOptions: { subnetIds: ["a"] } } },
          { type: "aws:opensearch/domain:Domain", inputs: {} },
          { type: "aws:ssm/document:Document", inputs: { name: "SSM-SessionManagerRunShell" } },
          { type: "aws:ssm/document:Document", inputs: { name: "other" } },
          { type: "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", inputs: { ecrRepositoryPrefix: "docker-hub" } },
          { type: "kubernetes:apps/v1:DaemonSet", inputs: { spec: { image: "381492115072.dkr.ecr.ap-northeast-2.amazonaws.com/docker-hub/fluent/fluentd:v1" } } },
          { type: "kubernetes:apps/v1:Deployment", inputs: { image: "381492115072.dkr.ecr.ap-northeast-2.amazonaws.com/student:1" } },
          { type: "aws:codebuild/project:Project", inputs: { source: { auth: { type: "CODECONNECTIONS", resource: "arn:conn" } } } },
        ],
        [
          { token: "aws:ecr/getRepository:getRepository", inputs: { name: "subject" } },
          { token: "aws:route53/getZone:getZone", inputs: { name: "karina-univ.com", privateZone: false } },
          { token: "aws:index/getRegion:getRegion", inputs: {} },
        ],
      );
      assert.deepEqual(keys(f.creates), [
        "ecr-pull-through-cache-rule:docker-hub",
        "ecr-repository:student",
        "service-linked-role:opensearchservice.amazonaws.com",
        "ssm-session-preferences:SSM-SessionManagerRunShell",
      ]);
      assert.deepEqual(keys(f.needs), [
        "codeconnections-connection:arn:conn",
        "ecr-pull-through-cache-rule:docker-hub",
        "ecr-repository:subject",
        "route53-zone:karina-univ.com",
        "service-linked-role:opensearchservice.amazonaws.com",
      ]);
    });
  });

  describe("the three stack files", () => {
    let footprints: Footprint[] = [];
    before(async function () {
      this.timeout(60_000);
      footprints = await Promise.all(DEPLOY_ORDER.map(async (s) => footprint(await shippedStack(s as (typeof STACKS)[number]))));
    });

    it("deploy in the documented order from an empty account: every lookup after its one owner", () => {
      assert.deepEqual(orderProblems(DEPLOY_ORDER, footprints), []);
    });

    it("test owns the ECR repositories, staging the OpenSearch service-linked role; the hosted zone is a prerequisite", () => {
      const [test, staging, prod] = footprints;
      assert.deepEqual(keys(test?.creates ?? []), ["ecr-repository:student", "ecr-repository:subject"]);
      assert.deepEqual(keys(staging?.creates ?? []), ["service-linked-role:opensearchservice.amazonaws.com"]);
      assert.deepEqual(keys(prod?.creates ?? []), ["ssm-session-preferences:SSM-SessionManagerRunShell"]);
      for (const f of [staging, prod]) {
        assert.ok(keys(f?.needs ?? []).includes("ecr-repository:student"), f?.stack);
      }
      assert.ok(keys(prod?.needs ?? []).includes("service-linked-role:opensearchservice.amazonaws.com"));
      for (const f of footprints) {
        assert.ok(keys(f.needs).includes("route53-zone:karina-univ.com"), f.stack);
      }
    });

    // The check fails on the layout this order replaced: staging owning the repositories while
    // test (deployed first) looks them up, and a second owner of the service-linked role.
    it("catches an owner after its consumer, and a second owner", async function () {
      this.timeout(60_000);
      const setRegistryOwner = (owner: boolean) => (c: StackConfig): void => {
        c["platform:registry"] = { ...((c["platform:registry"] ?? {}) as Record<string, Json>), owner };
      };
      const moved = await Promise.all([
        evaluateStack("test", setRegistryOwner(false)),
        evaluateStack("staging", setRegistryOwner(true)),
        evaluateStack("prod", (c) => {
          const o = (c["platform:observability"] ??= {}) as Record<string, Json>;
          o["logging"] = { ...((o["logging"] ?? {}) as Record<string, Json>), createServiceLinkedRole: true };
        }),
      ]);
      assert.deepEqual(orderProblems(DEPLOY_ORDER, moved.map(footprint)), [
        "service-linked-role:opensearchservice.amazonaws.com: created by staging and prod; exactly one stack may own it (the others look it up)",
        "test needs ecr-repository:student, which staging creates later in the order (test -> staging -> prod): its first deployment fails",
        "test needs ecr-repository:subject, which staging creates later in the order (test -> staging -> prod): its first deployment fails",
      ]);
    });
  });
});
