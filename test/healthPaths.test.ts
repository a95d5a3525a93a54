/**
 * One health path per service: the target group checks it on the pod, and the driver's gates (and
 * the Route 53 check) request it through the ALB, which forwards the path unchanged. For every
 * shipped service: the path the target group checks is the path the gate URLs carry, and the
 * ALB's routing (the declared rules, evaluated in order) sends that path to the same service.
 */
import { strict as assert } from "assert";
import { pathPatterns } from "../infra/lib/albConditions";
import type { DeclaredResource } from "../automation/offline/mocks";
import { Evaluation, named, ofType, shippedStack, STACKS } from "./stack";

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** An ALB path-pattern value as ELBv2 matches it: `*` any characters, `?` one, case-sensitive. */
function matchesPattern(pattern: string, path: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return re.test(path);
}

/**
 * The backend the stack's IngressGroup sends `host` + `path` to: Ingresses by `group.order`, then
 * rules and paths in declaration order (the controller's rule priorities), first match wins.
 */
function ingressRoute(ev: Evaluation, group: string, host: string, path: string): string | undefined {
  const ingresses = ofType(ev, "kubernetes:networking.k8s.io/v1:Ingress")
    .map((r) => ({ r, annotations: o(o(r.inputs["metadata"])["annotations"]) }))
    .filter((x) => x.annotations["alb.ingress.kubernetes.io/group.name"] === group)
    .sort((a, b) => Number(a.annotations["alb.ingress.kubernetes.io/group.order"] ?? 0) - Number(b.annotations["alb.ingress.kubernetes.io/group.order"] ?? 0));
  for (const { r } of ingresses) {
    for (const rule of arr(o(r.inputs["spec"])["rules"]).map(o)) {
      if (rule["host"] !== host) {
        continue;
      }
      for (const p of arr(o(rule["http"])["paths"]).map(o)) {
        if (pathPatterns(String(p["path"]), String(p["pathType"])).some((pattern) => matchesPattern(pattern, path))) {
          return String(o(o(p["backend"])["service"])["name"]);
        }
      }
    }
  }
  return undefined;
}

/** The target group the test host's HTTPS listener forwards `path` to (rules by priority). */
function listenerRoute(ev: Evaluation, path: string): string | undefined {
  const rules = ofType(ev, "aws:lb/listenerRule:ListenerRule").sort((a, b) => Number(a.inputs["priority"]) - Number(b.inputs["priority"]));
  for (const rule of rules) {
    const patterns = arr(rule.inputs["conditions"]).flatMap((c) => arr(o(o(c)["pathPattern"])["values"]).map(String));
    if (patterns.some((pattern) => matchesPattern(pattern, path))) {
      return String(o(arr(rule.inputs["actions"])[0])["targetGroupArn"]);
    }
  }
  return undefined;
}

interface ServiceOut {
  readonly name: string;
  readonly active: string;
  readonly liveHealthUrl: string;
  readonly previewHealthUrl?: string;
}

function services(ev: Evaluation): ServiceOut[] {
  return arr(ev.outputs["services"]) as ServiceOut[];
}

function colorService(ev: Evaluation, name: string): DeclaredResource {
  return named(ev, "kubernetes:core/v1:Service", name);
}

describe("health paths: the target group checks what the gates request, and the ALB routes it there", () => {
  for (const stack of STACKS) {
    describe(stack, () => {
      let ev: Evaluation;
      before(async () => {
        ev = await shippedStack(stack);
      });

      it("every shipped service", () => {
        assert.ok(services(ev).length > 0);
        for (const s of services(ev)) {
          const live = new URL(s.liveHealthUrl);
          if (stack === "test") {
            const tg = named(ev, "aws:lb/targetGroup:TargetGroup", `test-host-${s.name}`);
            assert.equal(o(tg.inputs["healthCheck"])["path"], live.pathname, `${s.name}: target group health check vs gate`);
            assert.match(String(listenerRoute(ev, live.pathname)), new RegExp(`/test-host-${s.name}$`), `${s.name}: the listener sends ${live.pathname} to its target group`);
            continue;
          }
          const idle = s.active === "blue" ? "green" : "blue";
          for (const color of ["blue", "green"]) {
            const annotations = o(o(colorService(ev, `${s.name}-${color}`).inputs["metadata"])["annotations"]);
            assert.equal(annotations["alb.ingress.kubernetes.io/healthcheck-path"], live.pathname, `${s.name}-${color}: target group health check vs live gate`);
          }
          assert.equal(ingressRoute(ev, stack, live.host, live.pathname), `${s.name}-live`, `${s.name}: live host routes ${live.pathname} to the service's weighted action`);
          assert.ok(s.previewHealthUrl !== undefined);
          const preview = new URL(s.previewHealthUrl);
          assert.equal(preview.pathname, live.pathname, `${s.name}: the preview gate probes the same path`);
          assert.equal(ingressRoute(ev, stack, preview.host, preview.pathname), `${s.name}-${idle}`, `${s.name}: preview host routes ${preview.pathname} to the idle color`);
        }
      });

      if (stack !== "test") {
        it("the Route 53 health check requests the first service's health path on the live host", () => {
          const check = named(ev, "aws:route53/healthCheck:HealthCheck", `${stack}-health`).inputs;
          const first = new URL(services(ev)[0].liveHealthUrl);
          assert.equal(check["fqdn"], first.host);
          assert.equal(check["resourcePath"], first.pathname);
        });
      }
    });
  }
});
