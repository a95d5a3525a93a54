/**
 * Secrets never print: not in a config error (unknown keys that look secret, `secure:` values,
 * values nested under secret-looking keys), not in `plan`'s output or its JSON, not in the golden
 * summaries, not in a Discord notification built from the error. The typo suggestion still names
 * the secret key it should be.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { discordEmbed } from "../automation/adapters/discord";
import { main } from "../automation/cli";
import type { CommandContext } from "../automation/cli/registry";
import { plan } from "../automation/plan";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import { looksSecret, mayBeSecret, redactValue } from "../infra/config/redact";
import { Json, MOCK_SECRET_VALUE, readStackConfig, REPO_ROOT, settleStack, StackConfig } from "./stack";

type Obj = { [key: string]: Json };

const WEBHOOK = "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz-0123456789";
const CIPHERTEXT = "v1:Zm9vYmFyYmF6cXV4cXV1eA==:c2VjcmV0Y2lwaGVydGV4dHZhbHVlLXNob3VsZC1uZXZlci1wcmludA==";
const PASSWORD = "hunter2-correct-horse-battery";

/** Every form a secret of these tests takes; none may appear in any output. */
const SECRETS = [WEBHOOK, CIPHERTEXT, PASSWORD, MOCK_SECRET_VALUE, "AbCdEfGhIjKlMnOpQrStUvWxYz"];

function assertNoSecret(text: string, where: string): void {
  for (const s of SECRETS) {
    assert.ok(!text.includes(s), `${where} prints a secret (${s.slice(0, 24)}...):\n${text}`);
  }
}

async function configError(stack: string, mutate: (c: StackConfig) => void): Promise<ConfigError> {
  const settled = await settleStack(stack, mutate);
  assert.ok(settled.error instanceof ConfigError, `expected a ConfigError, got ${String(settled.error)}`);
  assert.equal(settled.evaluation.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 0);
  return settled.error;
}

