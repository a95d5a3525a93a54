/**
 * No config crashes the program: each shape below ends in a ConfigError naming the key, the value
 * and the fix, before a single resource is declared, and `plan` prints it (exit 1, no stack
 * trace; one JSON object under --json). Cases that used to crash are named after what they did.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { main } from "../automation/cli";
import type { CommandContext } from "../automation/cli/registry";
import { ConfigError } from "../infra/config/load";
import { Json, readStackConfig, REPO_ROOT, settleStack, StackConfig } from "./stack";

type Obj = { [key: string]: Json };

const service = (c: StackConfig, i: number): Obj => (c["platform:services"] as Obj[])[i] as Obj;

async function refused(stack: string, mutate: (c: StackConfig) => void): Promise<ConfigError> {
  const settled = await settleStack(stack, mutate);
  assert.ok(settled.error instanceof ConfigError, `expected a ConfigError, got ${settled.error instanceof Error ? `${settled.error.name}: ${settled.error.message}` : String(settled.error)}`);
  const declared = settled.evaluation.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  assert.equal(declared.length, 0, `declared before the error: ${declared.map((r) => r.name).join(", ")}`);
  for (const line of settled.error.message.split("\n").slice(1)) {
    assert.match(line, /^ {2}- \S.*: .+ \(value: .*\)\. Fix: .+$/, "one line per problem: key, problem, value, fix");
  }
  return settled.error;
}

describe("no config crashes the program", () => {
  const cases: Array<{ name: string; stack: string; mutate: (c: StackConfig) => void; expect: RegExp }> = [
    {
      name: "a prod stack without services (crashed in Edge.publish after declaring 145 resources)",
      stack: "prod",
      mutate: (c) => (c["platform:services"] = []),
      expect: /platform:services: is empty: the stack's ALB is built from the services' Ingresses/,
    },
    {
      name: "an old cluster version (threw in the cluster autoscaler after 56 resources)",
      stack: "prod",
      mutate: (c) => ((c["platform:cluster"] as Obj)["version"] = "1.28"),
      expect: /platform:cluster\.version: "1\.28" is not a Kubernetes version EKS supports/,
    },
    {
      name: "a service with the images bucket off (threw in TestHost)",
      stack: "test",
      mutate: (c) => ((c["platform:imagesBucket"] as Obj)["enabled"] = false),
      expect: /platform:services\[0\]\.imageBucketAccess: is true for service "student" but imagesBucket\.enabled is false/,
    },
    {
      name: "an environment variable the platform sets (threw in TestHost)",
      stack: "test",
      mutate: (c) => (service(c, 0)["env"] = { DB_HOST: "elsewhere" }),
      expect: /platform:services\[0\]\.env\.DB_HOST: is set by the platform in every container of service "student"/,
    },
    {
      name: "a quoted number inside a section",
      stack: "prod",
      mutate: (c) => ((c["platform:waf"] as Obj)["rateLimitPer5Min"] = "2000"),
      expect: /platform:waf\.rateLimitPer5Min: is the text "2000", not a number \(value: "2000"\)\. Fix: write 2000 without quotes/,
    },
    {
      name: "an environment variable name that is not one (the pattern is said)",
      stack: "staging",
      mutate: (c) => (service(c, 0)["env"] = { "1ST-VAR": "x" }),
      expect: /platform:services\[0\]\.env\.1ST-VAR: the key "1ST-VAR" is not valid: it must be an environment variable name: a letter or '_', then letters, digits or '_' \(pattern \^\[A-Za-z_\]\[A-Za-z0-9_\]\*\$\)/,
    },
    {
      name: "a node label key that is not one (the pattern is said)",
      stack: "prod",
      mutate: (c) => (((c["platform:cluster"] as Obj)["nodeGroups"] as Obj[])[0]["labels"] = { "team name": "x" }),
      expect: /labels\.team name: the key "team name" is not valid: it must be a Kubernetes label key: .*\(pattern /,
    },
    {
      name: "a section given as text",
      stack: "prod",
      mutate: (c) => (c["platform:database"] = "mariadb"),
      expect: /platform:database: must be a map, not a string \(value: "mariadb"\)/,
    },
    {
      name: "a list where a map belongs",
      stack: "staging",
      mutate: (c) => (c["platform:cluster"] = ["enabled"]),
      expect: /platform:cluster: must be a map, not a list/,
    },
    {
      name: "services given as a map",
      stack: "test",
      mutate: (c) => (c["platform:services"] = { student: {} }),
      expect: /platform:services: must be a list, not a map/,
    },
    {
      name: "a required field removed",
      stack: "prod",
      mutate: (c) => delete service(c, 1)["port"],
      expect: /platform:services\[1\]\.port: is required \(number\) \(value: unset\)\. Fix: set it: pulumi config set --path 'platform:services\[1\]\.port' <number>/,
    },
    {
      name: "a newline inside a value (one line per problem)",
      stack: "prod",
      mutate: (c) => (service(c, 0)["active"] = "blue\ngreen"),
      expect: /platform:services\[0\]\.active: "blue\\ngreen" is not a color/,
    },
    {
      name: "a misspelt namespace",
      stack: "prod",
      mutate: (c) => {
        c["platfrom:database"] = c["platform:database"] as Json;
      },
      expect: /platfrom:database: is in namespace "platfrom", which nothing reads .*Fix: did you mean "platform:database"\?/,
    },
    {
      name: "no region",
      stack: "staging",
      mutate: (c) => delete c["aws:region"],
      expect: /aws:region: is not set/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const err = await refused(c.stack, c.mutate);
      assert.match(err.message, c.expect);
    });
  }
});

describe("plan prints a broken stack file's ConfigError cleanly (exit 1, no stack trace)", () => {
  const name = "prod-broken";
  const file = path.join(REPO_ROOT, `Pulumi.${name}.yaml`);
  afterEach(() => fs.rmSync(file, { force: true }));

  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const ctx: CommandContext = {
      io: { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {}, isTTY: false },
      signal: new AbortController().signal,
      deps: () => assert.fail("plan builds no driver dependencies"),
    };
    const code = await main(argv, ctx);
    return { code, out: stdout.join(""), err: stderr.join("") };
  }

  const prodLines = (): string =>
    Object.entries(readStackConfig("prod"))
      .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
      .join("\n");
  const files: Array<{ name: string; text: string; expect: RegExp }> = [
    { name: "a document that is a list", text: "- config\n- platform:environment\n", expect: /Pulumi\.prod-broken\.yaml: is a list, not a map of stack settings/ },
    { name: "a document that is text", text: "just some text\n", expect: /Pulumi\.prod-broken\.yaml: is text \("just some text"\), not a map of stack settings/ },
    { name: "config: given as text", text: "config: platform:environment=prod\n", expect: /config: is text \("platform:environment=prod"\), not a map of keys/ },
    { name: "config: given as a list", text: "config:\n  - platform:environment: prod\n", expect: /config: is a list, not a map of keys/ },
    { name: "not YAML", text: "config:\n  platform:environment: [prod\n", expect: /Pulumi\.prod-broken\.yaml: is not valid YAML: / },
    { name: "a key twice", text: "config:\n  aws:region: ap-northeast-2\n  aws:region: us-east-1\n", expect: /is not valid YAML: Map keys must be unique/ },
    { name: "keys without a namespace", text: "config:\n  environment: prod\n", expect: /config\.environment: is not a namespaced key \(namespace:key\).*Fix: write it as platform:environment/ },
  ];
  for (const f of files) {
    it(f.name, async () => {
      fs.writeFileSync(file, f.text);
      const human = await run(["plan", name]);
      assert.equal(human.code, 1, human.out + human.err);
      assert.match(human.err, /^error: Invalid config for stack "prod-broken" \(1 problem\):\n/);
      assert.match(human.err, f.expect);
      assert.doesNotMatch(human.err, /\n\s+at /, "no stack trace");
      const json = await run(["plan", name, "--json"]);
      assert.equal(json.code, 1);
      const outcome = JSON.parse(json.out) as { exitCode: number; message: string };
      assert.equal(outcome.exitCode, 1);
      assert.match(outcome.message, f.expect);
    });
  }

  it("a valid file under a scratch name is planned as prod (the stack name decides)", async () => {
    fs.writeFileSync(file, `config:\n${prodLines()}\n`);
    const human = await run(["plan", name]);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /^plan prod-broken \(environment prod;/);
  });
});
