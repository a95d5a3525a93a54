/**
 * The GitHub Actions workflows: parsed and checked for what the platform relies on (OIDC
 * instead of keys, one never-cancelled concurrency group per stack, the production approval,
 * the branch -> command mapping, the offline checks on every pull request, no expression
 * injection into scripts, pinned action versions).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

const DIR = path.resolve(__dirname, "..", "..", ".github", "workflows");

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, string | number | boolean>;
  readonly env?: Record<string, string>;
}

interface Job {
  readonly if?: string;
  readonly needs?: string | string[];
  readonly environment?: string;
  readonly permissions?: Record<string, string>;
  readonly concurrency?: { readonly group: string; readonly "cancel-in-progress": boolean };
  readonly strategy?: { readonly matrix: Record<string, unknown> };
  readonly steps: readonly Step[];
}

interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

function load(file: string): { text: string; wf: Workflow } {
  const text = fs.readFileSync(path.join(DIR, file), "utf8");
  return { text, wf: YAML.parse(text) as Workflow };
}

const FILES = ["pull-request.yml", "deploy.yml", "release.yml"];

describe("automation: CI workflows", () => {
  it("exist and parse", () => {
    assert.deepEqual(fs.readdirSync(DIR).sort(), [...FILES].sort());
    for (const f of FILES) {
      const { wf } = load(f);
      assert.ok(Object.keys(wf.jobs).length > 0, f);
    }
  });

  for (const file of FILES) {
    describe(file, () => {
      const { text, wf } = load(file);
      const jobs = Object.entries(wf.jobs);

      it("defaults to read-only repository access", () => assert.deepEqual(wf.permissions, { contents: "read" }));

      it("reaches AWS only through OIDC role assumption", () => {
        assert.doesNotMatch(text, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
        for (const [name, job] of jobs) {
          const aws = job.steps.filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") === true);
          for (const s of aws) {
            assert.match(String(s.with?.["role-to-assume"] ?? ""), /^\$\{\{ vars\.AWS_[A-Z_]+ROLE_ARN \}\}$/, `${name}: role from a variable`);
          }
          if (aws.length > 0) {
            assert.equal(job.permissions?.["id-token"], "write", `${name} needs id-token: write for OIDC`);
          }
        }
      });

      it("pins every action to a major version", () => {
        for (const [, job] of jobs) {
          for (const s of job.steps) {
            if (s.uses !== undefined) {
              assert.match(s.uses, /^[\w.-]+\/[\w.-]+@v\d+$/, s.uses);
            }
          }
        }
      });

      it("never expands inputs or event text inside a script", () => {
        for (const [, job] of jobs) {
          for (const s of job.steps) {
            assert.doesNotMatch(s.run ?? "", /\$\{\{\s*(inputs|github\.event)\./, s.run);
          }
        }
      });
    });
  }

  it("pull requests: npm ci, npm test and an offline plan of every stack; preview only with credentials", () => {
    const { wf } = load("pull-request.yml");
    assert.ok("pull_request" in wf.on);
    const runs = (wf.jobs["test"]?.steps ?? []).map((s) => s.run ?? "").join("\n");
    assert.match(runs, /npm ci/);
    assert.match(runs, /npm test/);
    assert.match(runs, /for stack in test staging prod; do\s+npm run --silent platform -- plan "\$stack"/);
    const preview = wf.jobs["preview"];
    assert.ok(preview !== undefined);
    assert.match(preview.if ?? "", /needs\.changes\.outputs\.stacks != '\[\]' && vars\.AWS_PREVIEW_ROLE_ARN != ''/);
    assert.equal(preview.strategy?.matrix["stack"], "${{ fromJSON(needs.changes.outputs.stacks) }}");
    assert.ok(preview.steps.some((s) => (s.run ?? "").includes('platform -- preview "${{ matrix.stack }}"')));
  });

  it("branch pushes: test -> up test, staging -> promote test->staging, production -> promote staging->prod behind approval", () => {
    const { wf } = load("deploy.yml");
    const expect: ReadonlyArray<[string, string, string, RegExp]> = [
      ["test", "refs/heads/test", "test", /platform -- up test /],
      ["staging", "refs/heads/staging", "staging", /platform -- promote --from test --to staging$/m],
      ["production", "refs/heads/production", "prod", /platform -- promote --from staging --to prod$/m],
    ];
    for (const [job, ref, stack, command] of expect) {
      const j = wf.jobs[job];
      assert.ok(j !== undefined, job);
      assert.equal(j.if, `github.ref == '${ref}'`);
      assert.deepEqual(j.concurrency, { group: `stack-${stack}`, "cancel-in-progress": false }, "one never-cancelled group per stack");
      assert.ok(j.steps.some((s) => command.test(s.run ?? "")), `${job} runs ${String(command)}`);
    }
    assert.equal(wf.jobs["production"]?.environment, "production", "required reviewers gate prod");
  });

  it("release shares the test stack's concurrency group and commits the record", () => {
    const { wf } = load("release.yml");
    const j = wf.jobs["release"];
    assert.ok(j !== undefined);
    assert.deepEqual(j.concurrency, { group: "stack-test", "cancel-in-progress": false });
    const run = j.steps.find((s) => (s.run ?? "").includes("platform -- release test"));
    assert.deepEqual(run?.env, { SERVICE: "${{ inputs.service }}", IMAGE: "${{ inputs.image }}" });
    assert.ok(j.steps.some((s) => (s.run ?? "").includes("git push origin HEAD:test")));
  });
});
