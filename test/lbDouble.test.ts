/**
 * The load-balancer double (test/integration/lbDouble) against a loopback fake of the Kubernetes
 * list/watch API (test/kubeApiFake.ts): its watch client, its asynchronous apply with a lag (on
 * a manual clock), its status writes, its HTTP routing to per-color backends, its counters and
 * its ELBv2 answers through the real AWS SDK client. The integration tier points the same double
 * at the real API server with the harness's kubeconfig.
 */
import { strict as assert } from "assert";
import * as http from "http";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeRulesCommandOutput,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  LoadBalancerNotFoundException,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { COLOR_LABEL } from "../infra/apps/blueGreenService";
import { DEFAULT_IDENTITY_HEADERS } from "../infra/lib/identityHeaders";
import { DEFAULT_COLOR_LABEL, LoadBalancerDouble, LoadBalancerDoubleOptions } from "./integration/lbDouble/double";
import { Informer, KubeApiError, KubeClient } from "./integration/lbDouble/kube";
import type { AlbModel, Ingress, ObjectMeta } from "./integration/lbDouble/model";
import { ManualTimers } from "./integration/lbDouble/timers";
import { FakeKubeApi } from "./kubeApiFake";
import { CLUSTER, colorPods, colorServices, flipped, GROUP, LIVE_HOST, NS, PREVIEW_HOST, REGION, serviceIngress, STUDENT, SUBJECT } from "./lbFixtures";