describe("secrets never print", () => {
  const cases: Array<{ name: string; mutate: (c: StackConfig) => void; key: string; fix?: RegExp }> = [
    {
      name: "a misspelt secret key in plain text",
      mutate: (c) => (c["platform:discordWebhookURL"] = WEBHOOK),
      key: "platform:discordWebhookURL",
      fix: /did you mean "platform:discordWebhookUrl"\? \(store it with `pulumi config set --secret`\)/,
    },
    {
      name: "a misspelt secret key stored as a secure value",
      mutate: (c) => (c["platform:discordWebhookURL"] = { secure: CIPHERTEXT }),
      key: "platform:discordWebhookURL",
      fix: /did you mean "platform:discordWebhookUrl"\?/,
    },
    {
      name: "an unknown key holding a secure value (its name looks harmless)",
      mutate: (c) => (c["platform:alertChannel"] = { secure: CIPHERTEXT }),
      key: "platform:alertChannel",
    },
    {
      name: "an unknown nested password",
      mutate: (c) => ((c["platform:database"] as Obj)["masterPassword"] = PASSWORD),
      key: "platform:database.masterPassword",
      fix: /valid keys here are/,
    },
    {
      name: "a misspelt nested password (a typo of a secret word)",
      mutate: (c) => ((c["platform:database"] as Obj)["masterPasword"] = PASSWORD),
      key: "platform:database.masterPasword",
    },
    {
      name: "a misspelt webhook key whose words are all typos",
      mutate: (c) => (c["platform:discrodWebhok"] = WEBHOOK),
      key: "platform:discrodWebhok",
    },
    {
      name: "an unknown nested api key",
      mutate: (c) => ((c["platform:network"] as Obj)["apiKey"] = PASSWORD),
      key: "platform:network.apiKey",
    },
    {
      name: "an unknown section with a webhook and a token inside",
      mutate: (c) => (c["platform:alerting"] = { webhookUrl: WEBHOOK, channel: "ops", auth: { token: PASSWORD } }),
      key: "platform:alerting",
    },
    {
      name: "a secret in a service's environment (a key the platform sets)",
      mutate: (c) => (((c["platform:services"] as Obj[])[0] as Obj)["env"] = { DB_PASSWORD: PASSWORD }),
      key: "platform:services[0].env.DB_PASSWORD",
    },
    {
      name: "a webhook given where a domain belongs",
      mutate: (c) => (c["platform:domain"] = WEBHOOK),
      key: "platform:domain",
    },
    {
      name: "a known secret key stored in plain text",
      mutate: (c) => (c["platform:discordWebhookUrl"] = WEBHOOK),
      key: "platform:discordWebhookUrl",
      fix: /store it encrypted/,
    },
    {
      name: "a misspelt namespace holding a secret",
      mutate: (c) => (c["platfrom:discordWebhookUrl"] = WEBHOOK),
      key: "platfrom:discordWebhookUrl",
      fix: /did you mean "platform:discordWebhookUrl"\?/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the key is named, the value is not printed`, async () => {
      const err = await configError("prod", c.mutate);
      assertNoSecret(err.message, "the ConfigError");
      assertNoSecret(JSON.stringify(err.problems), "the ConfigError's problems");
      const line = err.message.split("\n").find((l) => l.startsWith(`  - ${c.key}: `));
      assert.ok(line !== undefined, err.message);
      if (c.fix !== undefined) {
        assert.match(line, c.fix);
      }
    });
  }

  it("plan prints the config error and its --json without the secret", async () => {
    const err = await plan({ stack: "prod", mutate: (c) => (c["platform:discordWebhookURL"] = { secure: CIPHERTEXT }) }).then(
      () => assert.fail("accepted"),
      (e: unknown) => e as Error,
    );
    assertNoSecret(err.message, "plan's error");
    assert.match(err.message, /platform:discordWebhookURL: unknown config key \(value: "\[secret\]"\)/);
  });

  it("a valid stack with a secure webhook: plan's output and JSON never show the decrypted value", async () => {
    const out = await plan({ stack: "staging", mutate: (c) => (c["platform:discordWebhookUrl"] = { secure: CIPHERTEXT }) });
    assert.equal(out.exitCode, 0, out.human);
    assertNoSecret(out.human, "plan's output");
    assertNoSecret(JSON.stringify(out.json), "plan's JSON");
  });

  it("the CLI's plan (stderr and --json) under a stack file whose misspelt key holds a secret", async () => {
    const name = "prod-secret-typo";
    const file = path.join(REPO_ROOT, `Pulumi.${name}.yaml`);
    const config = readStackConfig("prod");
    config["platform:discordWebhookURL"] = WEBHOOK;
    fs.writeFileSync(file, `config:\n${Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n")}\n`);
    try {
      for (const argv of [["plan", name], ["plan", name, "--json"]]) {
        const stdout: string[] = [];
        const stderr: string[] = [];
        const ctx: CommandContext = {
          io: { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {}, isTTY: false },
          signal: new AbortController().signal,
          deps: () => assert.fail("plan builds no driver dependencies"),
        };
        assert.equal(await main(argv, ctx), 1);
        const text = stdout.join("") + stderr.join("");
        assertNoSecret(text, argv.join(" "));
        assert.match(text, /did you mean \\?"platform:discordWebhookUrl\\?"\?/);
        assert.doesNotMatch(text, /\n\s+at /, "no stack trace");
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("a Discord notification of the failed deployment carries the error without the secret", async () => {
    const err = await configError("prod", (c) => (c["platform:alerting"] = { webhookUrl: WEBHOOK, token: PASSWORD }));
    const embed = discordEmbed(
      { kind: "promote", stack: "prod", source: "staging", services: [], result: "failed", exitCode: 1, startedAt: 0, durationMs: 1, phases: [], error: err.message },
      [],
    );
    assertNoSecret(JSON.stringify(embed), "the Discord embed");
    assert.match(embed.description ?? "", /platform:alerting: unknown config key/);
  });

  it("the golden summaries hold no secret value", () => {
    const dir = path.join(REPO_ROOT, "test", "golden");
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), "utf8");
      assertNoSecret(text, `test/golden/${f}`);
      assert.doesNotMatch(text, /discord(app)?\.com\/api\/webhooks/);
    }
  });

  it("which keys look secret, and how nested values are scrubbed (pure)", () => {
    for (const k of ["discordWebhookUrl", "discordWebhookURL", "password", "dbPassword", "api_key", "apiKey", "secretAccessKey", "token", "GITHUB_TOKEN", "privateKey", "credentials"]) {
      assert.equal(looksSecret(k), true, k);
    }
    for (const k of ["key", "keepImages", "monkey", "domain", "tags", "environment", "taints", "keys"]) {
      assert.equal(looksSecret(k), false, k);
    }
    // Unknown keys are judged more loosely: a typo of a secret word counts.
    for (const k of ["masterPasword", "discordWebhok", "slackTokn", "apiSecert", "credentails"]) {
      assert.equal([looksSecret(k), mayBeSecret(k)].join(), "false,true", k);
    }
    for (const k of ["domain", "replicas", "tags", "alertChannel", "keepImages"]) {
      assert.equal(mayBeSecret(k), false, k);
    }
    assert.deepEqual(redactValue({ channel: "ops", webhookUrl: "x", nested: [{ password: "p" }, { secure: "v1:x" }], url: WEBHOOK, db: "mysql://u:p@h/db" }), {
      channel: "ops",
      webhookUrl: "[secret]",
      nested: [{ password: "[secret]" }, "[secret]"],
      url: "[secret]",
      db: "[secret]",
    });
  });

  it("a value that only looks like a secret in its key is still validated (its problem is named, the value hidden)", () => {
    const raw: Record<string, Json> = {};
    for (const [k, v] of Object.entries(readStackConfig("test"))) {
      if (k.startsWith("platform:")) {
        raw[k.slice("platform:".length)] = v;
      }
    }
    raw["registry"] = { owner: false, keepImages: 50, dockerHubCache: { credentialArn: PASSWORD, createRule: true } };
    const err = (() => {
      try {
        parsePlatformConfig("test", raw, "ap-northeast-2");
      } catch (e) {
        return e as Error;
      }
      return assert.fail("accepted");
    })();
    assert.match(err.message, /platform:registry\.dockerHubCache\.credentialArn: must be a Secrets Manager secret named ecr-pullthroughcache\/<name>/);
    assertNoSecret(err.message, "the error");
  });
});
