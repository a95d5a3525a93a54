/**
 * The pure model of the AWS Load Balancer Controller v2.12.0 (test/integration/lbDouble/model.ts):
 * Ingresses and Services of one IngressGroup in, the ALB's listeners, rules and target groups out,
 * as ELBv2 describes them. Table-driven on the controller's rules, then on the real program's
 * prod Ingresses.
 */
import { strict as assert } from "assert";
import type { Action, Rule } from "@aws-sdk/client-elastic-load-balancing-v2";
import { forwardAction } from "../infra/lib/bluegreen";
import {
  AlbModel,
  buildAlb,
  chooseTargetGroup,
  hostMatches,
  Ingress,
  isGroupMember,
  loadBalancerName,
  matchRule,
  ModelInput,
  ModelListener,
  parseActionAnnotation,
  pathMatches,
  pathPatterns,
  Service,
  sortGroupMembers,
  sortIngressPaths,
} from "./integration/lbDouble/model";
import { CLUSTER, colorServices, declaredObjects, flipped, GROUP, groupAnnotations, LIVE_HOST, NS, PREVIEW_HOST, REGION, serviceIngress, STUDENT, SUBJECT } from "./lbFixtures";
import { obj, ofType, shippedStack } from "./stack";

const ACCOUNT = "123456789012";

function input(ingresses: Ingress[], services: Service[] = [...colorServices(STUDENT), ...colorServices(SUBJECT)]): ModelInput {
  return { clusterName: CLUSTER, region: REGION, accountId: ACCOUNT, groupName: GROUP, ingresses, services };
}

function alb(i: ModelInput): AlbModel {
  const r = buildAlb(i);
  assert.equal(r.kind, "alb", r.kind === "error" ? r.message : r.kind);
  return (r as { alb: AlbModel }).alb;
}

function https(a: AlbModel): ModelListener {
  const l = a.listeners.find((x) => x.description.Protocol === "HTTPS");
  assert.ok(l !== undefined, "an HTTPS listener");
  return l;
}

function tg(a: AlbModel, resource: string): string {
  const found = a.targetGroups.find((t) => t.tags.some((x) => x.Key === "ingress.k8s.aws/resource" && x.Value === resource));
  assert.ok(found !== undefined, `a target group tagged ${resource}; have ${a.targetGroups.map((t) => t.tags.find((x) => x.Key === "ingress.k8s.aws/resource")?.Value).join(", ")}`);
  return found.description.TargetGroupArn ?? "";
}

/** host, patterns and forward weights of every non-default rule, in priority order. */
function summary(l: ModelListener): Array<[string, string, string, string]> {
  return l.rules
    .filter((r) => r.description.IsDefault !== true)
    .map((r) => {
      const host = r.description.Conditions?.find((c) => c.Field === "host-header")?.HostHeaderConfig?.Values?.join(",") ?? "";
      const paths = r.description.Conditions?.find((c) => c.Field === "path-pattern")?.PathPatternConfig?.Values?.join(",") ?? "";
      const action = (r.description.Actions ?? [])[0] as Action;
      const fwd = (action.ForwardConfig?.TargetGroups ?? []).map((t) => `${(t.TargetGroupArn ?? "").split("/")[1]}=${t.Weight}`).join(" ");
      return [r.description.Priority ?? "", host, paths, fwd];
    });
}

