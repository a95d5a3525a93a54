import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FunctionApi, FunctionApiArgs, LOTTERY_CODE_DIR } from "../infra/api/functionApi";
import { ACCOUNT_ID, DeclaredResource, REGION } from "../automation/offline/mocks";
import { declare, Evaluation, named, ofType } from "./stack";

const T = {
  fn: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  api: "aws:apigatewayv2/api:Api",
  integration: "aws:apigatewayv2/integration:Integration",
  route: "aws:apigatewayv2/route:Route",
  stage: "aws:apigatewayv2/stage:Stage",
} as const;
const NAME = "staging";
const CHILD = `${NAME}-lottery`;

interface Statement {
  Effect: string;
  Action: string[];
  Resource: string[];
  Principal?: Record<string, string[]>;
}

function evaluateApi(args: FunctionApiArgs): Promise<Evaluation> {
  return declare(() => {
    const api = new FunctionApi(NAME, args);
    return { url: api.url, functionName: api.functionName, functionArn: api.functionArn, executionArn: api.executionArn };
  });
}

function policyOf(r: DeclaredResource, key: string): Statement[] {
  return (JSON.parse(String(r.inputs[key])) as { Statement: Statement[] }).Statement;
}

describe("FunctionApi", () => {
  let ev: Evaluation;
  let minimal: Evaluation;
  before(async () => {
    ev = await evaluateApi({
      memoryMb: 512,
      timeoutSeconds: 15,
      throttleRateLimit: 20,
      throttleBurstLimit: 40,
      logRetentionDays: 90,
      reservedConcurrentExecutions: 5,
    });
    minimal = await evaluateApi({ tracing: false });
  });

  it("runs the lottery code on Node.js 22 / arm64 with the configured memory, timeout and concurrency", () => {
    const fn = named(ev, T.fn, CHILD).inputs;
    assert.equal(fn["name"], "staging-lottery");
    assert.equal(fn["runtime"], "nodejs22.x");
    assert.deepEqual(fn["architectures"], ["arm64"]);
    assert.equal(fn["handler"], "index.handler");
    assert.equal(fn["memorySize"], 512);
    assert.equal(fn["timeout"], 15);
    assert.equal(fn["reservedConcurrentExecutions"], 5);
    assert.deepEqual(fn["tracingConfig"], { mode: "Active" });
    assert.equal(fn["role"], `arn:aws:iam::${ACCOUNT_ID}:role/${CHILD}`);
    assert.equal((fn["code"] as Record<string, unknown>)["__pulumiArchive"], true);
  });

  it("zips a code directory that holds only the handler module, which exports `handler`", async () => {
    assert.deepEqual(fs.readdirSync(LOTTERY_CODE_DIR), ["index.js"]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(LOTTERY_CODE_DIR, "index.js")) as Record<string, unknown>;
    assert.equal(typeof mod["handler"], "function");
  });

  it("defaults: 256 MB, 10 s, no reserved concurrency; tracing can be turned off", () => {
    const fn = named(minimal, T.fn, CHILD).inputs;
    assert.equal(fn["memorySize"], 256);
    assert.equal(fn["timeout"], 10);
    assert.equal(fn["reservedConcurrentExecutions"], undefined);
    assert.deepEqual(fn["tracingConfig"], { mode: "PassThrough" });
  });

  it("creates the function's log group up front, named after the function, with retention", () => {
    const fnName = String(named(ev, T.fn, CHILD).inputs["name"]);
    const lg = named(ev, T.logGroup, CHILD).inputs;
    assert.equal(lg["name"], `/aws/lambda/${fnName}`);
    assert.equal(lg["retentionInDays"], 90);
    assert.deepEqual(named(ev, T.fn, CHILD).inputs["loggingConfig"], { logFormat: "JSON", logGroup: `/aws/lambda/${fnName}` });
    assert.equal(named(minimal, T.logGroup, CHILD).inputs["retentionInDays"], 30);
  });

  it("lets only Lambda assume the role, which has no managed policy attached", () => {
    const trust = policyOf(named(ev, T.role, CHILD), "assumeRolePolicy");
    assert.deepEqual(trust.map((s) => s.Principal), [{ Service: ["lambda.amazonaws.com"] }]);
    assert.equal(ofType(ev, T.rolePolicyAttachment).length, 0);
    assert.equal(ofType(ev, T.rolePolicy).length, 1);
  });

  it("lets the function write only to its own log group (no `*` resource for logs)", () => {
    const lgArn = `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:loggroup/${CHILD}`;
    for (const e of [ev, minimal]) {
      const statements = policyOf(named(e, T.rolePolicy, CHILD), "policy");
      const logs = statements.filter((s) => s.Action.some((a) => a.startsWith("logs:")));
      assert.equal(logs.length, 1);
      assert.deepEqual([...logs[0].Action].sort(), ["logs:CreateLogStream", "logs:PutLogEvents"]);
      assert.deepEqual(logs[0].Resource, [`${lgArn}:*`]);
      assert.ok(!statements.some((s) => s.Action.includes("logs:CreateLogGroup")));
      // `*` appears only for X-Ray, whose two write actions have no resource-level permissions.
      for (const s of statements.filter((x) => x.Resource.includes("*"))) {
        assert.deepEqual([...s.Action].sort(), ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
      }
      assert.ok(!statements.some((s) => s.Action.includes("*")));
    }
    assert.ok(!policyOf(named(minimal, T.rolePolicy, CHILD), "policy").some((s) => s.Resource.includes("*")), "no tracing, no `*`");
  });

  it("serves an HTTP API with a Lambda proxy integration, payload format 2.0", () => {
    assert.equal(ofType(ev, T.api).length, 1);
    assert.equal(named(ev, T.api, CHILD).inputs["protocolType"], "HTTP");
    const integration = named(ev, T.integration, CHILD).inputs;
    assert.equal(integration["integrationType"], "AWS_PROXY");
    assert.equal(integration["payloadFormatVersion"], "2.0");
    assert.equal(integration["apiId"], `${CHILD}-id`);
    assert.match(String(integration["integrationUri"]), new RegExp(`function:${CHILD}/invocations$`));
  });

  it("routes exactly POST /draw and GET /health to that integration", () => {
    const routes = ofType(ev, T.route);
    assert.deepEqual(routes.map((r) => r.inputs["routeKey"]).sort(), ["GET /health", "POST /draw"]);
    for (const r of routes) {
      assert.equal(r.inputs["target"], `integrations/${CHILD}-id`, String(r.inputs["routeKey"]));
      assert.equal(r.inputs["apiId"], `${CHILD}-id`);
      assert.equal(r.inputs["authorizationType"], "NONE");
    }
  });

  it("routes can require IAM authorization", async () => {
    const iam = await evaluateApi({ authorization: "AWS_IAM" });
    assert.deepEqual(ofType(iam, T.route).map((r) => r.inputs["authorizationType"]), ["AWS_IAM", "AWS_IAM"]);
  });

  it("deploys a $default stage automatically, throttled and access-logged as JSON", () => {
    const stage = named(ev, T.stage, CHILD).inputs;
    assert.equal(stage["name"], "$default");
    assert.equal(stage["autoDeploy"], true);
    assert.deepEqual(stage["defaultRouteSettings"], { throttlingRateLimit: 20, throttlingBurstLimit: 40 });
    const access = stage["accessLogSettings"] as Record<string, unknown>;
    assert.equal(access["destinationArn"], `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:loggroup/${CHILD}-access`);
    const format = JSON.parse(String(access["format"])) as Record<string, string>;
    assert.equal(format["requestId"], "$context.requestId");
    assert.equal(format["status"], "$context.status");
    assert.equal(format["routeKey"], "$context.routeKey");
    assert.equal(named(ev, T.logGroup, `${CHILD}-access`).inputs["retentionInDays"], 90);
    assert.deepEqual(named(minimal, T.stage, CHILD).inputs["defaultRouteSettings"], { throttlingRateLimit: 50, throttlingBurstLimit: 100 });
  });

  it("lets only this API invoke the function (sourceArn scoped to its execution ARN)", () => {
    const permissions = ofType(ev, T.permission);
    assert.equal(permissions.length, 1);
    const p = permissions[0].inputs;
    assert.equal(p["action"], "lambda:InvokeFunction");
    assert.equal(p["principal"], "apigateway.amazonaws.com");
    assert.equal(p["function"], "staging-lottery");
    assert.equal(p["sourceArn"], `${String(ev.outputs["executionArn"])}/*/*`);
    assert.equal(ev.outputs["executionArn"], `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${CHILD}`);
  });

  it("exports the stage URL and the function's name and ARN", () => {
    assert.equal(ev.outputs["url"], `https://${CHILD}.execute-api.${REGION}.amazonaws.com/`);
    assert.equal(ev.outputs["functionName"], "staging-lottery");
    assert.match(String(ev.outputs["functionArn"]), /^arn:aws:lambda:/);
  });

  it("rejects a timeout API Gateway cannot wait for and an invalid function name", async () => {
    await assert.rejects(evaluateApi({ timeoutSeconds: 30 }), /timeoutSeconds 30 must be 1-29/);
    await assert.rejects(evaluateApi({ functionName: "has space" }), /function name "has space" must be 1-64/);
  });
});
