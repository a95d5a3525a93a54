/**
 * The real AWS-facing and registry-facing implementations against loopback servers that
 * speak the services' wire formats: ELBv2 (query protocol, XML) for target health, the OCI
 * distribution API for tag -> digest resolution.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "../../automation/errors";
import { Elbv2TargetHealthChecker } from "../../automation/adapters/elbv2";
import { RegistryImageResolver } from "../../automation/adapters/registry";
import { digest, Loopback, Reply, startServer } from "./loopback";

const NS = 'xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"';
const TG_GREEN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/k8s-apps-studentg-1/aaa";
const TG_BLUE = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/k8s-apps-studentb-1/bbb";
const TG_ORPHAN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/orphan/ccc";

function xml(action: string, result: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><${action}Response ${NS}><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></${action}Response>`;
}

function elbv2(health: Record<string, Array<[string, string]>>): (body: string) => { status: number; body: string; headers: Record<string, string> } {
  return (body) => {
    const params = new URLSearchParams(body);
    const action = params.get("Action") ?? "";
    const ok = (result: string): { status: number; body: string; headers: Record<string, string> } => ({ status: 200, body: xml(action, result), headers: { "content-type": "text/xml" } });
    if (action === "DescribeTargetGroups") {
      const member = (arn: string, lbs: string[]): string =>
        `<member><TargetGroupArn>${arn}</TargetGroupArn><LoadBalancerArns>${lbs.map((l) => `<member>${l}</member>`).join("")}</LoadBalancerArns></member>`;
      return ok(`<TargetGroups>${member(TG_GREEN, ["arn:lb/app"])}${member(TG_BLUE, ["arn:lb/app"])}${member(TG_ORPHAN, [])}</TargetGroups>`);
    }
    if (action === "DescribeTags") {
      const tagged = (arn: string, color: string): string =>
        `<member><ResourceArn>${arn}</ResourceArn><Tags><member><Key>elbv2.k8s.aws/cluster</Key><Value>prod-cluster</Value></member><member><Key>ingress.k8s.aws/resource</Key><Value>apps/student-student-${color}:8080</Value></member></Tags></member>`;
      const arns = [...params.entries()].filter(([k]) => k.startsWith("ResourceArns.member")).map(([, v]) => v);
      return ok(`<TagDescriptions>${arns.map((a) => (a === TG_GREEN ? tagged(a, "green") : a === TG_BLUE ? tagged(a, "blue") : `<member><ResourceArn>${a}</ResourceArn><Tags/></member>`)).join("")}</TagDescriptions>`);
    }
    if (action === "DescribeTargetHealth") {
      const arn = params.get("TargetGroupArn") ?? "";
      const targets = health[arn] ?? [];
      return ok(
        `<TargetHealthDescriptions>${targets
          .map(([ip, state]) => `<member><Target><Id>${ip}</Id><Port>8080</Port></Target><TargetHealth><State>${state}</State>${state === "healthy" ? "" : "<Reason>Target.FailedHealthChecks</Reason>"}</TargetHealth></member>`)
          .join("")}</TargetHealthDescriptions>`,
      );
    }
    return { status: 400, body: "unknown action", headers: {} };
  };
}

describe("automation: ELBv2 target health (loopback endpoint)", function () {
  let server: Loopback | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function checker(health: Record<string, Array<[string, string]>>): Promise<Elbv2TargetHealthChecker> {
    const handle = elbv2(health);
    server = await startServer((req) => handle(req.body));
    return new Elbv2TargetHealthChecker({ endpoint: server.url, credentials: { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback" }, maxAttempts: 1 });
  }

  const query = { stack: "prod", service: "student", color: "green" as const, region: "ap-northeast-2", clusterName: "prod-cluster", namespace: "apps", serviceName: "student-green" };

  it("discovers the color's target group by the controller's tags and finds every target healthy", async () => {
    const c = await checker({ [TG_GREEN]: [["10.0.1.5", "healthy"], ["10.0.2.6", "healthy"]], [TG_BLUE]: [["10.0.1.9", "unhealthy"]] });
    const r = await c.check(query, new AbortController().signal);
    assert.deepEqual(r, { healthy: true, detail: "2 target(s) healthy in 1 target group(s)" });
    const actions = server?.requests.map((q) => new URLSearchParams(q.body).get("Action"));
    assert.deepEqual(actions, ["DescribeTargetGroups", "DescribeTags", "DescribeTargetHealth"]);
    assert.equal(new URLSearchParams(server?.requests[2]?.body).get("TargetGroupArn"), TG_GREEN, "only the green group is checked");
    assert.match(String(server?.requests[0]?.headers["authorization"]), /^AWS4-HMAC-SHA256 Credential=AKIDLOOPBACK\/\d{8}\/ap-northeast-2\/elasticloadbalancing\/aws4_request/);
  });

  it("reports unhealthy targets with their reason", async () => {
    const c = await checker({ [TG_GREEN]: [["10.0.1.5", "healthy"], ["10.0.2.6", "initial"]] });
    const r = await c.check(query, new AbortController().signal);
    assert.equal(r.healthy, false);
    assert.equal(r.detail, "10.0.2.6:8080 initial (Target.FailedHealthChecks)");
  });

  it("an empty target group is not healthy", async () => {
    const c = await checker({});
    const r = await c.check({ ...query, targetGroupArn: TG_GREEN }, new AbortController().signal);
    assert.equal(r.healthy, false);
    assert.match(r.detail, /no registered targets/);
    assert.deepEqual(server?.requests.map((q) => new URLSearchParams(q.body).get("Action")), ["DescribeTargetHealth"], "an exported ARN skips discovery");
  });

  it("no matching target group is not healthy", async () => {
    const c = await checker({});
    const r = await c.check({ ...query, clusterName: "other-cluster" }, new AbortController().signal);
    assert.equal(r.healthy, false);
    assert.match(r.detail, /no target group found for student-green/);
  });
});

describe("automation: registry tag -> digest (loopback registry)", function () {
  let server: Loopback | undefined;
  let dir: string;
  const D = digest("student:1.5.0");
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-config-"));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function registry(): Promise<string> {
    server = await startServer((req): Reply => {
      if (req.headers["authorization"] !== `Basic ${Buffer.from("AWS:token").toString("base64")}`) {
        return { status: 401, headers: { "www-authenticate": 'Basic realm="registry"' } };
      }
      if (req.method === "HEAD" && req.path === "/v2/team/student/manifests/1.5.0") {
        return { status: 200, headers: { "docker-content-digest": D } };
      }
      return { status: 404 };
    });
    return server.url.replace("http://", "");
  }

  function login(host: string): string {
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from("AWS:token").toString("base64") } } }));
    return file;
  }

  it("resolves a tag with the docker login credentials and pins it", async () => {
    const host = await registry();
    const r = new RegistryImageResolver({ dockerConfigPath: login(host) });
    assert.equal(await r.resolve(`${host}/team/student:1.5.0`, new AbortController().signal), `${host}/team/student@${D}`);
    const req = server?.requests[0];
    assert.equal(req?.method, "HEAD");
    assert.match(String(req?.headers["accept"]), /application\/vnd\.oci\.image\.index\.v1\+json/);
  });

  it("returns a digest reference unchanged without asking the registry", async () => {
    const host = await registry();
    const r = new RegistryImageResolver({ dockerConfigPath: login(host) });
    assert.equal(await r.resolve(`${host}/team/student@${D}`, new AbortController().signal), `${host}/team/student@${D}`);
    assert.equal(server?.requests.length, 0);
  });

  it("explains a missing login", async () => {
    const host = await registry();
    const r = new RegistryImageResolver({ dockerConfigPath: path.join(dir, "missing.json") });
    await assert.rejects(r.resolve(`${host}/team/student:1.5.0`, new AbortController().signal), (e: unknown) => e instanceof UsageError && /refused.*HTTP 401/.test(e.message) && e.remediation.some((l) => l.includes("amazon-ecr-login")));
  });

  it("explains an unknown tag", async () => {
    const host = await registry();
    const r = new RegistryImageResolver({ dockerConfigPath: login(host) });
    await assert.rejects(r.resolve(`${host}/team/student:0.0.1`, new AbortController().signal), /could not resolve .* \(HTTP 404/);
  });
});
