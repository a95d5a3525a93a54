import { strict as assert } from "assert";
import { ACCOUNT_ID, REGION } from "../automation/offline/mocks";
import { Registry } from "../infra/registry/registry";
import { declare, Evaluation, named, ofType, optionsOf } from "./stack";

const SERVICES = ["student", "subject", "lottery-web"] as const;
const REPO = "aws:ecr/repository:Repository";
const LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy";
const GET_REPO = "aws:ecr/getRepository:getRepository";

interface Evaluated {
  readonly ev: Evaluation;
  /** retainOnDelete of a resource, by type and name (the mocks see inputs only; the evaluator records options). */
  readonly retained: (type: string, name: string) => boolean;
}

async function evaluateRegistry(owner: boolean, keepImages = 25): Promise<Evaluated> {
  const ev = await declare(() => {
    const registry = new Registry("platform", { repositories: SERVICES, owner, keepImages });
    return { repositoryUrls: registry.repositoryUrls, repositoryArns: registry.repositoryArns };
  }, "staging");
  return { ev, retained: (type, name) => optionsOf(ev, type, name).retainOnDelete === true };
}

interface Rule {
  rulePriority: number;
  selection: { tagStatus: string; tagPatternList?: string[]; countType: string; countUnit?: string; countNumber: number };
  action: { type: string };
}

describe("Registry", () => {
  describe("owner stack", () => {
    let owned: Evaluated;
    before(async () => {
      owned = await evaluateRegistry(true);
    });

    it("creates one repository per service, named after the service", () => {
      const repos = ofType(owned.ev, REPO);
      assert.deepEqual(repos.map((r) => r.inputs["name"]).sort(), [...SERVICES].sort());
      assert.deepEqual(repos.map((r) => r.name).sort(), SERVICES.map((s) => `platform-${s}`).sort());
    });

    it("makes every repository immutable, scanned on push, encrypted and never force-deleted", () => {
      for (const service of SERVICES) {
        const repo = named(owned.ev, REPO, `platform-${service}`);
        assert.equal(repo.inputs["imageTagMutability"], "IMMUTABLE", service);
        assert.deepEqual(repo.inputs["imageScanningConfiguration"], { scanOnPush: true }, service);
        assert.deepEqual(repo.inputs["encryptionConfigurations"], [{ encryptionType: "AES256" }], service);
        assert.equal(repo.inputs["forceDelete"], false, service);
      }
    });

    it("retains the repositories when the owner stack is destroyed, and only them", () => {
      for (const service of SERVICES) {
        assert.equal(owned.retained(REPO, `platform-${service}`), true, service);
        assert.equal(owned.retained(LIFECYCLE, `platform-${service}`), false, service);
      }
    });

    it("attaches a lifecycle policy expiring untagged images after a day and keeping keepImages tagged ones", () => {
      const policies = ofType(owned.ev, LIFECYCLE);
      assert.equal(policies.length, SERVICES.length);
      for (const service of SERVICES) {
        const lp = named(owned.ev, LIFECYCLE, `platform-${service}`);
        assert.equal(lp.inputs["repository"], service);
        const { rules } = JSON.parse(String(lp.inputs["policy"])) as { rules: Rule[] };
        assert.equal(rules.length, 2);
        assert.equal(new Set(rules.map((r) => r.rulePriority)).size, rules.length, "rule priorities must be unique");
        const untagged = rules.find((r) => r.selection.tagStatus === "untagged");
        assert.deepEqual(untagged?.selection, { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 });
        const tagged = rules.find((r) => r.selection.tagStatus === "tagged");
        assert.deepEqual(tagged?.selection, { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 25 });
        assert.ok(rules.every((r) => r.action.type === "expire"));
        assert.ok(!rules.some((r) => r.selection.tagStatus === "any"), "an `any` rule would also count untagged images");
      }
    });

    it("looks nothing up", () => {
      assert.equal(owned.ev.invokes.filter((i) => i.token === GET_REPO).length, 0);
    });

    it("exports a URL per service and every repository ARN", () => {
      assert.deepEqual(
        owned.ev.outputs["repositoryUrls"],
        Object.fromEntries(SERVICES.map((s) => [s, `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/${s}`])),
      );
      const arns = owned.ev.outputs["repositoryArns"] as string[];
      assert.equal(arns.length, SERVICES.length);
      assert.ok(arns.every((a) => a.startsWith(`arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/`)), arns.join(", "));
    });
  });

  describe("non-owner stack", () => {
    let shared: Evaluated;
    before(async () => {
      shared = await evaluateRegistry(false);
    });

    it("creates no repository and no lifecycle policy", () => {
      assert.equal(ofType(shared.ev, REPO).length, 0);
      assert.equal(ofType(shared.ev, LIFECYCLE).length, 0);
    });

    it("looks up each repository by its service name", () => {
      const looked = shared.ev.invokes.filter((i) => i.token === GET_REPO).map((i) => i.inputs["name"]);
      assert.deepEqual([...looked].sort(), [...SERVICES].sort());
    });

    it("exports the looked-up URLs and ARNs", () => {
      assert.deepEqual(
        shared.ev.outputs["repositoryUrls"],
        Object.fromEntries(SERVICES.map((s) => [s, `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/${s}`])),
      );
      assert.deepEqual(
        [...(shared.ev.outputs["repositoryArns"] as string[])].sort(),
        SERVICES.map((s) => `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/${s}`).sort(),
      );
    });
  });

  it("rejects a service listed twice and a non-positive keepImages", async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [["student", "student"], 10, /repository "student" is listed twice/],
      [["student"], 0, /keepImages must be a positive integer, got 0/],
    ];
    for (const [repositories, keepImages, message] of cases) {
      await assert.rejects(
        declare(() => {
          new Registry("platform", { repositories, owner: true, keepImages });
          return {};
        }),
        message,
      );
    }
  });
});
