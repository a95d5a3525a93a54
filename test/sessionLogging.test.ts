/** Session Manager sessions on the bastion leave a transcript in an encrypted log group. */
import { strict as assert } from "assert";
import { evaluateStack, Evaluation, Json, named, ofType, shippedStack } from "./stack";

const DOCUMENT = "aws:ssm/document:Document";
type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});

describe("Session Manager session logging", () => {
  let prod: Evaluation;
  before(async () => {
    prod = await shippedStack("prod");
  });

  it("prod declares the account's session preferences: transcripts streamed to an encrypted log group", () => {
    const doc = named(prod, DOCUMENT, "prod-ssm-sessions-preferences").inputs;
    assert.equal(doc["name"], "SSM-SessionManagerRunShell", "the one document Session Manager reads its preferences from");
    assert.equal(doc["documentType"], "Session");
    assert.equal(doc["documentFormat"], "JSON");
    const content = JSON.parse(String(doc["content"])) as Obj;
    assert.equal(content["schemaVersion"], "1.0");
    assert.equal(content["sessionType"], "Standard_Stream");
    const inputs = o(content["inputs"]);
    assert.equal(inputs["cloudWatchLogGroupName"], "/aws/ssm/sessions/prod-ssm-sessions");
    assert.equal(inputs["cloudWatchEncryptionEnabled"], true);
    assert.equal(inputs["cloudWatchStreamingEnabled"], true);
    const group = named(prod, "aws:cloudwatch/logGroup:LogGroup", "prod-ssm-sessions-logs").inputs;
    assert.equal(group["name"], inputs["cloudWatchLogGroupName"]);
    assert.equal(group["kmsKeyId"], "arn:aws:kms:ap-northeast-2:123456789012:key/prod-ssm-sessions-kms");
    assert.equal(group["retentionInDays"], 90);
  });

  it("the key lets CloudWatch Logs use it for that log group only, and rotates", () => {
    const key = named(prod, "aws:kms/key:Key", "prod-ssm-sessions-kms").inputs;
    assert.equal(key["enableKeyRotation"], true);
    const statements = (JSON.parse(String(key["policy"])) as { Statement: Obj[] }).Statement;
    const logs = statements.find((s) => s["Sid"] === "CloudWatchLogsEncryptsTheSessionLogGroup");
    assert.ok(logs);
    assert.deepEqual(logs["Principal"], { Service: ["logs.ap-northeast-2.amazonaws.com"] });
    assert.deepEqual(logs["Condition"], {
      ArnEquals: { "kms:EncryptionContext:aws:logs:arn": ["arn:aws:logs:ap-northeast-2:123456789012:log-group:/aws/ssm/sessions/prod-ssm-sessions"] },
    });
  });

  it("the bastion's role may write transcripts to that group and nowhere else", () => {
    const policy = named(prod, "aws:iam/rolePolicy:RolePolicy", "prod-bastion-session-logs").inputs;
    const statements = (JSON.parse(String(policy["policy"])) as { Statement: Obj[] }).Statement;
    const write = statements.find((s) => s["Sid"] === "WriteSessionTranscripts");
    const groupArn = "arn:aws:cloudwatch:ap-northeast-2:123456789012:loggroup/prod-ssm-sessions-logs";
    assert.deepEqual(write?.["Resource"], [groupArn, `${groupArn}:*`]);
    assert.equal(policy["role"], "prod-bastion-role-id");
  });

  it("staging and test (no bastion) declare no preferences", async () => {
    for (const stack of ["staging", "test"] as const) {
      assert.deepEqual(ofType(await shippedStack(stack), DOCUMENT), [], stack);
    }
  });

  it("an account that already has preferences opts out: no document, no grant", async () => {
    const ev = await evaluateStack("prod", (c) => {
      (c["platform:bastion"] as { [k: string]: Json })["sessionLogging"] = false;
    });
    assert.deepEqual(ofType(ev, DOCUMENT), []);
    assert.deepEqual(ofType(ev, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name === "prod-bastion-session-logs"), []);
  });

  it("acts only beside the bastion: prod without one declares no preferences", async () => {
    const ev = await evaluateStack("prod", (c) => {
      (c["platform:bastion"] as { [k: string]: Json })["enabled"] = false;
    });
    assert.deepEqual(ofType(ev, DOCUMENT), []);
  });
});
