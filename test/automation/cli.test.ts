/**
 * The CLI over the same driver functions, with stand-in dependencies: argument parsing,
 * `--help` on every command, `--json`, exit codes, the command registry (the hook the
 * offline `plan` command uses), and the Pulumi CLI bootstrap's failure message.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { main } from "../../automation/cli";
import { registerBuiltins } from "../../automation/cli/commands";
import { CommandContext, commands, registerCommand } from "../../automation/cli/registry";
import { ExitCode } from "../../automation/exitCodes";
import { ensurePulumiCommand, SDK_VERSION } from "../../automation/adapters/workspace";
import { Harness } from "./harness";
import { image } from "./loopback";
import { MemoryStack } from "./memoryStack";

interface Captured {
  readonly stdout: string[];
  readonly stderr: string[];
  readonly ctx: CommandContext;
  /** Every time the driver's dependencies were built, and every stack opened through them. */
  readonly depsBuilt: number[];
  readonly opened: string[];
}

const POLICY_DIR = path.join(__dirname, "..", "..", "infra", "policy");

function capture(h: Harness): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const depsBuilt: number[] = [];
  const opened: string[] = [];
  return {
    stdout,
    stderr,
    depsBuilt,
    opened,
    ctx: {
      io: { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {}, isTTY: false },
      signal: h.controller.signal,
      catalog: h.catalog(),
      deps: (req) => {
        depsBuilt.push(1);
        const deps = h.deps({ policyFor: () => ({ packs: [...req.policyPacks], configs: [...req.policyConfigs] }) });
        return {
          ...deps,
          openStack: (name) => {
            opened.push(name);
            return deps.openStack(name);
          },
        };
      },
    },
  };
}

