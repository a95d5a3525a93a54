/**
 * The CloudWatch metrics adapter (automation/adapters/cloudwatch.ts) against a loopback endpoint
 * speaking the wire format @aws-sdk/client-cloudwatch 3.1142.0 uses: AWS JSON 1.0, POST / with
 * `x-amz-target: GraniteServiceVersion20100801.GetMetricData`, `x-amzn-query-mode: true`,
 * timestamps as epoch seconds, SigV4 for service `monitoring`; errors as `__type` plus the
 * awsQuery-compatible `x-amzn-query-error` header. And its pure parts: ARN suffixes, the aligned
 * window, the eight queries, the aggregation.
 */
import { strict as assert } from "assert";
import { alignedWindow, CloudWatchCanaryMetrics, dimensionOf, metricQueries, windowsOf } from "../../automation/adapters/cloudwatch";
import { Loopback, Reply, startServer } from "./loopback";

const LB = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/k8s-prod-0123456789/50dc6c495c0c9188";
const TG = {
  blue: "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/k8s-apps-studentb-1a2b3c4d5e/73e2d6bc24d8a067",
  green: "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/k8s-apps-studentg-6f7a8b9c0d/aaaabbbbccccdddd",
};
// 2026-03-04T05:06:00Z and five minutes later.
const FROM = Date.UTC(2026, 2, 4, 5, 6, 0);
const TO = FROM + 300_000;

interface Query {
  readonly Id: string;
  readonly MetricStat: { readonly Metric: { readonly Namespace: string; readonly MetricName: string; readonly Dimensions: Array<{ Name: string; Value: string }> }; readonly Period: number; readonly Stat: string };
}
interface Body {
  readonly MetricDataQueries: Query[];
  readonly StartTime: number;
  readonly EndTime: number;
  readonly NextToken?: string;
  readonly ScanBy?: string;
}