async function eventually<T>(what: string, probe: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function get(base: string, host: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.get({ host: u.hostname, port: u.port, path, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
  });
}

type Named = { metadata: ObjectMeta };

describe("load-balancer double: Kubernetes list+watch client (loopback API server with client certificates)", function () {
  let api: FakeKubeApi;
  let client: KubeClient | undefined;
  let informer: Informer<Named> | undefined;
  const changes: string[] = [];

  beforeEach(async () => {
    api = await new FakeKubeApi().start();
    changes.length = 0;
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    client?.close();
    client = undefined;
    await api.close();
  });

  async function watchIngresses(kubeconfigStyle: "data" | "files" = "data"): Promise<Informer<Named>> {
    client = KubeClient.fromKubeconfig(api.kubeconfig(kubeconfigStyle));
    informer = new Informer<Named>(client, "/apis/networking.k8s.io/v1/ingresses", {
      onChange: (type, o) => changes.push(`${type} ${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`),
      retryMs: 10,
    });
    await informer.start();
    return informer;
  }

  it("lists, then follows changes from the list's resourceVersion, authenticated by the kubeconfig's client certificate", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    const inf = await watchIngresses();
    assert.deepEqual(changes, ["ADDED apps/student@101"]);
    api.put("ingresses", serviceIngress(SUBJECT));
    api.put("ingresses", flipped(STUDENT, "green"));
    api.remove("ingresses", NS, "subject");
    await eventually("three watch events", () => changes.length === 4);
    assert.deepEqual(changes.slice(1), ["ADDED apps/subject@102", "MODIFIED apps/student@103", "DELETED apps/subject@104"]);
    assert.deepEqual(
      inf.items().map((i) => i.metadata.name),
      ["student"],
    );
    const watch = api.requests.find((r) => r.path.includes("watch=1"));
    assert.match(watch?.path ?? "", /^\/apis\/networking\.k8s\.io\/v1\/ingresses\?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=101$/);
    assert.ok(api.requests.every((r) => r.user === "lb-double"), "every request carries the client certificate");
  });

  it("reads a kubeconfig whose CA and client certificate are files next to it", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    await watchIngresses("files");
    assert.deepEqual(changes, ["ADDED apps/student@101"]);
  });

  it("resumes a watch the server closed from the last resourceVersion, without relisting", async () => {
    const inf = await watchIngresses();
    api.put("ingresses", serviceIngress(STUDENT));
    await eventually("the ADDED event", () => changes.length === 1);
    api.dropWatches();
    await eventually("a second watch", () => api.openWatches === 1 && inf.watches === 2);
    api.put("ingresses", flipped(STUDENT, "green"));
    await eventually("the MODIFIED event", () => changes.length === 2);
    assert.equal(inf.lists, 1);
    assert.match(api.requests.filter((r) => r.path.includes("watch=1"))[1].path, /resourceVersion=101$/);
  });

  for (const gone of ["an ERROR event with a 410 Status", "HTTP 410"] as const) {
    it(`relists after ${gone} and reports what it missed as changes`, async () => {
      api.goneAsHttpStatus = gone === "HTTP 410";
      api.put("ingresses", serviceIngress(STUDENT));
      api.put("ingresses", serviceIngress(SUBJECT));
      const inf = await watchIngresses();
      await eventually("the first watch", () => api.openWatches === 1);
      changes.length = 0;
      api.holdWatches();
      api.dropWatches();
      await eventually("the watch to be re-requested", () => api.requests.filter((r) => r.path.includes("watch=1")).length === 2);
      api.put("ingresses", flipped(STUDENT, "green"));
      api.remove("ingresses", NS, "subject");
      api.compact();
      api.releaseWatches();
      await eventually("the relist", () => inf.lists === 2 && changes.length === 2);
      assert.deepEqual(changes.sort(), ["DELETED apps/subject@102", "MODIFIED apps/student@103"]);
      assert.deepEqual(
        inf.items().map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`),
        ["student@103"],
      );
      api.put("ingresses", serviceIngress(SUBJECT));
      await eventually("watching again after the relist", () => changes.length === 3);
    });
  }

  it("is refused without the cluster's client certificate", async () => {
    const anonymous = new KubeClient({ server: api.url, ca: Buffer.from(api.caPem) });
    try {
      await assert.rejects(anonymous.list("/api/v1/pods"), (e: unknown) => e instanceof KubeApiError && e.status === 0);
    } finally {
      anonymous.close();
    }
  });

  it("reports the API server's Status on errors", async () => {
    client = KubeClient.fromKubeconfig(api.kubeconfig());
    await assert.rejects(client.getJson("/apis/networking.k8s.io/v1/namespaces/apps/ingresses/missing"), (e: unknown) => e instanceof KubeApiError && e.status === 404 && e.reason === "NotFound" && /ingresses.networking.k8s.io "missing" not found/.test(e.message));
  });
});

describe("load-balancer double: the controller and the ALB", function () {
  let api: FakeKubeApi;
  let kube: KubeClient;
  let timers: ManualTimers;
  let double: LoadBalancerDouble | undefined;
  let elbv2: ElasticLoadBalancingV2Client | undefined;

  beforeEach(async () => {
    api = await new FakeKubeApi().start();
    kube = KubeClient.fromKubeconfig(api.kubeconfig());
    timers = new ManualTimers();
    for (const svc of [STUDENT, SUBJECT]) {
      for (const s of colorServices(svc)) {
        api.put("services", s);
      }
      for (const color of ["blue", "green"] as const) {
        for (const p of colorPods(svc, color, 2)) {
          api.put("pods", p);
        }
      }
    }
  });
  afterEach(async () => {
    await double?.close();
    double = undefined;
    elbv2?.destroy();
    elbv2 = undefined;
    kube.close();
    await api.close();
  });

  async function start(options: Partial<LoadBalancerDoubleOptions> = {}): Promise<LoadBalancerDouble> {
    double = await LoadBalancerDouble.start({ kube, groupName: GROUP, clusterName: CLUSTER, region: REGION, timers, ...options });
    await double.idle();
    return double;
  }

  function sdk(d: LoadBalancerDouble, region = REGION): ElasticLoadBalancingV2Client {
    elbv2 = new ElasticLoadBalancingV2Client({ region, endpoint: d.elbv2Endpoint, credentials: { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback" }, maxAttempts: 1 });
    return elbv2;
  }

  /** Waits until the double observed `n` changes in total, then lets the clock run `ms`. */
  async function observed(d: LoadBalancerDouble, n: number): Promise<void> {
    await eventually(`${n} observed change(s)`, () => d.history.filter((e) => e.type === "observed").length >= n);
  }

  async function advance(d: LoadBalancerDouble, ms: number): Promise<void> {
    timers.advance(ms);
    await d.idle();
  }

  it("the default color label is the program's", () => {
    assert.equal(DEFAULT_COLOR_LABEL, COLOR_LABEL);
  });

  it("applies nothing before the lag, then the group; writes each member's status hostname through the status subresource", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    api.put("ingresses", serviceIngress(SUBJECT));
    const d = await start({ lagMs: 5000 });
    const applied = (): AlbModel | undefined => d.applied;
    assert.equal(applied(), undefined);
    await advance(d, 4999);
    assert.equal(applied(), undefined, "not before the lag");
    assert.equal(api.requests.filter((r) => r.method === "PATCH").length, 0);
    await advance(d, 1);
    assert.deepEqual(applied()?.members, ["apps/subject", "apps/student"]);
    const dns = applied()?.loadBalancer.DNSName ?? "";
    const patches = api.requests.filter((r) => r.method === "PATCH");
    assert.deepEqual(
      patches.map((r) => [r.path, r.contentType, JSON.parse(r.body)]),
      ["subject", "student"].map((n) => [`/apis/networking.k8s.io/v1/namespaces/apps/ingresses/${n}/status`, "application/merge-patch+json", { status: { loadBalancer: { ingress: [{ hostname: dns }] } } }]),
    );
    assert.deepEqual((api.get("ingresses", NS, "student") as unknown as Ingress).status, { loadBalancer: { ingress: [{ hostname: dns }] } });
    // Its own status writes are not changes to reconcile (the controller ignores status-only updates).
    await eventually("the status events to arrive", () => d.history.filter((e) => e.type === "status").length === 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(d.history.filter((e) => e.type === "observed").length, 1);
    assert.equal(d.pendingChanges, 0);
  });

  it("routes the live host to the active color and the preview host to the idle one; backends say who they are", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    const d = await start();
    await advance(d, 0);
    const live = await get(d.routerUrl, LIVE_HOST, "/actuator/health");
    assert.equal(live.status, 200);
    assert.equal(live.headers[DEFAULT_IDENTITY_HEADERS.color], "blue");
    assert.equal(live.headers[DEFAULT_IDENTITY_HEADERS.image], STUDENT.images.blue);
    assert.deepEqual(JSON.parse(live.body), { status: "UP", service: "student-blue", namespace: NS, pod: "student-blue-0", color: "blue", image: STUDENT.images.blue, path: "/actuator/health" });
    const preview = await get(d.routerUrl, PREVIEW_HOST, "/student/x");
    assert.equal(preview.headers[DEFAULT_IDENTITY_HEADERS.color], "green");
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/")).headers[DEFAULT_IDENTITY_HEADERS.color], "blue");
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/sugang")).headers[DEFAULT_IDENTITY_HEADERS.color], "blue", "subject has no Ingress yet: student's / catches it");
    const other = await get(d.routerUrl, "unknown.example.com", "/");
    assert.equal(other.status, 404, "the listener's default fixed response");
    // Round robin over the color's two pods.
    const pods = new Set<string>();
    for (let i = 0; i < 4; i++) {
      pods.add(String(JSON.parse((await get(d.routerUrl, LIVE_HOST, "/student")).body)["pod"]));
    }
    assert.deepEqual([...pods].sort(), ["student-blue-0", "student-blue-1"]);
  });

  it("a flip moves live traffic only once the lag has passed, and ELBv2 shows the old weights until then", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    const d = await start({ lagMs: 30_000 });
    await advance(d, 30_000);
    const client = sdk(d);
    const listenerArn = d.applied?.listeners.find((l) => l.description.Protocol === "HTTPS")?.description.ListenerArn;
    const weights = async (): Promise<Array<number | undefined>> => {
      const rules = await client.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
      return (rules.Rules?.[0].Actions?.[0].ForwardConfig?.TargetGroups ?? []).map((t) => t.Weight);
    };
    assert.deepEqual(await weights(), [100, 0]);

    api.put("ingresses", flipped(STUDENT, "green"));
    await observed(d, 2);
    await advance(d, 29_999);
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/student")).headers[DEFAULT_IDENTITY_HEADERS.color], "blue");
    assert.deepEqual(await weights(), [100, 0]);
    assert.equal(d.pendingChanges, 1);
    await advance(d, 1);
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/student")).headers[DEFAULT_IDENTITY_HEADERS.color], "green");
    assert.equal((await get(d.routerUrl, PREVIEW_HOST, "/student")).headers[DEFAULT_IDENTITY_HEADERS.color], "blue");
    assert.deepEqual(await weights(), [0, 100]);
    const applied = d.history.filter((e) => e.type === "applied");
    assert.equal(applied[1].at - d.history.filter((e) => e.type === "observed")[1].at, 30_000);
  });

  it("mode never: changes are observed and never applied; back to apply, the current state is applied after the lag", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    const d = await start({ lagMs: 1000 });
    await advance(d, 1000);
    d.setMode("never");
    api.put("ingresses", flipped(STUDENT, "green"));
    await observed(d, 2);
    await advance(d, 3_600_000);
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/student")).headers[DEFAULT_IDENTITY_HEADERS.color], "blue");
    assert.equal(d.pendingChanges, 1);
    d.setMode("apply");
    await advance(d, 1000);
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/student")).headers[DEFAULT_IDENTITY_HEADERS.color], "green");
    assert.equal(d.pendingChanges, 0);
  });

  it("never applying means a new Ingress never gets a load-balancer address", async () => {
    const d = await start({ mode: "never" });
    api.put("ingresses", serviceIngress(STUDENT));
    await observed(d, 2);
    await advance(d, 60_000);
    assert.equal(d.applied, undefined);
    assert.deepEqual((api.get("ingresses", NS, "student") as unknown as Ingress).status, { loadBalancer: {} });
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/")).status, 503);
  });

  it("one invalid Ingress blocks the whole group: another service's flip is not applied and lastError names the culprit", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    api.put("ingresses", serviceIngress(SUBJECT));
    const d = await start();
    await advance(d, 0);
    const broken = serviceIngress(SUBJECT);
    api.put("ingresses", { ...broken, metadata: { ...broken.metadata, annotations: { ...broken.metadata.annotations, "alb.ingress.kubernetes.io/group.order": "2000" } } });
    api.put("ingresses", flipped(STUDENT, "green"));
    await observed(d, 3);
    await advance(d, 0);
    assert.match(d.lastError ?? "", /explicit Ingress group order must be within \[-1000:1000\], Ingress: apps\/subject, order: 2000/);
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/student")).headers[DEFAULT_IDENTITY_HEADERS.color], "blue");
    api.put("ingresses", serviceIngress(SUBJECT));
    await observed(d, 4);
    await advance(d, 0);
    assert.equal(d.lastError, undefined);
    assert.equal((await get(d.routerUrl, LIVE_HOST, "/student")).headers[DEFAULT_IDENTITY_HEADERS.color], "green");
  });

  it("counts requests, target status classes and response times per target group; backends can fail, stall or reset", async () => {
    api.put("ingresses", flipped(STUDENT, "blue"));
    // 50/50 between the colors, choice alternating deterministically.
    const half = serviceIngress(STUDENT);
    const action = '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"student-blue","servicePort":8080,"weight":50},{"serviceName":"student-green","servicePort":8080,"weight":50}]}}';
    api.put("ingresses", { ...half, metadata: { ...half.metadata, annotations: { ...half.metadata.annotations, "alb.ingress.kubernetes.io/actions.student-live": action } } });
    let n = 0;
    const d = await start({ random: () => (n++ % 2 === 0 ? 0.25 : 0.75) });
    await advance(d, 0);
    d.setImageBehaviour(STUDENT.images.green, { status: 503 });
    d.setPodBehaviour("student-blue-1", { delayMs: 120 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await get(d.routerUrl, LIVE_HOST, "/student/list")).status);
    }
    assert.deepEqual(statuses, [200, 503, 200, 503, 200, 503, 200, 503]);
    const blue = d.metricsFor("student-blue", NS);
    const green = d.metricsFor("student-green", NS);
    assert.deepEqual([blue.requests, blue.target2xx, blue.target5xx, green.requests, green.target5xx, green.target2xx], [4, 4, 0, 4, 4, 0]);
    const slow = blue.targetResponseTimesMs.filter((t) => t >= 100);
    assert.equal(slow.length, 2, `two of blue's answers came from the slow pod: ${blue.targetResponseTimesMs.join(", ")}`);
    d.setImageBehaviour(STUDENT.images.green, { reset: true });
    const reset = await get(d.routerUrl, LIVE_HOST, "/student");
    const reset2 = await get(d.routerUrl, LIVE_HOST, "/student");
    assert.deepEqual([reset.status, reset2.status].sort(), [200, 502]);
    assert.equal(d.metricsFor("student-green", NS).elb5xx, 1);
    d.resetMetrics();
    assert.equal(d.metrics().length, 0);
  });

  it("targets follow the ready pods: a color scaled to zero answers 503 from the ALB itself", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    const d = await start();
    await advance(d, 0);
    for (const p of colorPods(STUDENT, "blue", 2)) {
      api.remove("pods", NS, p.metadata.name);
    }
    await eventually("blue's targets to be deregistered", () => {
      const arn = d.applied?.targetGroups.find((t) => t.backend.service === "student-blue")?.description.TargetGroupArn ?? "";
      return d.targetsOf(arn).length === 0;
    });
    const r = await get(d.routerUrl, LIVE_HOST, "/student");
    assert.equal(r.status, 503);
    assert.equal(d.metricsFor("student-blue", NS).elb5xx, 1);
    // A new image rolled out into green shows up as green's identity.
    for (const p of colorPods(STUDENT, "green", 1, "registry.local/student:1.6.0")) {
      api.put("pods", p);
    }
    api.remove("pods", NS, "student-green-1");
    await d.idle();
    await eventually("green's new image", () => (d.targetsOf(d.applied?.targetGroups.find((t) => t.backend.service === "student-green")?.description.TargetGroupArn ?? "")[0]?.identity.image === "registry.local/student:1.6.0" ? true : undefined));
    assert.equal((await get(d.routerUrl, PREVIEW_HOST, "/")).headers[DEFAULT_IDENTITY_HEADERS.image], "registry.local/student:1.6.0");
  });

  it("answers the ELBv2 Describe calls through the AWS SDK from the applied state, paged and tagged", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    api.put("ingresses", serviceIngress(SUBJECT));
    const d = await start({ elbv2PageLimit: 2 });
    const client = sdk(d);
    assert.deepEqual((await client.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [], [], "no ALB before the first apply");
    await advance(d, 0);
    const a = d.applied;
    assert.ok(a !== undefined);
    const lbs = await client.send(new DescribeLoadBalancersCommand({}));
    assert.equal(lbs.LoadBalancers?.[0].LoadBalancerArn, a.loadBalancer.LoadBalancerArn);
    assert.equal(lbs.LoadBalancers?.[0].DNSName, a.loadBalancer.DNSName);
    assert.equal(lbs.LoadBalancers?.[0].State?.Code, "active");
    const tags = await client.send(new DescribeTagsCommand({ ResourceArns: [a.loadBalancer.LoadBalancerArn ?? ""] }));
    assert.deepEqual(tags.TagDescriptions?.[0].Tags, a.loadBalancerTags);
    const listeners = await client.send(new DescribeListenersCommand({ LoadBalancerArn: a.loadBalancer.LoadBalancerArn }));
    assert.deepEqual(
      listeners.Listeners?.map((l) => [l.Port, l.Protocol]),
      [
        [80, "HTTP"],
        [443, "HTTPS"],
      ],
    );
    const httpsArn = listeners.Listeners?.[1].ListenerArn;
    const page1 = await client.send(new DescribeRulesCommand({ ListenerArn: httpsArn }));
    assert.equal(page1.Rules?.length, 2);
    assert.ok(page1.NextMarker !== undefined, "a second page");
    const all = [...(page1.Rules ?? [])];
    for (let marker: string | undefined = page1.NextMarker; marker !== undefined; ) {
      const next: DescribeRulesCommandOutput = await client.send(new DescribeRulesCommand({ ListenerArn: httpsArn, Marker: marker }));
      all.push(...(next.Rules ?? []));
      marker = next.NextMarker;
    }
    // The SDK's parse of the double's XML is the model's own description: one contract.
    assert.deepEqual(
      all.map((r) => ({ ...r, Conditions: r.Conditions ?? [] })),
      a.listeners[1].rules.map((r) => JSON.parse(JSON.stringify(r.description)) as unknown),
    );
    const tgs = await client.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: a.loadBalancer.LoadBalancerArn, PageSize: 400 }));
    assert.equal(tgs.TargetGroups?.length, 2, "capped at the double's page limit");
    const blue = a.targetGroups.find((t) => t.backend.service === "student-blue");
    assert.ok(blue !== undefined);
    d.setPodBehaviour("student-blue-1", { status: 500 });
    const health = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: blue.description.TargetGroupArn }));
    assert.deepEqual(
      health.TargetHealthDescriptions?.map((h) => [h.TargetHealth?.State, h.TargetHealth?.Reason ?? "", h.TargetHealth?.Description ?? ""]),
      [
        ["healthy", "", ""],
        ["unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]"],
      ],
    );
    await assert.rejects(client.send(new DescribeListenersCommand({ LoadBalancerArn: `${a.loadBalancer.LoadBalancerArn}x` })), (e: unknown) => e instanceof LoadBalancerNotFoundException);
    await assert.rejects(sdk(d, "us-east-1").send(new DescribeLoadBalancersCommand({})), /Credential should be scoped to a valid region, not 'us-east-1'/);
  });

  it("close() stops the router, the ELBv2 endpoint, every backend and every watch", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    const d = await start();
    await advance(d, 0);
    const backendPorts = d.applied?.targetGroups.flatMap((t) => d.targetsOf(t.description.TargetGroupArn ?? "").map((b) => b.port)) ?? [];
    assert.equal(backendPorts.length, 4);
    assert.equal(api.openWatches, 3);
    await d.close();
    double = undefined;
    await eventually("the watches to close", () => api.openWatches === 0);
    for (const url of [d.routerUrl, d.elbv2Endpoint, ...backendPorts.map((p) => `http://127.0.0.1:${p}`)]) {
      await assert.rejects(get(url, LIVE_HOST, "/"), /ECONNREFUSED/);
    }
  });
});
