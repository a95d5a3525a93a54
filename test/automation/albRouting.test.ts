/**
 * The driver's ELBv2 listener-rule reader (automation/adapters/albRouting.ts): pure rule
 * selection on the controller model's rules, then the real AWS SDK client against the
 * load-balancer double's ELBv2 endpoint, the double fed the real program's prod Ingresses and
 * Services through a loopback Kubernetes API. One contract on both sides: what the model
 * builds, what the double serves as XML, and what the adapter parses must agree.
 */
import { strict as assert } from "assert";
import type { Rule } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  agreedWeights,
  Elbv2LoadBalancerRouting,
  forwardedColor,
  liveRulesOf,
  LiveRoutingQuery,
  LoadBalancerRoutingError,
  prefixPatterns,
} from "../../automation/adapters/albRouting";
import type { Color } from "../../infra/config/schema";
import { colorName, forwardAction } from "../../infra/lib/bluegreen";
import { LoadBalancerDouble } from "../integration/lbDouble/double";
import { KubeClient } from "../integration/lbDouble/kube";
import { AlbModel, buildAlb, Ingress, ModelListener } from "../integration/lbDouble/model";
import { ManualTimers } from "../integration/lbDouble/timers";
import { FakeKubeApi } from "../kubeApiFake";
import { CLUSTER, colorPods, colorServices, declaredObjects, flipped, GROUP, LIVE_HOST, NS, REGION, serviceIngress, STUDENT, SUBJECT } from "../lbFixtures";
import { shippedStack } from "../stack";

function alb(ingresses: Ingress[]): AlbModel {
  const r = buildAlb({ clusterName: CLUSTER, region: REGION, accountId: "123456789012", groupName: GROUP, ingresses, services: [...colorServices(STUDENT), ...colorServices(SUBJECT)] });
  assert.equal(r.kind, "alb");
  return (r as { alb: AlbModel }).alb;
}

function httpsOf(a: AlbModel): ModelListener {
  return a.listeners.find((l) => l.description.Protocol === "HTTPS") as ModelListener;
}

function colorGroups(a: AlbModel, service: string): Record<Color, string> {
  const arn = (color: Color): string => a.targetGroups.find((t) => t.backend.service === colorName(service, color))?.description.TargetGroupArn ?? "";
  return { blue: arn("blue"), green: arn("green") };
}