describe("automation: CloudWatch canary metrics (loopback endpoint)", function () {
  let server: Loopback | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function metrics(answer: (body: Body) => Reply): Promise<CloudWatchCanaryMetrics> {
    server = await startServer((req) => answer(JSON.parse(req.body) as Body));
    return new CloudWatchCanaryMetrics({ endpoint: server.url, credentials: { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback" }, maxAttempts: 1 });
  }

  const query = { stack: "prod", region: "ap-northeast-2", service: "student", loadBalancerArn: LB, targetGroupArns: TG, from: FROM, to: TO };
  const ok = (results: unknown[], nextToken?: string): Reply => ({
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.0" },
    body: JSON.stringify({ MetricDataResults: results, ...(nextToken !== undefined ? { NextToken: nextToken } : {}), Messages: [] }),
  });
  const result = (id: string, values: number[]): unknown => ({ Id: id, Label: id, Timestamps: values.map((_, i) => FROM / 1000 + 60 * i), Values: values, StatusCode: "Complete" });

  it("asks for both colors' four series in one JSON 1.0 GetMetricData call, and reads the answer per color", async () => {
    const m = await metrics(() =>
      ok([
        result("requests_blue", [900]),
        result("errors_blue", [2]),
        result("p99_blue", [0.21]),
        result("unhealthy_blue", [0]),
        result("requests_green", [100]),
        result("errors_green", [7]),
        result("p99_green", [0.84]),
        result("unhealthy_green", [1]),
      ]),
    );
    const w = await m.window(query, new AbortController().signal);
    assert.deepEqual(w, {
      blue: { requests: 900, target5xx: 2, p99Ms: 210, unhealthyHosts: 0 },
      green: { requests: 100, target5xx: 7, p99Ms: 840, unhealthyHosts: 1 },
    });
    const req = server?.requests[0];
    assert.ok(req !== undefined);
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/");
    assert.equal(req.headers["content-type"], "application/x-amz-json-1.0");
    assert.equal(req.headers["x-amz-target"], "GraniteServiceVersion20100801.GetMetricData");
    assert.equal(req.headers["x-amzn-query-mode"], "true");
    assert.match(String(req.headers["authorization"]), /^AWS4-HMAC-SHA256 Credential=AKIDLOOPBACK\/\d{8}\/ap-northeast-2\/monitoring\/aws4_request/);
    const body = JSON.parse(req.body) as Body;
    assert.equal(body.StartTime, FROM / 1000, "epoch seconds");
    assert.equal(body.EndTime, TO / 1000);
    assert.equal(body.ScanBy, "TimestampAscending");
    assert.equal(body.MetricDataQueries.length, 8);
    const green5xx = body.MetricDataQueries.find((q) => q.Id === "errors_green");
    assert.deepEqual(green5xx?.MetricStat, {
      Metric: {
        Namespace: "AWS/ApplicationELB",
        MetricName: "HTTPCode_Target_5XX_Count",
        Dimensions: [
          { Name: "TargetGroup", Value: "targetgroup/k8s-apps-studentg-6f7a8b9c0d/aaaabbbbccccdddd" },
          { Name: "LoadBalancer", Value: "app/k8s-prod-0123456789/50dc6c495c0c9188" },
        ],
      },
      Period: 300,
      Stat: "Sum",
    });
    assert.deepEqual(
      body.MetricDataQueries.map((q) => `${q.Id}:${q.MetricStat.Metric.MetricName}:${q.MetricStat.Stat}`),
      [
        "requests_blue:RequestCount:Sum",
        "errors_blue:HTTPCode_Target_5XX_Count:Sum",
        "p99_blue:TargetResponseTime:p99",
        "unhealthy_blue:UnHealthyHostCount:Maximum",
        "requests_green:RequestCount:Sum",
        "errors_green:HTTPCode_Target_5XX_Count:Sum",
        "p99_green:TargetResponseTime:p99",
        "unhealthy_green:UnHealthyHostCount:Maximum",
      ],
    );
  });

  it("follows NextToken and sums the pages; absent series are no traffic and unknown latency", async () => {
    const m = await metrics((body) =>
      body.NextToken === undefined ? ok([result("requests_green", [40, 35])], "page-2") : ok([result("requests_green", [25]), result("errors_green", [1])]),
    );
    const w = await m.window(query, new AbortController().signal);
    assert.equal(server?.requests.length, 2);
    assert.equal((JSON.parse(server?.requests[1]?.body ?? "{}") as Body).NextToken, "page-2");
    assert.deepEqual(w.green, { requests: 100, target5xx: 1 });
    assert.deepEqual(w.blue, { requests: 0, target5xx: 0 }, "no datapoints: ELB publishes nothing without traffic");
  });

  it("an API error is one line naming the call, the service and CloudWatch's error code", async () => {
    const m = await metrics(() => ({
      status: 400,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": "Throttling;Sender" },
      body: JSON.stringify({ __type: "com.amazonaws.cloudwatch#Throttling", message: "Rate exceeded" }),
    }));
    await assert.rejects(m.window(query, new AbortController().signal), /^Error: CloudWatch GetMetricData for student in ap-northeast-2 failed: Throttling: Rate exceeded$/);
  });

  it("an incomplete series is not judged", async () => {
    const m = await metrics(() => ok([{ Id: "requests_green", Values: [5], Timestamps: [FROM / 1000], StatusCode: "PartialData" }]));
    await assert.rejects(m.window(query, new AbortController().signal), /requests_green as PartialData: the window's data is incomplete/);
  });

  it("an abort rejects with the signal's reason", async () => {
    const m = await metrics(() => ({ ...ok([]), delayMs: 2_000 }));
    const ctl = new AbortController();
    const pending = m.window(query, ctl.signal);
    setTimeout(() => ctl.abort(new Error("interrupted")), 20);
    await assert.rejects(pending, /interrupted/);
  });
});

describe("automation: CloudWatch canary metrics (pure)", () => {
  it("dimension values are the ARN suffixes; anything else is refused", () => {
    assert.equal(dimensionOf(LB, "loadbalancer"), "app/k8s-prod-0123456789/50dc6c495c0c9188");
    assert.equal(dimensionOf(TG.blue, "targetgroup"), "targetgroup/k8s-apps-studentb-1a2b3c4d5e/73e2d6bc24d8a067");
    assert.equal(dimensionOf("arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:targetgroup/a/b", "targetgroup"), "targetgroup/a/b");
    assert.throws(() => dimensionOf(TG.blue, "loadbalancer"), /not an Application Load Balancer loadbalancer ARN/);
    assert.throws(() => dimensionOf("arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/net/nlb/1", "loadbalancer"), /not an Application Load Balancer/);
  });

  it("the window is whole minutes, one period spanning all of it", () => {
    assert.deepEqual(alignedWindow(FROM, TO), { start: new Date(FROM), end: new Date(TO), periodSeconds: 300 });
    assert.deepEqual(alignedWindow(FROM + 12_000, FROM + 301_000), { start: new Date(FROM), end: new Date(FROM + 360_000), periodSeconds: 360 });
    assert.equal(alignedWindow(FROM, FROM).periodSeconds, 60, "never an empty period");
  });

  it("queries name both colors' target groups on the same load balancer", () => {
    const queries = metricQueries({ loadBalancerArn: LB, targetGroupArns: TG }, 600);
    assert.equal(queries.length, 8);
    assert.ok(queries.every((q) => q.MetricStat?.Period === 600));
    assert.deepEqual(new Set(queries.map((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value)).size, 2);
  });

  it("aggregates datapoints: counts summed, p99 and unhealthy hosts at their largest, non-finite values dropped", () => {
    const w = windowsOf([
      { Id: "requests_green", Values: [10, 20, Number.NaN] },
      { Id: "errors_green", Values: [1, 1] },
      { Id: "p99_green", Values: [0.5, 1.25] },
      { Id: "unhealthy_green", Values: [0, 2, 1] },
    ]);
    assert.deepEqual(w.green, { requests: 30, target5xx: 2, p99Ms: 1250, unhealthyHosts: 2 });
  });
});
