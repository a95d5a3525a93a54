/**
 * Every targeted up is checked by a targeted, policy-gated preview first: a flip may only move
 * the service's forward action, preview backend and selector; an unpark or park only its
 * color's Deployment, HPA and PDB. The classifier is table-tested on the engine's event shapes
 * (resourcePreEvent metadata with `detailedDiff` keys as pulumi-kubernetes v4.25.0 builds them,
 * pkg/provider/provider.go:2940-2955); the commands are tested on the in-memory stack, which
 * models the engine's targeted-update semantics.
 */
import { strict as assert } from "assert";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { COLOR_LABEL } from "../../infra/apps/blueGreenService";
import { liveActionName } from "../../infra/lib/bluegreen";
import { flip } from "../../automation/commands";
import { ExitCode } from "../../automation/exitCodes";
import { COLOR_LABEL_KEY, liveActionAnnotation } from "../../automation/guards/flipShape";
import { plannedChanges, targetedPlanProblems } from "../../automation/guards/targeted";
import { TargetRule } from "../../automation/planning";
import { Harness } from "./harness";
import { image } from "./loopback";
import { MemoryStack } from "./memoryStack";

const P = "urn:pulumi:prod::platform::platform:apps:BlueGreenService$";
const ING = `${P}kubernetes:networking.k8s.io/v1:Ingress::student-ingress`;
const SVC = `${P}kubernetes:core/v1:Service::student-active`;
const DEP = `${P}kubernetes:apps/v1:Deployment::student-green`;
const HPA = `${P}kubernetes:autoscaling/v2:HorizontalPodAutoscaler::student-green`;
const PROVIDER = "urn:pulumi:prod::platform::pulumi:providers:kubernetes::k8s";
const STACK = "urn:pulumi:prod::platform::pulumi:pulumi:Stack::platform-prod";
const RDS = "urn:pulumi:prod::platform::platform:data:Database$aws:rds/instance:Instance::prod-db";

const ANNOTATION = 'metadata.annotations["alb.ingress.kubernetes.io/actions.student-live"]';
const SELECTOR = 'spec.selector["platform.io/color"]';

function forward(blue: number, green: number): string {
  return JSON.stringify({
    Type: "forward",
    ForwardConfig: {
      TargetGroups: [
        { ServiceName: "student-blue", ServicePort: "8080", Weight: blue },
        { ServiceName: "student-green", ServicePort: "8080", Weight: green },
      ],
    },
  });
}

function ingressInputs(blue: number, green: number, previewBackend: string): Record<string, unknown> {
  const paths = (name: string): unknown[] => [{ path: "/student", pathType: "Prefix", backend: { service: { name } } }, { path: "/admin", pathType: "Prefix", backend: { service: { name } } }];
  return {
    metadata: { annotations: { "alb.ingress.kubernetes.io/actions.student-live": forward(blue, green) } },
    spec: { rules: [{ host: "prod.example.com", http: { paths: paths("student-live") } }, { host: "preview.prod.example.com", http: { paths: paths(previewBackend) } }] },
  };
}

/** A resourcePreEvent as the engine writes it (pulumi/pkg v3.276.0 engine/events.go:545-578). */
function pre(op: string, urn: string, type: string, keys: string[], inputs?: Record<string, unknown>, replaceKeys: string[] = []): EngineEvent {
  const detailedDiff: Record<string, { diffKind: string; inputDiff: boolean }> = {};
  for (const k of keys) {
    detailedDiff[k] = { diffKind: k.endsWith("!") ? "update-replace" : "update", inputDiff: false };
  }
  return {
    sequence: 0,
    timestamp: 0,
    resourcePreEvent: {
      planning: true,
      metadata: {
        op,
        urn,
        type,
        provider: `${PROVIDER}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`,
        diffs: [],
        keys: replaceKeys,
        detailedDiff,
        logical: true,
        ...(inputs !== undefined ? { new: { type, urn, id: "", parent: "", provider: "", inputs, outputs: {} } } : {}),
      },
    },
  } as unknown as EngineEvent;
}

const INGRESS_T = "kubernetes:networking.k8s.io/v1:Ingress";
const SERVICE_T = "kubernetes:core/v1:Service";
const exactIngress = pre("update", ING, INGRESS_T, [ANNOTATION, "spec.rules[1].http.paths[0].backend.service.name", "spec.rules[1].http.paths[1].backend.service.name"], ingressInputs(0, 100, "student-blue"));
const exactService = pre("update", SVC, SERVICE_T, [SELECTOR], { spec: { selector: { "app.kubernetes.io/name": "student", "platform.io/color": "green" } } });