describe("load-balancer double: the controller's model (aws-load-balancer-controller v2.12.0)", function () {
  describe("path patterns (model_build_listener_rules.go buildPathPatterns)", () => {
    const cases: Array<[string, string | undefined, string[] | RegExp]> = [
      ["/", "Prefix", ["/*"]],
      ["/student", "Prefix", ["/student", "/student/*"]],
      ["/student/", "Prefix", ["/student", "/student/*"]],
      ["/a*", "Prefix", /prefix path shouldn't contain wildcards/],
      ["/x", "Exact", ["/x"]],
      ["/x?", "Exact", /exact path shouldn't contain wildcards/],
      ["/img/*", "ImplementationSpecific", ["/img/*"]],
      ["/img/*", undefined, ["/img/*"]],
      ["/x", "Regex", /unsupported pathType/],
    ];
    for (const [path, type, want] of cases) {
      it(`${type ?? "(none)"} ${path}`, () => {
        if (want instanceof RegExp) {
          assert.throws(() => pathPatterns(path, type), want);
        } else {
          assert.deepEqual(pathPatterns(path, type), want);
        }
      });
    }

    it("orders Exact paths first, then Prefix paths longest first (stable), then the rest as written", () => {
      const b = { service: { name: "s", port: { number: 80 } } };
      const sorted = sortIngressPaths([
        { path: "/a", pathType: "Prefix", backend: b },
        { path: "/impl", backend: b },
        { path: "/abc", pathType: "Prefix", backend: b },
        { path: "/e", pathType: "Exact", backend: b },
        { path: "/b", pathType: "Prefix", backend: b },
      ]);
      assert.deepEqual(
        sorted.map((p) => p.path),
        ["/e", "/abc", "/a", "/b", "/impl"],
      );
    });
  });

  describe("the actions.<name> annotation (config_types.go, decoded by Go's encoding/json)", () => {
    const key = "alb.ingress.kubernetes.io/actions.student-live";
    it("decodes the program's PascalCase forwardAction like camelCase (case-insensitive keys) and normalises the string port to a number", () => {
      const pascal = parseActionAnnotation(JSON.stringify(forwardAction("student", 8080, "green")), key);
      const camel = parseActionAnnotation(
        '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"student-blue","servicePort":8080,"weight":0},{"serviceName":"student-green","servicePort":"8080","weight":100}],"targetGroupStickinessConfig":{"enabled":false}}}',
        key,
      );
      assert.deepEqual(pascal, camel);
      assert.deepEqual(pascal, {
        type: "forward",
        targetGroups: [
          { targetGroupARN: undefined, serviceName: "student-blue", servicePort: { kind: "int", value: 8080 }, weight: 0 },
          { targetGroupARN: undefined, serviceName: "student-green", servicePort: { kind: "int", value: 8080 }, weight: 100 },
        ],
        stickiness: { enabled: false, durationSeconds: undefined },
      });
    });

    const invalid: Array<[string, string, RegExp]> = [
      ["two groups without weights", '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":80},{"serviceName":"b","servicePort":80,"weight":1}]}}', /weight must be set when route to multiple target groups/],
      ["a weight given as a string", '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":80,"weight":"100"}]}}', /cannot unmarshal string into Go struct field .*weight of type int32/],
      ["a group with both an ARN and a Service", '{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"arn:x","serviceName":"a","servicePort":80}]}}', /precisely one of targetGroupARN and serviceName/],
      ["a Service without a port", '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a"}]}}', /missing servicePort/],
      ["forwardConfig and targetGroupARN together", '{"type":"forward","targetGroupARN":"arn:x","forwardConfig":{"targetGroups":[]}}', /precisely one of TargetGroupArn and ForwardConfig/],
      ["an unknown type", '{"type":"forwards"}', /unknown action type: forwards/],
      ["broken JSON", '{"type":"forward",', /failed to parse json annotation, alb\.ingress\.kubernetes\.io\/actions\.student-live/],
    ];
    for (const [what, raw, want] of invalid) {
      it(`refuses ${what}`, () => assert.throws(() => parseActionAnnotation(raw, key), want));
    }

    it("a named servicePort stays a name; a top-level targetGroupARN becomes a one-group forward", () => {
      assert.deepEqual(parseActionAnnotation('{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":"http"}]}}', key), {
        type: "forward",
        targetGroups: [{ targetGroupARN: undefined, serviceName: "a", servicePort: { kind: "string", value: "http" }, weight: undefined }],
        stickiness: undefined,
      });
      assert.deepEqual(parseActionAnnotation('{"Type":"forward","TargetGroupArn":"arn:tg"}', key), { type: "forward", targetGroups: [{ targetGroupARN: "arn:tg" }] });
    });
  });

  describe("group membership and order (group_loader.go)", () => {
    const ing = (name: string, annotations: Record<string, string>, extra: Partial<Ingress["metadata"]> = {}, className: string | null = "alb"): Ingress => ({
      metadata: { name, namespace: NS, annotations, ...extra },
      spec: className === null ? {} : { ingressClassName: className },
    });
    const cases: Array<[string, Ingress, boolean]> = [
      ["ingressClassName alb and the group name", ing("a", { "alb.ingress.kubernetes.io/group.name": GROUP }), true],
      ["another group", ing("a", { "alb.ingress.kubernetes.io/group.name": "staging" }), false],
      ["no group (an implicit group of its own)", ing("a", {}), false],
      ["an invalid group name", ing("a", { "alb.ingress.kubernetes.io/group.name": "Prod" }), false],
      ["another class", ing("a", { "alb.ingress.kubernetes.io/group.name": GROUP }, {}, "nginx"), false],
      ["no class at all", ing("a", { "alb.ingress.kubernetes.io/group.name": GROUP }, {}, null), false],
      ["the class annotation, which wins over ingressClassName", ing("a", { "alb.ingress.kubernetes.io/group.name": GROUP, "kubernetes.io/ingress.class": "alb" }, {}, "nginx"), true],
      ["being deleted", ing("a", { "alb.ingress.kubernetes.io/group.name": GROUP }, { deletionTimestamp: "2026-01-01T00:00:00Z" }), false],
    ];
    for (const [what, i, member] of cases) {
      it(`${member ? "member" : "not a member"}: ${what}`, () => assert.equal(isGroupMember(i, GROUP), member));
    }

    it("sorts by group.order (default 0), then namespace/name", () => {
      const o = (name: string, namespace: string, order?: string): Ingress => ({
        metadata: { name, namespace, annotations: order === undefined ? {} : { "alb.ingress.kubernetes.io/group.order": order } },
      });
      const sorted = sortGroupMembers([o("z", "apps", "10"), o("b", "apps"), o("a", "monitoring", "-5"), o("a", "apps", "10"), o("c", "apps", "0")]);
      assert.deepEqual(
        sorted.map((i) => `${i.metadata.namespace}/${i.metadata.name}`),
        ["monitoring/a", "apps/b", "apps/c", "apps/a", "apps/z"],
      );
    });

    for (const [order, want] of [
      ["1001", /explicit Ingress group order must be within \[-1000:1000\], Ingress: apps\/x, order: 1001/],
      ["ten", /failed to load Ingress group order for ingress: apps\/x: failed to parse int32 annotation/],
    ] as const) {
      it(`refuses group.order "${order}"`, () => assert.throws(() => sortGroupMembers([{ metadata: { name: "x", namespace: "apps", annotations: { "alb.ingress.kubernetes.io/group.order": order } } }]), want));
    }
  });

  describe("one group of two blue/green services", () => {
    const a = alb(input([serviceIngress(STUDENT), serviceIngress(SUBJECT)]));

    it("numbers the HTTPS listener's rules 1..n in group order, live host before preview host, longest path first", () => {
      const blueS = "k8s-apps-studentb";
      const greenS = "k8s-apps-studentg";
      const blueU = "k8s-apps-subjectb";
      const greenU = "k8s-apps-subjectg";
      const rows = summary(https(a)).map(([p, h, paths, fwd]) => [p, h, paths, fwd.replace(/-[0-9a-f]{10}=/g, "=")]);
      assert.deepEqual(rows, [
        // subject (group.order 10) before student (20)
        ["1", LIVE_HOST, "/sugang,/sugang/*", `${blueU}=100 ${greenU}=0`],
        ["2", PREVIEW_HOST, "/sugang,/sugang/*", `${greenU}=1`],
        ["3", LIVE_HOST, "/student,/student/*", `${blueS}=100 ${greenS}=0`],
        ["4", LIVE_HOST, "/admin,/admin/*", `${blueS}=100 ${greenS}=0`],
        ["5", LIVE_HOST, "/*", `${blueS}=100 ${greenS}=0`],
        ["6", PREVIEW_HOST, "/student,/student/*", `${greenS}=1`],
        ["7", PREVIEW_HOST, "/admin,/admin/*", `${greenS}=1`],
        ["8", PREVIEW_HOST, "/*", `${greenS}=1`],
      ]);
    });

    it("describes a rule as ELBv2 does: both condition shapes, one ordered forward with stickiness off, the one-group ARN on top", () => {
      const rules = https(a).rules;
      const live = rules[2].description;
      assert.deepEqual(live.Conditions, [
        { Field: "host-header", Values: [LIVE_HOST], HostHeaderConfig: { Values: [LIVE_HOST] } },
        { Field: "path-pattern", Values: ["/student", "/student/*"], PathPatternConfig: { Values: ["/student", "/student/*"] } },
      ]);
      const action = (live.Actions ?? [])[0];
      assert.equal(action.Type, "forward");
      assert.equal(action.Order, 1);
      assert.equal(action.TargetGroupArn, undefined, "a weighted two-group forward has no top-level ARN");
      assert.deepEqual(action.ForwardConfig?.TargetGroupStickinessConfig, { Enabled: false, DurationSeconds: undefined });
      const preview = (rules[5].description.Actions ?? [])[0];
      assert.equal(preview.TargetGroupArn, tg(a, `${NS}/student-student-green:8080`));
    });

    it("shares one target group per Ingress and color Service: the live action and the preview backend name the same group", () => {
      assert.equal(a.targetGroups.length, 4);
      const green = tg(a, `${NS}/student-student-green:8080`);
      const fwdLive = ((https(a).rules[2].description.Actions ?? [])[0].ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn);
      assert.ok(fwdLive.includes(green));
    });

    it("tags and names target groups like the controller and takes health checks from the Service's annotations", () => {
      const t = a.targetGroups.find((x) => x.description.TargetGroupArn === tg(a, `${NS}/student-student-blue:8080`));
      assert.ok(t !== undefined);
      assert.deepEqual(t.tags, [
        { Key: "elbv2.k8s.aws/cluster", Value: CLUSTER },
        { Key: "ingress.k8s.aws/resource", Value: `${NS}/student-student-blue:8080` },
        { Key: "ingress.k8s.aws/stack", Value: GROUP },
      ]);
      const d = t.description;
      assert.match(d.TargetGroupName ?? "", /^k8s-apps-studentb-[0-9a-f]{10}$/);
      assert.match(d.TargetGroupArn ?? "", new RegExp(`^arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${d.TargetGroupName}/[0-9a-f]{16}$`));
      assert.equal(d.TargetType, "ip");
      assert.equal(d.Port, 1, "ip targets with a named targetPort get port 1 (buildTargetGroupPort)");
      assert.equal(d.HealthCheckPath, "/actuator/health");
      assert.deepEqual(d.Matcher, { HttpCode: "200-399" });
      assert.equal(d.HealthCheckIntervalSeconds, 10);
      assert.equal(d.HealthCheckTimeoutSeconds, 5);
      assert.deepEqual(d.LoadBalancerArns, [a.loadBalancer.LoadBalancerArn]);
      assert.deepEqual(t.backend, { namespace: NS, ingress: "student", service: "student-blue", servicePort: { name: "http", port: 8080, protocol: "TCP", targetPort: "http" } });
    });

    it("names and tags the load balancer and listeners; port 80 only redirects, port 443 has the certificate and the rules", () => {
      assert.equal(a.loadBalancer.LoadBalancerName, loadBalancerName(CLUSTER, GROUP, "internet-facing"));
      assert.match(a.loadBalancer.LoadBalancerName ?? "", /^k8s-prod-[0-9a-f]{10}$/);
      assert.match(a.loadBalancer.DNSName ?? "", /^k8s-prod-[0-9a-f]{10}-\d{10}\.ap-northeast-2\.elb\.amazonaws\.com$/);
      assert.equal(a.loadBalancer.Scheme, "internet-facing");
      assert.deepEqual(a.loadBalancerTags, [
        { Key: "elbv2.k8s.aws/cluster", Value: CLUSTER },
        { Key: "ingress.k8s.aws/resource", Value: "LoadBalancer" },
        { Key: "ingress.k8s.aws/stack", Value: GROUP },
      ]);
      assert.deepEqual(
        a.listeners.map((l) => [l.description.Port, l.description.Protocol, l.rules.length, l.tags.find((t) => t.Key === "ingress.k8s.aws/resource")?.Value]),
        [
          [80, "HTTP", 1, "80"],
          [443, "HTTPS", 9, "443"],
        ],
      );
      const http = a.listeners[0];
      assert.deepEqual(http.description.DefaultActions, [
        { Type: "redirect", Order: 1, RedirectConfig: { Protocol: "HTTPS", Port: "443", Host: "#{host}", Path: "/#{path}", Query: "#{query}", StatusCode: "HTTP_301" } },
      ]);
      const h = https(a);
      assert.equal(h.description.SslPolicy, "ELBSecurityPolicy-TLS13-1-2-2021-06");
      assert.deepEqual(h.description.Certificates, [{ CertificateArn: "arn:aws:acm:ap-northeast-2:123456789012:certificate/fixture" }]);
      const last = h.rules[h.rules.length - 1].description;
      assert.deepEqual([last.Priority, last.IsDefault, last.Actions], ["default", true, [{ Type: "fixed-response", Order: 1, FixedResponseConfig: { ContentType: "text/plain", StatusCode: "404" } }]]);
      assert.deepEqual(
        h.rules[0].tags.map((t) => `${t.Key}=${t.Value}`),
        [`elbv2.k8s.aws/cluster=${CLUSTER}`, "ingress.k8s.aws/resource=443:1", `ingress.k8s.aws/stack=${GROUP}`],
      );
    });

    it("is deterministic, and a flip changes only the live rules' weights and the preview rules' group (same rule and group ARNs)", () => {
      const again = alb(input([serviceIngress(STUDENT), serviceIngress(SUBJECT)]));
      assert.deepEqual(again, a);
      const green = alb(input([flipped(STUDENT, "green"), serviceIngress(SUBJECT)]));
      assert.deepEqual(green.targetGroups, a.targetGroups);
      assert.deepEqual(
        https(green).rules.map((r) => r.description.RuleArn),
        https(a).rules.map((r) => r.description.RuleArn),
      );
      const s = summary(https(green)).map(([p, , paths, fwd]) => [p, paths, fwd.replace(/-[0-9a-f]{10}=/g, "=")]);
      assert.deepEqual(s[2], ["3", "/student,/student/*", "k8s-apps-studentb=0 k8s-apps-studentg=100"]);
      assert.deepEqual(s[5], ["6", "/student,/student/*", "k8s-apps-studentb=1"]);
      assert.deepEqual(s[0], ["1", "/sugang,/sugang/*", "k8s-apps-subjectb=100 k8s-apps-subjectg=0"], "the other service is untouched");
    });
  });

  describe("what blocks the group (a build error fails the whole reconcile)", () => {
    const withAnnotation = (i: Ingress, k: string, v: string | undefined): Ingress => {
      const annotations = { ...(i.metadata.annotations ?? {}) };
      if (v === undefined) {
        delete annotations[k];
      } else {
        annotations[k] = v;
      }
      return { ...i, metadata: { ...i.metadata, annotations } };
    };
    const cases: Array<[string, () => ModelInput, RegExp]> = [
      ["one Ingress's broken action JSON", () => input([withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/actions.student-live", "{"), serviceIngress(SUBJECT)]), /^ingress: apps\/student: failed to parse json annotation/],
      ["a forward to a missing color Service", () => input([serviceIngress(STUDENT)], colorServices(STUDENT).slice(0, 1)), /^ingress: apps\/student: services "student-green" not found/],
      ["a weight over ELBv2's 999", () => input([withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/actions.student-live", '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"student-blue","servicePort":8080,"weight":1000},{"serviceName":"student-green","servicePort":8080,"weight":0}]}}')]), /weight must be between 0 and 999, got 1000/],
      ["two schemes in one group", () => input([withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/scheme", "internal"), serviceIngress(SUBJECT)]), /^conflicting scheme: \[internal internet-facing\]/],
      ["an HTTPS listener without a certificate", () => input([withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/certificate-arn", undefined)]), /HTTPS listener on port 443 needs alb\.ingress\.kubernetes\.io\/certificate-arn/],
      ["a port the Service does not have", () => input([withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/actions.student-live", JSON.stringify(forwardAction("student", 9090, "blue")))]), /unable to find port 9090 on service apps\/student-blue/],
      ["ssl-redirect to a port without an HTTPS listener", () => input([withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/ssl-redirect", "8443")]), /listener does not exist for SSLRedirect port: 8443/],
      ["an annotation the model does not implement", () => input([withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/conditions.student-live", "[]")]), /not modelled by the load-balancer double/],
    ];
    for (const [what, make, want] of cases) {
      it(what, () => {
        const r = buildAlb(make());
        assert.equal(r.kind, "error");
        assert.match((r as { message: string }).message, want);
      });
    }

    it("tolerates what the controller tolerates by default: a missing action or single backend Service becomes a fixed 503", () => {
      const noAction = withAnnotation(serviceIngress(STUDENT), "alb.ingress.kubernetes.io/actions.student-live", undefined);
      const r = alb(input([noAction], colorServices(STUDENT).slice(0, 1)));
      const actions = https(r).rules.map((x) => (x.description.Actions ?? [])[0]);
      assert.deepEqual(actions[0], { Type: "fixed-response", Order: 1, FixedResponseConfig: { ContentType: "text/plain", StatusCode: "503", MessageBody: "Backend action does not exist" } });
      // The preview rules forward to student-green alone, which does not exist here.
      assert.deepEqual(actions[3], { Type: "fixed-response", Order: 1, FixedResponseConfig: { ContentType: "text/plain", StatusCode: "503", MessageBody: "Backend service does not exist" } });
    });

    it("an empty group means no ALB", () => {
      assert.deepEqual(buildAlb(input([])), { kind: "empty" });
    });
  });

  describe("request routing", () => {
    const a = alb(input([serviceIngress(STUDENT), serviceIngress(SUBJECT)]));
    const l = https(a);
    const cases: Array<[string, string, string]> = [
      [LIVE_HOST, "/sugang/list?term=1", "1"],
      [LIVE_HOST.toUpperCase() + ":443", "/student", "3"],
      [LIVE_HOST, "/studentx", "5"],
      [LIVE_HOST, "/admin/users", "4"],
      [PREVIEW_HOST, "/", "8"],
      ["other.example.com", "/student", "default"],
    ];
    for (const [host, path, priority] of cases) {
      it(`${host}${path} -> rule ${priority}`, () => assert.equal(matchRule(l, host, path).description.Priority, priority));
    }

    it("matches ELBv2 wildcards: * any run, ? one character; hosts case-insensitive, paths case-sensitive", () => {
      assert.ok(hostMatches(["*.example.com"], "A.Example.com"));
      assert.ok(!hostMatches(["*.example.com"], "example.com"));
      assert.ok(pathMatches(["/a?c"], "/abc"));
      assert.ok(!pathMatches(["/Student/*"], "/student/x"));
    });

    it("chooses target groups in proportion to their weights, never one at weight 0", () => {
      const action: Action = { Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: "blue", Weight: 25 }, { TargetGroupArn: "green", Weight: 75 }, { TargetGroupArn: "zero", Weight: 0 }] } };
      const picks = Array.from({ length: 100 }, (_, i) => chooseTargetGroup(action, i / 100));
      assert.equal(picks.filter((p) => p === "blue").length, 25);
      assert.equal(picks.filter((p) => p === "green").length, 75);
      assert.equal(chooseTargetGroup({ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: "x", Weight: 0 }] } }, 0.5), undefined);
    });
  });

  describe("the real program's prod IngressGroup", function () {
    this.timeout(120_000);
    const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
    const SERVICE = "kubernetes:core/v1:Service";

    it("the fixtures are the program's objects: same Ingress annotations and spec, same color Services", async () => {
      const ev = await shippedStack("prod");
      for (const svc of [STUDENT, SUBJECT]) {
        const declared = ofType(ev, INGRESS).find((r) => r.name === `${svc.name}-ingress`);
        assert.ok(declared !== undefined, `${svc.name}'s Ingress is declared`);
        const meta = obj(declared.inputs["metadata"]);
        const annotations = obj(meta["annotations"]) as Record<string, string>;
        const group = Object.fromEntries(Object.keys(groupAnnotations()).map((k) => [k, annotations[k]]));
        const fixture = serviceIngress(svc, group);
        assert.deepEqual(annotations, fixture.metadata.annotations);
        assert.deepEqual(declared.inputs["spec"], fixture.spec);
        assert.deepEqual(meta["labels"], fixture.metadata.labels);
        for (const s of colorServices(svc)) {
          const d = ofType(ev, SERVICE).find((r) => obj(r.inputs["metadata"])["name"] === s.metadata.name);
          assert.ok(d !== undefined, `${s.metadata.name} is declared`);
          assert.deepEqual(obj(d.inputs["metadata"])["annotations"], s.metadata.annotations);
          assert.deepEqual(d.inputs["spec"], s.spec);
        }
      }
    });

    it("builds an ALB whose live rules forward each configured path of each service to its two colors, weighted by `active`", async () => {
      const ev = await shippedStack("prod");
      const { ingresses, services } = declaredObjects(ev);
      const a = alb({ clusterName: CLUSTER, region: REGION, accountId: ACCOUNT, groupName: "prod", ingresses, services });
      assert.deepEqual(a.members, ["apps/subject", "apps/student"]);
      const liveHost = String(obj(ingresses[0].spec?.rules?.[0] as unknown)["host"]);
      for (const svc of [STUDENT, SUBJECT]) {
        const blue = tg(a, `apps/${svc.name}-${svc.name}-blue:8080`);
        const green = tg(a, `apps/${svc.name}-${svc.name}-green:8080`);
        const live = https(a).rules.filter((r: { description: Rule }) =>
          (r.description.Conditions ?? []).some((c) => c.Field === "host-header" && (c.Values ?? []).includes(liveHost)) &&
          ((r.description.Actions ?? [])[0].ForwardConfig?.TargetGroups ?? []).some((t) => t.TargetGroupArn === blue),
        );
        assert.equal(live.length, svc.paths.length, `${svc.name}: one live rule per path`);
        for (const r of live) {
          assert.deepEqual((r.description.Actions ?? [])[0].ForwardConfig?.TargetGroups, [
            { TargetGroupArn: blue, Weight: 100 },
            { TargetGroupArn: green, Weight: 0 },
          ]);
        }
      }
    });
  });
});
