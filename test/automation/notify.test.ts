/**
 * The Discord notifier against a real local HTTP server that records the webhook posts:
 * payload, retries, failures that never throw, and no secrets on the wire.
 */
import { strict as assert } from "assert";
import { DiscordNotifier, secretValues } from "../../automation/adapters/discord";
import { DeploymentReport } from "../../automation/ports";
import { FakeClock, image, Loopback, Reply, startServer } from "./loopback";

const REPORT: DeploymentReport = {
  kind: "flip",
  stack: "prod",
  services: [{ service: "student", fromColor: "blue", toColor: "green", oldImage: image("student", "1"), newImage: image("student", "2") }],
  result: "succeeded",
  exitCode: 0,
  startedAt: Date.UTC(2025, 0, 1),
  durationMs: 9_000,
  phases: [{ name: "flip", durationMs: 8_000, ok: true }],
  runUrl: "https://github.com/acme/platform/actions/runs/5",
  actor: "octo",
};

describe("automation: Discord notifications (local webhook server)", function () {
  let server: Loopback | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function webhook(replies: Reply[]): Promise<string> {
    let n = 0;
    server = await startServer(() => replies[Math.min(n++, replies.length - 1)] ?? { status: 204 });
    return `${server.url}/api/webhooks/111/very-secret-token`;
  }

  it("posts one embed as JSON and reports delivery", async () => {
    const url = await webhook([{ status: 204 }]);
    const clock = new FakeClock();
    const out = await new DiscordNotifier(url, clock).notify(REPORT);
    assert.deepEqual(out, { delivered: true, detail: "delivered (HTTP 204)" });
    assert.equal(server?.requests.length, 1);
    const req = server?.requests[0];
    assert.equal(req?.method, "POST");
    assert.equal(req?.path, "/api/webhooks/111/very-secret-token");
    assert.equal(req?.headers["content-type"], "application/json");
    const body = JSON.parse(req?.body ?? "{}") as { username: string; allowed_mentions: { parse: string[] }; embeds: Array<{ title: string; url: string; fields: Array<{ name: string; value: string }> }> };
    assert.equal(body.username, "platform");
    assert.deepEqual(body.allowed_mentions, { parse: [] }, "a deployment message never pings anyone");
    assert.equal(body.embeds.length, 1);
    assert.equal(body.embeds[0]?.title, "✅ flip prod: succeeded");
    assert.equal(body.embeds[0]?.url, "https://github.com/acme/platform/actions/runs/5");
    assert.deepEqual(body.embeds[0]?.fields.map((f) => f.name), ["Stack", "Result", "Duration", "student", "Phases", "By"]);
    assert.ok(!(req?.body ?? "").includes("very-secret-token"), "the webhook URL is not echoed into the message");
  });

  it("retries once after a 429 with retry_after, then succeeds", async () => {
    const url = await webhook([{ status: 429, body: '{"retry_after": 0.25}' }, { status: 204 }]);
    const clock = new FakeClock();
    const out = await new DiscordNotifier(url, clock).notify(REPORT);
    assert.equal(out.delivered, true);
    assert.deepEqual(clock.sleeps, [250]);
    assert.equal(server?.requests.length, 2);
  });

  it("a 5xx twice is reported, not thrown", async () => {
    const url = await webhook([{ status: 502 }]);
    const out = await new DiscordNotifier(url, new FakeClock()).notify(REPORT);
    assert.deepEqual(out, { delivered: false, detail: "notification failed: HTTP 502" });
    assert.equal(server?.requests.length, 2);
  });

  it("a 4xx is not retried", async () => {
    const url = await webhook([{ status: 404, body: '{"message":"Unknown Webhook"}' }]);
    const out = await new DiscordNotifier(url, new FakeClock()).notify(REPORT);
    assert.equal(out.delivered, false);
    assert.equal(server?.requests.length, 1);
  });

  it("an unreachable webhook is reported without leaking its URL", async () => {
    const url = await webhook([{ status: 204 }]);
    await server?.close();
    server = undefined;
    const out = await new DiscordNotifier(url, new FakeClock(), [], 500).notify(REPORT);
    assert.equal(out.delivered, false);
    assert.match(out.detail, /ECONNREFUSED|connect/);
    assert.ok(!out.detail.includes("very-secret-token"));
  });

  it("scrubs secret environment values from every field", async () => {
    const url = await webhook([{ status: 204 }]);
    const env = { PULUMI_CONFIG_PASSPHRASE: "correct-horse-battery", AWS_SESSION_TOKEN: "FwoGZXIvYXdzEXAMPLE", GITHUB_TOKEN: "" };
    const secrets = secretValues(env);
    assert.deepEqual(secrets, ["correct-horse-battery", "FwoGZXIvYXdzEXAMPLE"]);
    await new DiscordNotifier(url, new FakeClock(), secrets).notify({
      ...REPORT,
      result: "manual intervention",
      exitCode: 4,
      error: "restore failed: passphrase correct-horse-battery rejected; token FwoGZXIvYXdzEXAMPLE expired",
      actor: "octo",
    });
    const body = server?.requests[0]?.body ?? "";
    assert.ok(!body.includes("correct-horse-battery"));
    assert.ok(!body.includes("FwoGZXIvYXdzEXAMPLE"));
    assert.ok(body.includes("restore failed: passphrase *** rejected"));
  });
});
