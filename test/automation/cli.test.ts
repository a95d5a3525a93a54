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
import { main, registerBuiltins } from "../../automation/cli";
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
}

function capture(h: Harness): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    ctx: {
      io: { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {}, isTTY: false },
      signal: h.controller.signal,
      deps: (req) => h.deps({ policyFor: () => ({ packs: [...req.policyPacks], configs: [...req.policyConfigs] }) }),
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

  const usage: ReadonlyArray<[string[], RegExp]> = [
    [["deploy"], /unknown command "deploy"/],
    [["status"], /missing <stack>/],
    [["status", "a", "b"], /unexpected argument "b"/],
    [["flip", "staging"], /--service is required/],
    [["flip", "staging", "--service", "student", "--to", "purple"], /--to must be blue or green/],
    [["promote", "--from", "test"], /--to is required/],
    [["release", "test", "--service", "a", "--service", "b", "--image", "r/a:1"], /in pairs \(got 2 service\(s\), 1 image\(s\)\)/],
    [["up", "staging", "--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of usage) {
    it(`exits 1 on \`${argv.join(" ")}\``, async () => {
      const c = capture(h);
      assert.equal(await main(argv, c.ctx), ExitCode.Error);
      assert.match(c.stderr.join(""), message);
      assert.equal(staging.calls.length, 0);
    });
  }

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
    assert.equal(await main(["preview", "staging", "--policy-pack", "/packs/platform", "--policy-config", "/packs/staging.json"], p.ctx), ExitCode.Ok);
    assert.deepEqual(staging.calls.filter((x) => x.op === "preview").pop()?.policyPacks, ["/packs/platform"]);
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