const flipRules = new Map<string, TargetRule>([
  [ING, { kind: "flip-ingress", service: "student", to: "green" }],
  [SVC, { kind: "flip-service", service: "student", to: "green" }],
]);
/** A canary step to 25% green from blue: the Ingress alone, only its live action's weights. */
const canaryRules = new Map<string, TargetRule>([[ING, { kind: "canary-ingress", service: "student", weights: { blue: 75, green: 25 } }]]);
const canaryIngress = pre("update", ING, INGRESS_T, [ANNOTATION], ingressInputs(75, 25, "student-green"));
const colorRules = new Map<string, TargetRule>([
  [DEP, { kind: "color", service: "student", color: "green" }],
  [HPA, { kind: "color", service: "student", color: "green" }],
]);

describe("automation: targeted-plan check (pure)", () => {
  it("the flip's names are the program's", () => {
    assert.equal(COLOR_LABEL_KEY, COLOR_LABEL);
    assert.equal(liveActionAnnotation("student"), `alb.ingress.kubernetes.io/actions.${liveActionName("student")}`);
  });

  const cases: ReadonlyArray<{ name: string; rules: ReadonlyMap<string, TargetRule>; events: EngineEvent[]; problems: RegExp[] }> = [
    {
      name: "an exact flip: forward action, preview backends and selector; the rest same",
      rules: flipRules,
      events: [pre("same", STACK, "pulumi:pulumi:Stack", []), pre("same", PROVIDER, "pulumi:providers:kubernetes", []), exactIngress, exactService, pre("same", RDS, "aws:rds/instance:Instance", [])],
      problems: [],
    },
    { name: "a read changes nothing", rules: flipRules, events: [exactIngress, pre("read", `${P}kubernetes:core/v1:Namespace::apps`, "kubernetes:core/v1:Namespace", [])], problems: [] },
    { name: "only the Service moves (the Ingress already did)", rules: flipRules, events: [pre("same", ING, INGRESS_T, []), exactService], problems: [] },
    {
      name: "another pending change to the Ingress rides along",
      rules: flipRules,
      events: [pre("update", ING, INGRESS_T, [ANNOTATION, 'metadata.annotations["alb.ingress.kubernetes.io/load-balancer-attributes"]'], ingressInputs(0, 100, "student-blue"))],
      problems: [/student-ingress: metadata\.annotations\["alb\.ingress\.kubernetes\.io\/load-balancer-attributes"\] changes/],
    },
    {
      name: "a live-rule backend changes",
      rules: flipRules,
      events: [pre("update", ING, INGRESS_T, ["spec.rules[0].http.paths[0].backend.service.name"], ingressInputs(0, 100, "student-blue"))],
      problems: [/spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.name would become student-live/],
    },
    { name: "the forward action would not send 100 to the new color", rules: flipRules, events: [pre("update", ING, INGRESS_T, [ANNOTATION], ingressInputs(50, 50, "student-blue"))], problems: [/would not forward 100 to green/] },
    { name: "the selector picks the other color", rules: flipRules, events: [pre("update", SVC, SERVICE_T, [SELECTOR], { spec: { selector: { "platform.io/color": "blue" } } })], problems: [/selector would pick blue, not green/] },
    { name: "another Service field changes", rules: flipRules, events: [pre("update", SVC, SERVICE_T, ["spec.ports[0].port"], {})], problems: [/spec\.ports\[0\]\.port changes/] },
    { name: "a provider's config change would be applied mid-flip", rules: flipRules, events: [exactIngress, pre("update", PROVIDER, "pulumi:providers:kubernetes", ["kubeconfig"])], problems: [/update of provider k8s: a provider change would be applied with the targets/] },
    { name: "a resource outside the targets", rules: flipRules, events: [exactIngress, pre("create", `${P}kubernetes:core/v1:ConfigMap::student-cfg`, "kubernetes:core/v1:ConfigMap", [])], problems: [/create of kubernetes:core\/v1:ConfigMap student-cfg, which is not a target/] },
    { name: "a replacement of a target", rules: flipRules, events: [pre("replace", ING, INGRESS_T, ["spec.ingressClassName"], undefined, ["spec.ingressClassName"])], problems: [/replace of student-ingress \(replacement forced by spec\.ingressClassName\)/] },
    { name: "a delete of a flip target", rules: flipRules, events: [pre("delete", SVC, SERVICE_T, [])], problems: [/delete of student-active \(a flip only updates it\)/] },
    { name: "a canary step: the live action's weights alone, the rest same", rules: canaryRules, events: [pre("same", STACK, "pulumi:pulumi:Stack", []), canaryIngress, pre("same", SVC, SERVICE_T, [])], problems: [] },
    {
      name: "a canary step whose weights are not the step's",
      rules: canaryRules,
      events: [pre("update", ING, INGRESS_T, [ANNOTATION], ingressInputs(50, 50, "student-green"))],
      problems: [/would forward blue 50 \/ green 50, not blue 75 \/ green 25/],
    },
    {
      name: "a canary step that would move the preview rule (only the final switch may)",
      rules: canaryRules,
      events: [pre("update", ING, INGRESS_T, [ANNOTATION, "spec.rules[1].http.paths[0].backend.service.name"], ingressInputs(75, 25, "student-blue"))],
      problems: [/spec\.rules\[1\]\.http\.paths\[0\]\.backend\.service\.name changes \(a canary step changes only the live forward action's weights\)/],
    },
    {
      name: "a canary step carrying another pending Ingress change",
      rules: canaryRules,
      events: [pre("update", ING, INGRESS_T, [ANNOTATION, 'metadata.annotations["alb.ingress.kubernetes.io/load-balancer-attributes"]'], ingressInputs(75, 25, "student-green"))],
      problems: [/load-balancer-attributes"\] changes \(a canary step/],
    },
    {
      name: "a canary step that would switch the in-cluster Service (not a target of a step)",
      rules: canaryRules,
      events: [canaryIngress, exactService],
      problems: [/update of kubernetes:core\/v1:Service student-active, which is not a target/],
    },
    { name: "a canary step that would replace the Ingress", rules: canaryRules, events: [pre("replace", ING, INGRESS_T, ["spec.ingressClassName"], undefined, ["spec.ingressClassName"])], problems: [/replace of student-ingress/] },
    { name: "a canary step's unreadable forward action", rules: canaryRules, events: [pre("update", ING, INGRESS_T, [ANNOTATION], { metadata: { annotations: { "alb.ingress.kubernetes.io/actions.student-live": "{not json" } } })], problems: [/is not a forward action the check can read/] },
    { name: "a color's Deployment update and HPA create (unpark)", rules: colorRules, events: [pre("update", DEP, "kubernetes:apps/v1:Deployment", ["spec.replicas"]), pre("create", HPA, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", [])], problems: [] },
    { name: "a color's HPA delete (park)", rules: colorRules, events: [pre("delete", HPA, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", [])], problems: [] },
    { name: "a color target that would be replaced", rules: colorRules, events: [pre("update", DEP, "kubernetes:apps/v1:Deployment", ["spec.selector!"], undefined, ["spec.selector"])], problems: [/student-green \(replacement forced by spec\.selector\)/] },
    { name: "the database would be replaced by an unpark", rules: colorRules, events: [pre("replace", RDS, "aws:rds/instance:Instance", ["engineVersion"], undefined, ["engineVersion"])], problems: [/replace of aws:rds\/instance:Instance prod-db, which is not a target/] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const problems = targetedPlanProblems(plannedChanges(c.events), c.rules);
      assert.equal(problems.length, c.problems.length, problems.join("\n"));
      c.problems.forEach((re, i) => assert.match(problems[i] ?? "", re));
    });
  }
});

describe("automation: targeted ups are checked before they run", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  function prod(programChanges: ConstructorParameters<typeof MemoryStack>[0]["programChanges"], parked?: "green"): MemoryStack {
    return h.add(
      new MemoryStack({
        name: "prod",
        environment: "prod",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: image("student", "1"), green: image("student", "2"), parked, extra: { paths: ["/student", "/admin"] } }],
        programChanges,
      }),
    );
  }

  const refusals: ReadonlyArray<[string, ConstructorParameters<typeof MemoryStack>[0]["programChanges"], RegExp]> = [
    ["another pending change to the service's Ingress", { ingress: ["student"] }, /student-ingress: metadata\.annotations\["alb\.ingress\.kubernetes\.io\/load-balancer-attributes"\] changes/],
    ["a Kubernetes provider config change", { provider: true }, /update of provider k8s/],
    ["an Ingress depending on a resource not created yet", { uncreated: ["student"] }, /depends on '.*student-cert' which was was not specified in --target list/],
  ];
  for (const [name, changes, why] of refusals) {
    it(`refuses a flip (exit 5, before any change) when the checkout carries ${name}`, async () => {
      const stack = prod(changes);
      const raw = structuredClone(stack.config.get("platform:services"));
      const out = await flip(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.Refused, out.message);
      assert.match(out.message, /run a full up first/);
      assert.match(out.message, why);
      assert.equal(stack.count("up"), 0, "nothing ran");
      assert.deepEqual(stack.config.get("platform:services"), raw, "the config file is back");
      assert.ok(out.remediation.some((r) => r.includes("npm run platform -- up prod")));
    });
  }

  it("the restore is checked the same way; a refused restore is manual intervention", async () => {
    const stack = prod(undefined);
    h.world.unhealthyLive.add(image("student", "2"));
    // The restore's targeted preview (the second preview) fails the way a mid-flip provider change would.
    stack.onCall = (c) => {
      if (c.op === "preview" && stack.count("preview") === 2) {
        stack.pendingProvider = true;
      }
    };
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.ManualIntervention, out.message);
    assert.match(out.message, /restore refused: the targeted restore would do more than it is for \(run a full up first\): update of provider k8s/);
    assert.equal(stack.count("up"), 1, "the refused restore did not run");
  });

  it("an unpark never runs a full up: an RDS change in the checkout is not applied by a flip", async () => {
    const stack = prod({ rds: true }, "green");
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(stack.rdsReplaced, false);
    assert.ok(stack.ups().every((u) => u.target !== undefined), "every up of a flip is targeted");
  });
});