describe("automation: CLI", function () {
  let h: Harness;
  let staging: MemoryStack;
  beforeEach(async () => {
    h = await Harness.start();
    staging = h.add(
      new MemoryStack({
        name: "staging",
        environment: "staging",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: image("student", "1"), green: image("student", "2") }],
      }),
    );
  });
  afterEach(async () => {
    await h.close();
  });

  registerBuiltins();
  for (const spec of commands()) {
    it(`${spec.name} --help prints its usage, options and exit codes`, async () => {
      const c = capture(h);
      assert.equal(await main([spec.name, "--help"], c.ctx), ExitCode.Ok);
      const text = c.stdout.join("");
      assert.ok(text.startsWith(`Usage: npm run platform -- ${spec.name}`), text);
      assert.match(text, /--json/);
      assert.match(text, /130 {2}interrupted by SIGINT/);
      for (const name of Object.keys(spec.options)) {
        assert.ok(text.includes(`--${name}`), `documents --${name}`);
      }
    });
  }

  it("lists every command with --help and fails without a command", async () => {
    const c = capture(h);
    assert.equal(await main(["--help"], c.ctx), ExitCode.Ok);
    for (const name of ["preview", "up", "promote", "release", "flip", "rollback", "status"]) {
      assert.match(c.stdout.join(""), new RegExp(`\\n  ${name} `));
    }
    assert.equal(await main([], capture(h).ctx), ExitCode.Error);
  });

  describe("refuses bad command lines before anything slow", () => {
    const IMG = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.5.0";
    const unwritable = path.join(__dirname, "cli.test.ts", "diagram.mmd");
    // [argv, what the one-line message must name]
    const bad: ReadonlyArray<[string[], RegExp]> = [
      [[], /missing <command>/],
      [["deploy"], /unknown command "deploy"/],
      [["stauts", "staging"], /unknown command "stauts" \(did you mean "status"\?\); the commands: plan, preview, up, promote, release, flip, rollback, status/],
      [["status"], /missing <stack>/],
      [["status", "a", "b"], /unexpected argument "b"/],
      [["status", "nope"], /<stack> "nope": no such stack .*known: empty, prod, staging, test/],
      [["status", "staging", "--bogus"], /Unknown option '--bogus'/],
      [["preview"], /missing <stack>/],
      [["preview", "qa"], /<stack> "qa": no such stack/],
      [["preview", "staging", "--policy-pack"], /--policy-pack/],
      [["preview", "staging", "--policy-pack", "/no/such/pack"], /--policy-pack "\/no\/such\/pack": no such directory/],
      [["preview", "staging", "--policy-config", "/no/such.json"], /--policy-config "\/no\/such\.json": no such file/],
      [["preview", "staging", "--expect-no-changes", "--expect-no-changes"], /--expect-no-changes given 2 times/],
      [["up", "staging", "--bogus"], /Unknown option '--bogus'/],
      [["up", "staging", "--message"], /--message/],
      [["up", "staging", "--message", ""], /--message needs a non-empty value/],
      [["up", "staging", "--message", "a", "--message", "b"], /--message given 2 times; it takes one value/],
      [["up", "staging", "--create", "--create"], /--create given 2 times/],
      [["up", "staging", "--allow-replace=yes"], /--allow-replace/],
      [["up", "nope"], /<stack> "nope": no such stack/],
      [["flip", "staging"], /--service is required/],
      [["flip", "staging", "--service"], /--service/],
      [["flip", "staging", "--service", "student", "--to", "purple"], /--to "purple": must be blue or green/],
      [["flip", "staging", "--service", "student", "--to", "Blue"], /--to "Blue": must be blue or green/],
      [["flip", "staging", "--service", "student", "--to", "blue", "--to", "green"], /--to given 2 times; it takes one value/],
      [["flip", "staging", "--service", "student", "--service", "subject"], /--service given 2 times/],
      [["flip", "staging", "--service", "nope"], /--service "nope": stack "staging" has no such service \(it has student, subject\)/],
      [["flip", "test", "--service", "student"], /<stack> "test": it runs one color per service/],
      [["flip", "empty", "--service", "student"], /<stack> "empty": it has no services to flip/],
      [["flip", "nope", "--service", "student"], /<stack> "nope": no such stack/],
      [["flip", "staging", "--service", "student", "--force", "--force"], /--force given 2 times/],
      [["flip", "staging", "prod", "--service", "student"], /unexpected argument "prod"/],
      [["flip", "staging", "--service", "student", "--steps", "50,10"], /--steps "50,10": step 2 \(10\) is not above step 1 \(50\): steps must strictly increase/],
      [["flip", "staging", "--service", "student", "--steps", "10,100"], /--steps "10,100": step 2 is 100: each step is a whole percent from 1 to 99 \(the final 100 is the switch itself\)/],
      [["flip", "staging", "--service", "student", "--steps", "10%,50"], /--steps "10%,50": "10%" is not a whole percent; give them comma-separated, e.g\. 10,50/],
      [["flip", "staging", "--service", "student", "--steps", "10,,50"], /--steps "10,,50": "" is not a whole percent/],
      [["flip", "staging", "--service", "student", "--steps", "10", "--steps", "20"], /--steps given 2 times; it takes one value/],
      [["rollback", "staging", "--service", "student", "--steps", "10"], /Unknown option '--steps'/],
      [["rollback", "staging"], /--service is required/],
      [["rollback", "staging", "--service", "nope"], /--service "nope": stack "staging" has no such service/],
      [["rollback", "test", "--service", "student"], /<stack> "test": it runs one color per service/],
      [["rollback", "staging", "--service", "student", "--to", "green"], /Unknown option '--to'/],
      [["promote"], /--from is required/],
      [["promote", "--from", "test"], /--to is required/],
      [["promote", "--from", "test", "--to", "prod"], /--to "prod": promote goes test -> staging -> prod, one stage at a time; from test the next stage is staging/],
      [["promote", "--from", "staging", "--to", "test"], /--to "test": promote goes .*from staging the next stage is prod/],
      [["promote", "--from", "prod", "--to", "staging"], /--to "staging": .*nothing is promoted from prod/],
      [["promote", "--from", "staging", "--to", "staging"], /--to "staging": promote goes/],
      [["promote", "--from", "qa", "--to", "staging"], /--from "qa": no such stack/],
      [["promote", "--from", "test", "--to", "qa"], /--to "qa": no such stack/],
      [["promote", "--from", "test", "--to", "staging", "--service", "nope"], /--service "nope": stack "test" has no such service/],
      [["promote", "--from", "test", "--to", "staging", "--from", "staging"], /--from given 2 times/],
      [["promote", "staging", "--from", "test", "--to", "staging"], /unexpected argument "staging"/],
      [["release", "test"], /--service\/--image: give them in pairs \(got 0 service\(s\), 0 image\(s\)\)/],
      [["release", "test", "--service", "student"], /--service\/--image: give them in pairs \(got 1 service\(s\), 0 image\(s\)\)/],
      [["release", "test", "--service", "a", "--service", "b", "--image", "r/a:1"], /in pairs \(got 2 service\(s\), 1 image\(s\)\)/],
      [["release", "staging", "--service", "student", "--image", IMG], /<stack> "staging": release goes into the first stage \(test\) only/],
      [["release", "prod", "--service", "student", "--image", IMG], /<stack> "prod": release goes into the first stage/],
      [["release", "test", "--service", "nope", "--image", IMG], /--service "nope": stack "test" has no such service/],
      [["release", "test", "--service", "student", "--image", "not an image"], /--image "not an image": not an image reference/],
      [["release", "test", "--service", "student", "--image", "Student:1"], /--image "Student:1": not an image reference/],
      [["plan"], /missing <stack>/],
      [["plan", "nope"], /<stack> "nope": no such stack/],
      [["plan", "staging", "--diagram", unwritable], /--diagram ".*cli\.test\.ts\/diagram\.mmd": cannot be written \(.*cli\.test\.ts is a file, not a directory\)/],
      [["plan", "staging", "--diagram", os.tmpdir()], /--diagram ".*": is a directory, not a file/],
      [["plan", "staging", "--diagram", "a.mmd", "--diagram", "b.mmd"], /--diagram given 2 times/],
      [["plan", "staging", "--policy-config", "/no/such.json"], /--policy-config "\/no\/such\.json": no such file/],
      // Unknown commands, stacks and options: a suggestion and what is allowed.
      [["help", "nope"], /unknown command "nope"; the commands: plan,/],
      [["status", "stagin"], /<stack> "stagin": no such stack \(there is no Pulumi\.stagin\.yaml; did you mean "staging"\? known:/],
      [["status", "../staging"], /<stack> "\.\.\/staging": no such stack/],
      [["status", "staging", "-x"], /Unknown option '-x' for status; it takes --json, --help$/],
      [["status", "staging", "--service", "student"], /Unknown option '--service' for status; it takes --json, --help$/],
      [["up", "staging", "--mesage", "why"], /Unknown option '--mesage' for up \(did you mean --message\?\); it takes .*--message/],
      // Missing values and values given to switches.
      [["status", "staging", "--help=yes"], /--help is a switch and takes no value; give --help alone/],
      [["preview", "staging", "--expect-no-changes=false"], /--expect-no-changes is a switch and takes no value/],
      [["flip", "staging", "--service", "student", "--force=true"], /--force is a switch and takes no value; give --force alone/],
      [["flip", "staging", "--service", "--to", "blue"], /--service needs a value; give it as --service NAME/],
      [["flip", "staging", "--service", "student", "--steps", "-5"], /--steps needs a value; give it as --steps PCTS \(a value starting with a dash: --steps=-VALUE\)/],
      [["promote", "--from", "test", "--to", "staging", "--service"], /--service needs a value; give it as --service NAME/],
      [["flip", "staging", "--service", "student", "--to="], /--to needs a non-empty value/],
      [["flip", "staging", "--service", "student", "--steps", " "], /--steps needs a non-empty value/],
      [["up", "staging", "--message", "   "], /--message needs a non-empty value/],
      // Repeats.
      [["promote", "--from", "test", "--to", "staging", "--allow-replace", "--allow-replace"], /--allow-replace given 2 times; give it once/],
      [["promote", "--from", "test", "--to", "staging", "--service", "student", "--service", "student"], /--service "student": given twice; name each service once/],
      [["release", "test", "--service", "student", "--service", "student", "--image", IMG, "--image", IMG], /--service "student": given twice/],
      // Bad steps, stage order, stacks without services.
      [["flip", "staging", "--service", "student", "--steps", "0"], /--steps "0": step 1 is 0: each step is a whole percent from 1 to 99/],
      [["flip", "staging", "--service", "student", "--steps", "1e1"], /--steps "1e1": "1e1" is not a whole percent/],
      [["rollback", "empty", "--service", "student"], /<stack> "empty": it has no services to rollback/],
      [["promote", "--from", "test", "--to", "empty"], /--to "empty": stack "empty" has no service student, subject \(it has none\); add it to Pulumi\.empty\.yaml first/],
      [["promote", "--from", "empty", "--to", "prod"], /--from "empty": it has no services to promote/],
      [["release", "test", "--service", "student", "--image", `${IMG}@sha256:zz`], /--image ".*@sha256:zz": not an image reference/],
      // Paths: unwritable (a directory that takes no new files), a directory for a file, not JSON.
      [["plan", "staging", "--diagram", "/proc/platform-diagram.mmd"], /--diagram "\/proc\/platform-diagram\.mmd": cannot be written \(E[A-Z]+\)/],
      [["plan", "staging", "--policy-config", os.tmpdir()], /--policy-config ".*": is not a file \(a directory\?\); give the file's path/],
      [["plan", "staging", "--policy-config", __filename], /--policy-config ".*cli\.test\.ts": not JSON \(.*\); give a policy config like infra\/policy\/config\/prod\.json/],
      [["preview", "staging", "--policy-config", __filename], /--policy-config ".*cli\.test\.ts": not JSON/],
    ];

    beforeEach(() => {
      h.add(new MemoryStack({ name: "test", environment: "test", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: image("student", "1") }, { name: "subject", active: "blue", blue: image("subject", "1") }] }));
      h.add(new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: image("student", "1"), green: image("student", "2") }, { name: "subject", active: "blue", blue: image("subject", "1") }] }));
      const services = staging.config.get("platform:services");
      assert.ok(Array.isArray(services));
      staging.config.set("platform:services", [...services, { name: "subject", healthPath: "/h", active: "blue", blue: {}, green: {} }]);
      h.world.stacks.set("empty", new MemoryStack({ name: "empty", environment: "staging", baseUrl: h.world.url, services: [] }));
    });

    for (const [argv, message] of bad) {
      it(`exits 1 on \`${argv.join(" ")}\`, naming the argument, before opening any stack`, async () => {
        const c = capture(h);
        assert.equal(await main(argv, c.ctx), ExitCode.Error);
        const first = c.stderr.join("").split("\n")[0] ?? "";
        assert.match(first, /^error: /);
        assert.match(first, message);
        assert.deepEqual([c.depsBuilt.length, c.opened.length], [0, 0], "no dependencies built, no stack opened");
        assert.deepEqual([...h.world.stacks.values()].map((s) => s.calls.length), [...h.world.stacks.values()].map(() => 0), "no stack call");

        const j = capture(h);
        assert.equal(await main([...argv, "--json"], j.ctx), ExitCode.Error);
        assert.equal(j.stderr.join(""), "", "under --json nothing goes to stderr");
        const out = JSON.parse(j.stdout.join("")) as Record<string, unknown>;
        assert.deepEqual(Object.keys(out).sort(), ["exitCode", "message", "operation", "phases", "remediation", "result", "services", "stack"]);
        assert.equal(out["exitCode"], ExitCode.Error);
        assert.equal(out["result"], "failed");
        assert.match(String(out["message"]), message);
        assert.doesNotMatch(String(out["message"]), /\n/, "one line");
        assert.equal(j.depsBuilt.length, 0);
      });
    }
  });

  it("--json may come first, and `help <command>` is that command's help", async () => {
    const j = capture(h);
    assert.equal(await main(["--json", "status", "staging"], j.ctx), ExitCode.Ok);
    assert.equal((JSON.parse(j.stdout.join("")) as Record<string, unknown>)["operation"], "status");
    const c = capture(h);
    assert.equal(await main(["help", "flip"], c.ctx), ExitCode.Ok);
    assert.ok(c.stdout.join("").startsWith("Usage: npm run platform -- flip <stack>"));
  });

  it("an unexpected error while checking the arguments is reported, not thrown (no stack trace)", async () => {
    const c = capture(h);
    const broken = { ...c.ctx, catalog: { names: () => ["staging"], describe: (): never => { throw new Error("Pulumi.staging.yaml: bad indentation of a mapping entry (3:5)"); } } };
    assert.equal(await main(["status", "staging"], broken), ExitCode.Error);
    assert.equal(c.stderr.join(""), "error: Pulumi.staging.yaml: bad indentation of a mapping entry (3:5)\n");
    const j = capture(h);
    assert.equal(await main(["status", "staging", "--json"], { ...j.ctx, catalog: broken.catalog }), ExitCode.Error);
    assert.equal((JSON.parse(j.stdout.join("")) as Record<string, unknown>)["message"], "Pulumi.staging.yaml: bad indentation of a mapping entry (3:5)");
    assert.equal(c.depsBuilt.length + j.depsBuilt.length, 0);
  });

  describe("refuses stacks with placeholders before anything slow (exit 1)", () => {
    const PLACEHOLDER_IMAGE = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.5.0";
    beforeEach(() => {
      h.add(new MemoryStack({ name: "test", environment: "test", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: image("student", "1") }] }));
      staging.config.set("platform:domain", "example.com");
      staging.config.set("platform:cluster", { adminRoleArns: ["arn:aws:iam::123456789012:role/admin"] });
    });

    const refused: ReadonlyArray<[string[], string]> = [
      [["preview", "staging"], '<stack> "staging"'],
      [["up", "staging"], '<stack> "staging"'],
      [["flip", "staging", "--service", "student"], '<stack> "staging"'],
      [["rollback", "staging", "--service", "student"], '<stack> "staging"'],
      [["promote", "--from", "test", "--to", "staging"], '--to "staging"'],
    ];
    for (const [argv, arg] of refused) {
      it(`\`${argv.join(" ")}\` names each placeholder, its key and what to put; nothing is built or opened`, async () => {
        const c = capture(h);
        assert.equal(await main(argv, c.ctx), ExitCode.Error);
        const lines = c.stderr.join("").split("\n");
        assert.equal(lines[0], `error: ${arg}: Pulumi.staging.yaml holds 2 placeholders (example accounts, documentation addresses or domains, template markers) that AWS would reject; replace them with your own values before a real operation`);
        assert.match(lines[1] ?? "", /^ {2}- platform:domain: "example\.com": example\.com is a reserved example or special-use domain \(RFC 2606 \/ RFC 6761\); put a public hosted zone of your account in Route 53/);
        assert.match(lines[2] ?? "", /^ {2}- platform:cluster\.adminRoleArns\[0\]: "arn:aws:iam::123456789012:role\/admin": 123456789012 is an example account id from the AWS documentation, not your account; put the ARN of an IAM role/);
        assert.match(lines[3] ?? "", /`npm run platform -- plan staging` lists them offline/);
        assert.deepEqual([c.depsBuilt.length, c.opened.length], [0, 0], "no dependencies built, no stack opened");
        assert.deepEqual([...h.world.stacks.values()].map((s) => s.calls.length), [...h.world.stacks.values()].map(() => 0), "no stack call");

        const j = capture(h);
        assert.equal(await main([...argv, "--json"], j.ctx), ExitCode.Error);
        const out = JSON.parse(j.stdout.join("")) as { exitCode: number; result: string; message: string; remediation: string[] };
        assert.equal(out.exitCode, ExitCode.Error);
        assert.equal(out.result, "failed");
        assert.match(out.message, /holds 2 placeholders /);
        assert.equal(out.remediation.length, 3);
        assert.equal(j.depsBuilt.length, 0);
      });
    }

    it("promote checks the source stack too, and release refuses a placeholder image argument", async () => {
      const test = h.world.stacks.get("test") ?? assert.fail();
      staging.config.delete("platform:domain");
      staging.config.delete("platform:cluster");
      test.config.set("platform:edge", { alarmEmails: ["ops@example.org"] });
      const c = capture(h);
      assert.equal(await main(["promote", "--from", "test", "--to", "staging"], c.ctx), ExitCode.Error);
      assert.match(c.stderr.join(""), /^error: --from "test": Pulumi\.test\.yaml holds 1 placeholder [^\n]*replace it with your own values[\s\S]*platform:edge\.alarmEmails\[0\]: "ops@example\.org"[^\n]*put a mailbox someone on call reads/);
      test.config.delete("platform:edge");
      const r = capture(h);
      assert.equal(await main(["release", "test", "--service", "student", "--image", PLACEHOLDER_IMAGE], r.ctx), ExitCode.Error);
      assert.match(r.stderr.join(""), /^error: --image "123456789012\.dkr[^"]*": 123456789012 is a placeholder \(example account\)/);
      assert.equal(r.depsBuilt.length, 0);
    });

    it("a bootstrap setting still on is a warning on stderr; the operation runs", async () => {
      staging.config.delete("platform:domain");
      // A real address: a documentation one would be refused as a placeholder.
      staging.config.set("platform:cluster", { bootstrapAccessCidr: "34.64.12.7/32" });
      const c = capture(h);
      assert.equal(await main(["preview", "staging"], c.ctx), ExitCode.Ok, c.stderr.join("") + c.stdout.join(""));
      assert.match(c.stderr.join(""), /^warning: staging: platform:cluster\.bootstrapAccessCidr is set \(34\.64\.12\.7\/32\): the cluster's API endpoint is public to that address/);
      assert.equal(staging.count("preview"), 1);
      const j = capture(h);
      assert.equal(await main(["up", "staging", "--json"], j.ctx), ExitCode.Ok);
      assert.match(j.stderr.join(""), /^warning: staging: platform:cluster\.bootstrapAccessCidr is set/);
      assert.equal((JSON.parse(j.stdout.join("")) as { operation: string }).operation, "up", "stdout stays one JSON object");
    });

    it("a placeholder in the environment's policy config (prod's own ECR registry) is refused the same way", async () => {
      h.add(new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: image("student", "1") }] }));
      const c = capture(h);
      assert.equal(await main(["preview", "prod"], c.ctx), ExitCode.Error);
      const lines = c.stderr.join("").split("\n");
      assert.match(lines[0] ?? "", /^error: <stack> "prod": its policy config infra\/policy\/config\/prod\.json holds 1 placeholder /);
      assert.match(lines[1] ?? "", /^ {2}- infra\/policy\/config\/prod\.json: k8s-image-registry\.registries\[0\]: "123456789012\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com": 123456789012 is an example account id/);
      assert.deepEqual([c.depsBuilt.length, c.opened.length], [0, 0], "no dependencies built, no stack opened");
    });

    it("status only reads, so it still runs", async () => {
      const c = capture(h);
      assert.equal(await main(["status", "staging"], c.ctx), ExitCode.Ok);
    });

    it("the shipped example stacks are refused through the repository's stack files (the CLI's default catalog)", async () => {
      for (const argv of [["up", "prod"], ["preview", "staging"], ["promote", "--from", "staging", "--to", "prod"], ["flip", "prod", "--service", "student"], ["release", "test", "--service", "student", "--image", image("student", "9")]]) {
        const stderr: string[] = [];
        const ctx: CommandContext = {
          io: { stdout: () => undefined, stderr: (t) => stderr.push(t), env: {}, isTTY: false },
          signal: h.controller.signal,
          deps: () => assert.fail("dependencies built for a stack with placeholders"),
        };
        assert.equal(await main(argv, ctx), ExitCode.Error, argv.join(" "));
        assert.match(stderr.join(""), /holds \d+ placeholders? [^\n]*\n {2}- platform:/, argv.join(" "));
      }
    });
  });

  it("status --json prints the outcome object", async () => {
    const c = capture(h);
    assert.equal(await main(["status", "staging", "--json"], c.ctx), ExitCode.Ok);
    const out = JSON.parse(c.stdout.join("")) as { operation: string; exitCode: number; status: Array<{ service: string; active: string }> };
    assert.equal(out.operation, "status");
    assert.deepEqual(out.status.map((s) => [s.service, s.active]), [["student", "blue"]]);
  });

  it("flip runs the driver and returns its exit code; policy flags reach the preview", async () => {
    const c = capture(h);
    assert.equal(await main(["flip", "staging", "--service", "student"], c.ctx), ExitCode.Ok);
    assert.match(c.stdout.join(""), /✔ flip staging: succeeded \(exit 0\)[\s\S]*student blue -> green/);
    assert.equal(staging.count("up"), 1);
    assert.match(h.summaries.join(""), /### flip `staging`: succeeded/, "a record in the CI step summary");

    const p = capture(h);
    const config = path.join(POLICY_DIR, "config", "staging.json");
    assert.equal(await main(["preview", "staging", "--policy-pack", POLICY_DIR, "--policy-config", config], p.ctx), ExitCode.Ok);
    assert.deepEqual(staging.calls.filter((x) => x.op === "preview").pop()?.policyPacks, [POLICY_DIR]);
    assert.deepEqual(staging.calls.filter((x) => x.op === "preview").pop()?.policyPackConfigs, [config]);
  });

  it("flip --steps runs the canary steps given, then the switch", async () => {
    const c = capture(h);
    h.metrics.requestsPerSecond = 50;
    assert.equal(await main(["flip", "staging", "--service", "student", "--steps", "5, 30"], c.ctx), ExitCode.Ok, c.stdout.join(""));
    assert.match(c.stdout.join(""), /after canary steps 5\/30%: verified/);
    assert.deepEqual(h.lb.timeline("staging", "student").map((t) => t.weights.green), [0, 5, 30, 100]);
    assert.equal(staging.count("up"), 3);
  });

  it("a refused promotion exits 5 and prints the next steps", async () => {
    h.add(new MemoryStack({ name: "test", environment: "test", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: image("student", "3") }] }));
    const c = capture(h);
    assert.equal(await main(["promote", "--from", "test", "--to", "staging"], c.ctx), ExitCode.Refused);
    assert.match(c.stdout.join(""), /⛔ promote staging: refused \(exit 5\)[\s\S]*next steps:/);
  });

  it("commands register once; a new command (e.g. plan) plugs into the same registry", async () => {
    assert.throws(() => registerCommand({ ...(commands()[0] ?? assert.fail()), name: "status" }), /registered twice/);
    registerCommand({
      name: "plan-probe",
      summary: "test-only command",
      usage: "plan-probe <stack>",
      description: "",
      options: {},
      positionals: ["stack"],
      run: (args) => Promise.resolve({ exitCode: 0, human: `planned ${args.positionals[0] ?? ""}\n`, json: { stack: args.positionals[0] } }),
    });
    const c = capture(h);
    assert.equal(await main(["plan-probe", "prod", "--json"], c.ctx), ExitCode.Ok);
    assert.deepEqual(JSON.parse(c.stdout.join("")), { stack: "prod" });
  });
});