describe("automation: the ALB's live rules (ELBv2 listener-rule reader)", function () {
  describe("picking a service's live rules out of a listener (pure)", () => {
    const blue = alb([serviceIngress(STUDENT), serviceIngress(SUBJECT)]);
    const green = alb([flipped(STUDENT, "green"), serviceIngress(SUBJECT)]);
    const rules = (a: AlbModel): Rule[] => httpsOf(a).rules.map((r) => r.description);
    const q = { host: LIVE_HOST, paths: STUDENT.paths, service: "student" };

    it("finds one rule per configured path, by host and the controller's Prefix patterns, with each color's weight", () => {
      const live = liveRulesOf("ls", rules(blue), colorGroups(blue, "student"), q);
      assert.deepEqual(
        live.map((r) => [r.priority, r.path, r.weights.blue, r.weights.green]),
        [
          [5, "/", 100, 0],
          [3, "/student", 100, 0],
          [4, "/admin", 100, 0],
        ],
      );
      assert.deepEqual(agreedWeights(live), { blue: 100, green: 0 });
      const flippedLive = liveRulesOf("ls", rules(green), colorGroups(green, "student"), { ...q, host: LIVE_HOST.toUpperCase() });
      assert.deepEqual(agreedWeights(flippedLive), { blue: 0, green: 100 });
    });

    it("rules the controller has modified only in part disagree, and no weights are agreed", () => {
      const mixed = rules(blue).map((r) => (r.Priority === "4" ? (rules(green).find((g) => g.Priority === "4") as Rule) : r));
      const live = liveRulesOf("ls", mixed, colorGroups(blue, "student"), q);
      assert.deepEqual(
        live.map((r) => r.weights.green),
        [0, 0, 100],
      );
      assert.equal(agreedWeights(live), undefined);
      assert.equal(forwardedColor(agreedWeights(live)), undefined);
    });

    it("names the host, patterns and listener when a path has no rule", () => {
      assert.throws(
        () => liveRulesOf("arn:listener/x", rules(blue), colorGroups(blue, "student"), { ...q, paths: ["/student", "/missing"] }),
        (e: unknown) => e instanceof LoadBalancerRoutingError && /no listener rule for host karina-univ\.com and path-pattern \/missing, \/missing\/\* \(service student, path \/missing\) on listener arn:listener\/x/.test(e.message),
      );
      assert.throws(() => liveRulesOf("ls", rules(blue), colorGroups(blue, "student"), { ...q, host: "staging.karina-univ.com" }), /no listener rule for host staging\.karina-univ\.com/);
    });

    it("refuses a rule for the service's path that forwards to anything but its two colors", () => {
      const subject = colorGroups(blue, "subject");
      assert.throws(
        () => liveRulesOf("ls", rules(blue), subject, q),
        (e: unknown) => e instanceof LoadBalancerRoutingError && /priority 5\) for karina-univ\.com\/ forwards to arn:aws:elasticloadbalancing:.*targetgroup\/k8s-apps-studentb-.*, not to student's color target groups/.test(e.message),
      );
    });

    const colors: Array<[Record<Color, number> | undefined, Color | undefined]> = [
      [{ blue: 100, green: 0 }, "blue"],
      [{ blue: 0, green: 100 }, "green"],
      [{ blue: 0, green: 1 }, "green"],
      [{ blue: 90, green: 10 }, undefined],
      [{ blue: 0, green: 0 }, undefined],
      [undefined, undefined],
    ];
    for (const [weights, color] of colors) {
      it(`forwardedColor(${JSON.stringify(weights)}) = ${color ?? "none"}`, () => assert.equal(forwardedColor(weights), color));
    }

    it("expects the controller's Prefix expansion of every path spelling", () => {
      assert.deepEqual(prefixPatterns("/"), ["/*"]);
      assert.deepEqual(prefixPatterns("/student/*"), ["/student", "/student/*"]);
      assert.deepEqual(prefixPatterns("/student/"), ["/student", "/student/*"]);
    });
  });

  describe("through the AWS SDK against the load-balancer double, fed the real program's prod objects", function () {
    this.timeout(120_000);
    let api: FakeKubeApi;
    let kube: KubeClient;
    let timers: ManualTimers;
    let double: LoadBalancerDouble;
    let reader: Elbv2LoadBalancerRouting;
    let program: { ingresses: Ingress[] };

    const query = (service: string, paths: readonly string[], over: Partial<LiveRoutingQuery> = {}): LiveRoutingQuery => ({
      region: REGION,
      clusterName: CLUSTER,
      ingressGroup: "prod",
      namespace: NS,
      service,
      host: LIVE_HOST,
      paths,
      ...over,
    });
    const signal = new AbortController().signal;

    before(async () => {
      const ev = await shippedStack("prod");
      const objects = declaredObjects(ev);
      program = objects;
      api = await new FakeKubeApi().start();
      for (const s of objects.services) {
        api.put("services", s);
      }
      for (const i of objects.ingresses) {
        api.put("ingresses", i);
      }
      for (const svc of [STUDENT, SUBJECT]) {
        for (const color of ["blue", "green"] as const) {
          for (const p of colorPods(svc, color, 1)) {
            api.put("pods", p);
          }
        }
      }
      kube = KubeClient.fromKubeconfig(api.kubeconfig());
      timers = new ManualTimers();
      // Pages of one item: the reader must follow NextMarker on every paged call.
      double = await LoadBalancerDouble.start({ kube, groupName: "prod", clusterName: CLUSTER, region: REGION, timers, lagMs: 10_000, elbv2PageLimit: 1 });
      timers.advance(10_000);
      await double.idle();
      reader = new Elbv2LoadBalancerRouting({ endpoint: double.elbv2Endpoint, credentials: { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback" }, maxAttempts: 1 });
    });
    after(async () => {
      await double?.close();
      kube?.close();
      await api?.close();
    });

    it("reads each service's live rules as the model built them: same rule ARNs, priorities and target groups", async () => {
      const a = double.applied as AlbModel;
      const https = httpsOf(a);
      for (const svc of [STUDENT, SUBJECT]) {
        const routing = await reader.liveWeights(query(svc.name, svc.paths), signal);
        assert.equal(routing.loadBalancerArn, a.loadBalancer.LoadBalancerArn);
        assert.deepEqual(routing.targetGroups, colorGroups(a, svc.name));
        assert.deepEqual(routing.weights, { blue: 100, green: 0 });
        assert.equal(forwardedColor(routing.weights), "blue");
        const expected = liveRulesOf(https.description.ListenerArn ?? "", https.rules.map((r) => r.description), colorGroups(a, svc.name), { host: LIVE_HOST, paths: svc.paths, service: svc.name }).sort((x, y) => x.priority - y.priority);
        assert.deepEqual(routing.rules, expected);
        assert.equal(routing.rules.length, svc.paths.length);
      }
      const calls = double.elbv2Calls;
      for (const action of ["DescribeLoadBalancers", "DescribeTargetGroups", "DescribeListeners", "DescribeRules"]) {
        assert.ok(calls.some((c) => c.action === action), `${action} was called`);
      }
      for (const paged of ["DescribeTargetGroups", "DescribeListeners", "DescribeRules"]) {
        assert.ok(calls.some((c) => c.action === paged && c.marker !== undefined), `${paged} was followed to its next page`);
      }
      assert.ok(calls.filter((c) => c.action === "DescribeTags").length >= 2, "tags of the load balancer and of the target groups");
    });

    it("sees a flip only once the double has applied it", async () => {
      const declared = program.ingresses.find((i) => i.metadata.name === "student") as Ingress;
      // The program's own flip: the live action's weights (forwardAction) and the preview backend.
      const annotations = { ...declared.metadata.annotations, "alb.ingress.kubernetes.io/actions.student-live": JSON.stringify(forwardAction("student", 8080, "green")) };
      const rules = (declared.spec?.rules ?? []).map((r, i) =>
        i === 0 ? r : { ...r, http: { paths: (r.http?.paths ?? []).map((p) => ({ ...p, backend: { service: { name: colorName("student", "blue"), port: { number: 8080 } } } })) } },
      );
      api.put("ingresses", { ...declared, metadata: { ...declared.metadata, annotations }, spec: { ...declared.spec, rules } });
      const observedBefore = double.history.filter((e) => e.type === "observed").length;
      const deadline = Date.now() + 3000;
      while (double.history.filter((e) => e.type === "observed").length === observedBefore) {
        assert.ok(Date.now() < deadline, "the double observed the flip");
        await new Promise((r) => setTimeout(r, 10));
      }
      timers.advance(9_999);
      await double.idle();
      assert.equal(forwardedColor((await reader.liveWeights(query("student", STUDENT.paths), signal)).weights), "blue", "not yet applied");
      timers.advance(1);
      await double.idle();
      const after = await reader.liveWeights(query("student", STUDENT.paths), signal);
      assert.deepEqual(after.weights, { blue: 0, green: 100 });
      assert.equal(forwardedColor(after.weights), "green");
      assert.deepEqual((await reader.liveWeights(query("subject", SUBJECT.paths), signal)).weights, { blue: 100, green: 0 }, "the other service is untouched");
    });

    const failures: Array<[string, Partial<LiveRoutingQuery> & { service?: string; paths?: readonly string[] }, RegExp]> = [
      ["another cluster's ALB", { clusterName: "staging-cluster" }, /no ALB tagged elbv2\.k8s\.aws\/cluster=staging-cluster and ingress\.k8s\.aws\/stack=prod in ap-northeast-2 \(1 ALB\(s\) checked\)/],
      ["another IngressGroup", { ingressGroup: "staging" }, /no ALB tagged .*ingress\.k8s\.aws\/stack=staging/],
      ["a service without an Ingress", { service: "ghost", paths: ["/ghost"] }, /no target group tagged ingress\.k8s\.aws\/resource=apps\/ghost-ghost-blue:<port> on ALB k8s-prod-[0-9a-f]{10}/],
      ["a path the service does not route", { paths: ["/student", "/nowhere"] }, /no listener rule for host karina-univ\.com and path-pattern \/nowhere, \/nowhere\/\*/],
      ["the wrong host", { host: "staging.karina-univ.com" }, /no listener rule for host staging\.karina-univ\.com/],
    ];
    for (const [what, over, want] of failures) {
      it(`explains ${what}`, async () => {
        const q = query(over.service ?? "student", over.paths ?? STUDENT.paths, over);
        await assert.rejects(reader.liveWeights(q, signal), (e: unknown) => e instanceof LoadBalancerRoutingError && want.test(e.message));
      });
    }

    it("stops when its signal is aborted", async () => {
      const abort = new AbortController();
      abort.abort(new Error("gate timed out"));
      await assert.rejects(reader.liveWeights(query("student", STUDENT.paths), abort.signal), /gate timed out/);
    });

    it("wraps ELBv2 errors with the call and region", async () => {
      await assert.rejects(reader.liveWeights(query("student", STUDENT.paths, { region: "us-east-1" }), signal), /^Error: ELBv2 DescribeLoadBalancers in us-east-1 failed: SignatureDoesNotMatch: Credential should be scoped to a valid region, not 'us-east-1'\./);
    });
  });
});