describe("automation: Pulumi CLI bootstrap", () => {
  /** A PulumiCommand whose `version` compares as the given version would. */
  function cli(version: string | null): PulumiCommand {
    const c = Object.create(PulumiCommand.prototype) as PulumiCommand;
    Object.defineProperty(c, "version", { value: version === null ? null : { compare: (v: string) => (v === version ? 0 : v < version ? 1 : -1), toString: () => version } });
    return c;
  }

  it("tries PATH, then the cache, then installs the SDK's version; explains a failed download", async () => {
    const calls: string[] = [];
    const installer = {
      get: (opts?: { root?: string }) => {
        calls.push(opts?.root === undefined ? "get(PATH)" : `get(${opts.root})`);
        return Promise.reject(new Error("ENOENT"));
      },
      install: (opts: { root: string }) => {
        calls.push(`install(${opts.root})`);
        return Promise.reject(new Error("Failed to download https://get.pulumi.com/install.sh: fetch failed"));
      },
    };
    const root = path.join(os.tmpdir(), `pulumi-cli-test-${process.pid}`);
    await assert.rejects(ensurePulumiCommand(root, installer), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, new RegExp(`no pulumi CLI ${SDK_VERSION.replace(/\./g, "\\.")} \\(the version of @pulumi/pulumi\\) is installed and it could not be downloaded into .*fetch failed`));
      return true;
    });
    assert.deepEqual(calls, ["get(PATH)", `get(${root})`, `install(${root})`]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("the pinned version is the SDK's, as package-lock.json pins it", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    assert.equal(SDK_VERSION, lock.packages["node_modules/@pulumi/pulumi"]?.version);
  });

  it("uses a cached installation of the pinned version without downloading", async () => {
    const cached = cli(SDK_VERSION);
    const installer = {
      get: (opts?: { root?: string }) => (opts?.root === undefined ? Promise.reject(new Error("ENOENT")) : Promise.resolve(cached)),
      install: () => Promise.reject(new Error("must not download")),
    };
    assert.equal(await ensurePulumiCommand("/cache", installer), cached);
  });

  for (const [name, onPath] of [
    ["newer", "9.0.0"],
    ["older", "3.202.0"],
    ["unversioned (a plain go build)", null],
  ] as const) {
    it(`skips a ${name} CLI on PATH for the pinned one`, async () => {
      const pinned = cli(SDK_VERSION);
      const installer = {
        get: (opts?: { root?: string }) => Promise.resolve(opts?.root === undefined ? cli(onPath) : pinned),
        install: () => Promise.reject(new Error("must not download")),
      };
      assert.equal(await ensurePulumiCommand("/cache", installer), pinned);
    });
  }
});
