/**
 * The driver's pure logic, table-driven and without stand-ins: image references, color
 * selection and promotion planning, flip targets, pending operations, engine-event parsing,
 * the stateful guard, backoff, health-gate config, config edits, target-group matching,
 * notification embeds, workspace settings and exit codes.
 */
import { strict as assert } from "assert";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { backoffDelays } from "../../automation/backoff";
import { backupPath } from "../../automation/adapters/backup";
import { discordEmbed, redact } from "../../automation/adapters/discord";
import { isColorTargetGroup } from "../../automation/adapters/elbv2";
import { splitRepository } from "../../automation/adapters/registry";
import { checkPassphrase, resolveWorkspaceSettings } from "../../automation/adapters/workspace";
import { collectFindings, formatSummary, hasChanges, mandatory, plainText, previewMarkdown, statefulHazards, summarize, urnName } from "../../automation/changes";
import { resolvePolicy, runContextFromEnv } from "../../automation/cli/realDeps";
import { RefusedError, UsageError } from "../../automation/errors";
import { EXIT_CODE_TABLE, ExitCode } from "../../automation/exitCodes";
import { formatDuration } from "../../automation/format";
import { healthGateFromConfig } from "../../automation/gates/health";
import { parseImageRef, sameDigest, shortImage } from "../../automation/images";
import { checkPending, pendingOperations, pendingRemediation } from "../../automation/guards/pending";
import { colorPlan, deployModeOf, flipEdits, flipTargets, mergePlans, parkEdits, planFlip, planStaging, stagingEdits, switchPlan } from "../../automation/planning";
import { colorServiceName, editReleases, editServices, healthUrlOf, parseServices, readStackOutputs, ServiceEntry } from "../../automation/stackConfig";
import { DeploymentReport } from "../../automation/ports";
import { Json } from "../../automation/types";
import { digest, image, REGISTRY } from "./loopback";

const D1 = digest("one");
const D2 = digest("two");

describe("automation: pure logic", () => {
  describe("image references", () => {
    const cases: ReadonlyArray<[string, { repository: string; tag?: string; digest?: string } | undefined]> = [
      [`${REGISTRY}/student:1.5.0`, { repository: `${REGISTRY}/student`, tag: "1.5.0" }],
      [`${REGISTRY}/student@${D1}`, { repository: `${REGISTRY}/student`, digest: D1 }],
      [`localhost:5000/team/app:v2`, { repository: "localhost:5000/team/app", tag: "v2" }],
      [`127.0.0.1:5000/app@${D2}`, { repository: "127.0.0.1:5000/app", digest: D2 }],
      ["student", undefined],
      [`${REGISTRY}/student@sha256:abc`, undefined],
      ["Student:1", undefined],
    ];
    for (const [text, want] of cases) {
      it(`parses ${text}`, () => assert.deepEqual(parseImageRef(text), want));
    }
    it("compares digests of the same repository only", () => {
      assert.equal(sameDigest(`r/a@${D1}`, `r/a@${D1}`), true);
      assert.equal(sameDigest(`r/a@${D1}`, `r/b@${D1}`), false);
      assert.equal(sameDigest(`r/a@${D1}`, `r/a@${D2}`), false);
      assert.equal(sameDigest(`r/a:1`, `r/a:1`), false, "tags are never 'the same digest'");
      assert.equal(sameDigest(undefined, `r/a@${D1}`), false);
    });
    it("shortens digests for humans", () => {
      assert.equal(shortImage(`${REGISTRY}/student@${D1}`), `student@${D1.slice(0, 19)}`);
      assert.equal(shortImage(undefined), "(none)");
      assert.equal(shortImage("r/a:1"), "r/a:1");
    });
    it("splits registries like the Docker CLI", () => {
      assert.deepEqual(splitRepository(`${REGISTRY}/student`), { registry: REGISTRY, name: "student" });
      assert.deepEqual(splitRepository("localhost/a/b"), { registry: "localhost", name: "a/b" });
      assert.deepEqual(splitRepository("nginx"), { registry: "registry-1.docker.io", name: "library/nginx" });
      assert.deepEqual(splitRepository("team/app"), { registry: "registry-1.docker.io", name: "team/app" });
    });
  });

  describe("promotion planning", () => {
    const svc = (name: string, active: "blue" | "green", blue?: string, green?: string): ServiceEntry => ({
      name,
      healthPath: "/h",
      active,
      blue: blue === undefined ? {} : { image: blue },
      green: green === undefined ? {} : { image: green },
    });
    const S1 = image("s", "1");
    const S2 = image("s", "2");
    const S3 = image("s", "3");

    const cases: ReadonlyArray<{ name: string; mode: "single" | "blue-green"; service: ServiceEntry; newImage: string; slot?: string; to?: string; unchanged?: boolean }> = [
      { name: "blue active -> stage into green", mode: "blue-green", service: svc("s", "blue", S1, S2), newImage: S3, slot: "green", to: "green" },
      { name: "green active -> stage into blue", mode: "blue-green", service: svc("s", "green", S1, S2), newImage: S3, slot: "blue", to: "blue" },
      { name: "idle color empty", mode: "blue-green", service: svc("s", "blue", S1), newImage: S3, slot: "green", to: "green" },
      { name: "idle already has it: still staged and flipped", mode: "blue-green", service: svc("s", "blue", S1, S3), newImage: S3, slot: "green", to: "green" },
      { name: "already live: nothing to do", mode: "blue-green", service: svc("s", "green", S1, S3), newImage: S3, unchanged: true },
      { name: "single host: replace the active color", mode: "single", service: svc("s", "blue", S1), newImage: S3, slot: "blue", to: "blue" },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const plan = planStaging("stk", c.mode, [c.service], [{ service: "s", image: c.newImage }]);
        if (c.unchanged === true) {
          assert.equal(plan.changes.length, 0);
          assert.deepEqual(plan.unchanged, [{ service: "s", image: c.newImage }]);
          return;
        }
        const [change] = plan.changes;
        assert.equal(change?.slot, c.slot);
        assert.equal(change?.toColor, c.to);
        assert.equal(change?.fromColor, c.service.active);
        assert.equal(change?.oldImage, c.service[c.service.active].image);
        assert.deepEqual(stagingEdits(plan).get("s"), { [c.slot ?? ""]: c.newImage });
        assert.deepEqual(flipEdits(plan.changes).get("s"), { active: c.to });
      });
    }
    it("rejects unknown services, duplicates and tags", () => {
      assert.throws(() => planStaging("stk", "single", [svc("s", "blue", S1)], [{ service: "x", image: S2 }]), (e: unknown) => e instanceof UsageError && /no service named x/.test(e.message));
      assert.throws(() => planStaging("stk", "single", [svc("s", "blue", S1)], [{ service: "s", image: S2 }, { service: "s", image: S3 }]), /listed twice/);
      assert.throws(() => planStaging("stk", "single", [svc("s", "blue", S1)], [{ service: "s", image: "r/s:1" }]), /pinned by digest/);
    });
    it("plans flips to the idle color by default", () => {
      assert.deepEqual(planFlip(svc("s", "blue", S1, S2), undefined), { from: "blue", to: "green", image: S2, targetParked: false });
      assert.deepEqual(planFlip(svc("s", "green", S1, S2), "green"), { from: "green", to: "green", image: S2, targetParked: false });
      assert.deepEqual(planFlip(svc("s", "green", S1), undefined), { from: "green", to: "blue", image: S1, targetParked: false });
    });

    const parkedSvc = (active: "blue" | "green", parked: "blue" | "green" | undefined, idle?: "warm" | "parked"): ServiceEntry => ({
      name: "s",
      healthPath: "/h",
      active,
      blue: { image: S1, ...(parked === "blue" ? { parked: true } : {}) },
      green: { image: S2, ...(parked === "green" ? { parked: true } : {}) },
      ...(idle !== undefined ? { idle } : {}),
    });
    const parkCases: ReadonlyArray<{ name: string; service: ServiceEntry; staging: object; flipParked: boolean; park: object | undefined }> = [
      { name: "warm idle: staging only sets the image, nothing to park", service: parkedSvc("blue", undefined), staging: { green: S3 }, flipParked: false, park: undefined },
      { name: "warm policy, idle parked by hand: staging unparks, nothing parked after", service: parkedSvc("blue", "green", "warm"), staging: { green: S3, parked: { green: false } }, flipParked: true, park: undefined },
      { name: "parked policy: staging unparks the slot, the old color is parked after", service: parkedSvc("blue", "green", "parked"), staging: { green: S3, parked: { green: false } }, flipParked: true, park: { parked: { blue: true } } },
      { name: "parked policy, green active: parks blue's counterpart", service: parkedSvc("green", "blue", "parked"), staging: { blue: S3, parked: { blue: false } }, flipParked: true, park: { parked: { green: true } } },
    ];
    for (const c of parkCases) {
      it(`park: ${c.name}`, () => {
        const plan = planStaging("stk", "blue-green", [c.service], [{ service: "s", image: S3 }]);
        assert.deepEqual(stagingEdits(plan).get("s"), c.staging);
        assert.equal(planFlip(c.service, undefined).targetParked, c.flipParked);
        assert.deepEqual(parkEdits([c.service], plan.changes).get("s"), c.park);
      });
    }
    it("park: nothing to park when the color did not change (single mode, no-op flips)", () => {
      const service = parkedSvc("blue", undefined, "parked");
      assert.equal(parkEdits([service], [{ service: "s", fromColor: "blue", toColor: "blue" }]).size, 0);
      assert.equal(planFlip(parkedSvc("blue", "blue"), "blue").targetParked, false, "the active color is never a parked target");
    });
    it("derives the deploy mode from the environment", () => {
      assert.equal(deployModeOf("test", "anything"), "single");
      assert.equal(deployModeOf("staging", "test"), "blue-green");
      assert.equal(deployModeOf(undefined, "test"), "single");
      assert.equal(deployModeOf(undefined, "prod"), "blue-green");
    });
  });

  describe("flip targets and pending operations", () => {
    const u = (type: string, name: string): { urn: string; type: string } => ({ urn: `urn:pulumi:prod::platform::platform:apps:BlueGreenService$${type}::${name}`, type });
    const ING = "kubernetes:networking.k8s.io/v1:Ingress";
    const SVC = "kubernetes:core/v1:Service";
    const state = (resources: Array<{ urn: string; type: string }>, pending: unknown[] = []): { version: number; deployment: unknown } => ({
      version: 3,
      deployment: { resources, pending_operations: pending },
    });
    it("finds the ingress and active Service by type and name suffix", () => {
      const rs = [u(ING, "student-ingress"), u(SVC, "student-active"), u(SVC, "student-blue"), u(ING, "substudent-ingress"), u(SVC, "xstudent-active")];
      assert.deepEqual(flipTargets(state(rs), ["student"]), [rs[0]?.urn, rs[1]?.urn]);
    });
    // The engine targets the root stack implicitly (its outputs are re-registered by every up), and an
    // explicit stack target would make every resource a dependent target under --target-dependents.
    it("a switch targets the Ingress and the active Service only, never the root stack", () => {
      const rs = [u(ING, "student-ingress"), u(SVC, "student-active"), { urn: "urn:pulumi:prod::platform::pulumi:pulumi:Stack::platform-prod", type: "pulumi:pulumi:Stack" }];
      const plan = switchPlan(state(rs), [{ service: "student", to: "green" }]);
      assert.deepEqual(plan.urns, [rs[0]?.urn, rs[1]?.urn]);
      assert.deepEqual([...plan.rules.values()].map((r) => r.kind), ["flip-ingress", "flip-service"]);
    });
    it("a color's targets are its Deployment, HPA and PDB, named after its Service in the state (present or not yet)", () => {
      const colorSvc = u(SVC, "student-green");
      const plan = colorPlan(state([colorSvc, u(SVC, "student-blue"), u("kubernetes:apps/v1:Deployment", "student-blue")]), "student", "green");
      assert.deepEqual(plan.urns, [
        "urn:pulumi:prod::platform::platform:apps:BlueGreenService$kubernetes:apps/v1:Deployment::student-green",
        "urn:pulumi:prod::platform::platform:apps:BlueGreenService$kubernetes:autoscaling/v2:HorizontalPodAutoscaler::student-green",
        "urn:pulumi:prod::platform::platform:apps:BlueGreenService$kubernetes:policy/v1:PodDisruptionBudget::student-green",
      ]);
      assert.throws(() => colorPlan(state([]), "student", "green"), (e: unknown) => e instanceof RefusedError && /Service student-green is not in the state/.test(e.message));
      const merged = mergePlans(plan, switchPlan(state([u(ING, "student-ingress"), u(SVC, "student-active")]), [{ service: "student", to: "blue" }]));
      assert.equal(merged.urns.length, 5);
    });
    it("refuses when a target is missing or ambiguous", () => {
      assert.throws(() => flipTargets(state([u(ING, "student-ingress")]), ["student"]), (e: unknown) => e instanceof RefusedError && /student-active.*not in state/.test(e.message));
      const dup = [u(ING, "student-ingress"), u(ING, "student-ingress"), u(SVC, "student-active")];
      assert.throws(() => flipTargets(state(dup), ["student"]), /2 matches/);
      assert.throws(() => flipTargets({ version: 3, deployment: null }, ["student"]), /not in state/);
    });
    it("reads pending operations and prints the remediation", () => {
      const ops = pendingOperations(state([], [{ type: "creating", resource: { urn: "urn:a" } }, { type: "deleting", resource: { urn: "urn:b" } }]));
      assert.deepEqual(ops, [{ type: "creating", urn: "urn:a" }, { type: "deleting", urn: "urn:b" }]);
      // No hand edit of the state: a refresh writes a snapshot without non-create pending operations
      // (pulumi/pkg v3.276.0 backend/snapshot.go:835-851); pending creates need refresh's pending-create flags.
      const mixed = pendingRemediation("prod", ops);
      assert.ok(!mixed.some((l) => l.includes("pulumi stack import")));
      assert.ok(mixed.some((l) => l.includes("`pulumi refresh --stack prod --clear-pending-creates`") && l.endsWith("that refresh also clears the other operations (updating, deleting)")));
      const creates = pendingRemediation("prod", [{ type: "creating", urn: "urn:a" }]);
      assert.ok(creates.some((l) => l.includes("pulumi refresh --stack prod --clear-pending-creates")));
      assert.ok(!creates.some((l) => l.includes("other operations")));
      assert.deepEqual(pendingOperations({ version: 3, deployment: {} }), []);
    });
    it("the repair the pending-operations guard prints is one it does not itself refuse: a refresh, never the next `up`", () => {
      const left = state([], [{ type: "updating", resource: { urn: "urn:b" } }]);
      let refused: unknown;
      try {
        checkPending("prod", left, { supported: true, locks: [] });
      } catch (e) {
        refused = e;
      }
      assert.ok(refused instanceof RefusedError, "an up on this state is refused (exit 5)");
      assert.deepEqual(refused.remediation, [
        "no update holds the stack's lock",
        "pending updating: urn:b",
        "an update was stopped while these steps ran; the cloud may have the change applied even though the state does not record it",
        "the driver refuses to run on this state; a `pulumi refresh` of the stack clears the operations (run it with the backend and passphrase the driver uses)",
        "the operations (updating, deleting): `pulumi refresh --stack prod` records what the cloud holds and clears them, no state edit needed",
        "then `npm run platform -- preview prod` shows what an `up` would still change, and re-run this command",
      ]);
      assert.ok(!refused.remediation.some((l) => /next `up`|`up` .*clears/.test(l)));
    });
  });

  describe("engine events", () => {
    const ev = (e: Omit<EngineEvent, "sequence" | "timestamp">, n: number): EngineEvent => ({ sequence: n, timestamp: 0, ...e });
    const meta = (op: "update" | "replace" | "delete" | "create-replacement" | "delete-replaced" | "same", type: string, name: string) => ({
      op,
      type,
      urn: `urn:pulumi:s::p::${type}::${name}`,
      provider: "",
    });
    const events: EngineEvent[] = [
      ev({ resourcePreEvent: { metadata: meta("update", "kubernetes:apps/v1:Deployment", "student-green") } }, 1),
      ev({ resourcePreEvent: { metadata: meta("replace", "aws:rds/instance:Instance", "db") } }, 2),
      ev({ resourcePreEvent: { metadata: meta("create-replacement", "aws:rds/instance:Instance", "db") } }, 3),
      ev({ resourcePreEvent: { metadata: meta("delete", "aws:s3/bucket:Bucket", "images") } }, 4),
      ev({ resourcePreEvent: { metadata: meta("replace", "aws:ec2/instance:Instance", "host") } }, 5),
      ev({ resourcePreEvent: { metadata: meta("same", "aws:efs/fileSystem:FileSystem", "prom") } }, 6),
      ev(
        {
          policyEvent: {
            resourceUrn: "urn:x::db",
            message: "<{%fg 1%}>storage must be encrypted<{%reset%}>",
            color: "raw",
            policyName: "rds-encrypted",
            policyPackName: "platform",
            policyPackVersion: "1",
            policyPackVersionTag: "1",
            enforcementLevel: "mandatory",
          },
        },
        7,
      ),
      ev({ policyEvent: { message: "tag it", color: "raw", policyName: "tags", policyPackName: "platform", policyPackVersion: "1", policyPackVersionTag: "1", enforcementLevel: "warning" } }, 8),
      ev({ diagnosticEvent: { message: "boom\n", color: "raw", severity: "error" } }, 9),
      ev({ diagnosticEvent: { message: "fyi", color: "raw", severity: "info" } }, 10),
    ];
    it("collects steps, violations and errors", () => {
      const f = collectFindings(events);
      assert.equal(f.steps.length, 6);
      assert.deepEqual(f.violations.map((v) => [v.enforcement, v.policy, v.message, v.urn]), [
        ["mandatory", "rds-encrypted", "storage must be encrypted", "urn:x::db"],
        ["advisory", "tags", "tag it", undefined],
      ]);
      assert.deepEqual(mandatory(f.violations).map((v) => v.policy), ["rds-encrypted"]);
      assert.deepEqual(f.errors, ["boom"]);
    });
    it("flags replaces and deletes of stateful types only, once per resource", () => {
      const hazards = statefulHazards(collectFindings(events).steps);
      assert.deepEqual(hazards.map((x) => [x.op, x.type, urnName(x.urn)]), [
        ["replace", "aws:rds/instance:Instance", "db"],
        ["delete", "aws:s3/bucket:Bucket", "images"],
      ]);
    });
    for (const type of ["aws:rds/instance:Instance", "aws:efs/fileSystem:FileSystem", "eks:index:Cluster", "aws:eks/cluster:Cluster", "aws:opensearch/domain:Domain", "aws:s3/bucket:Bucket"]) {
      it(`treats ${type} as stateful`, () => {
        assert.equal(statefulHazards([{ op: "delete-replaced", type, urn: "u::x" }]).length, 1);
        assert.equal(statefulHazards([{ op: "update", type, urn: "u::x" }]).length, 0);
      });
    }
    it("summarizes the change map", () => {
      const s = summarize({ create: 2, update: 1, replace: 1, delete: 3, same: 40, "create-replacement": 1 });
      assert.deepEqual(s, { creates: 2, updates: 1, replaces: 1, deletes: 3, unchanged: 40 });
      assert.equal(formatSummary(s), "2 to create, 1 to update, 1 to replace, 3 to delete, 40 unchanged");
      assert.equal(hasChanges(s), true);
      assert.equal(hasChanges(summarize({ same: 4 })), false);
      assert.equal(plainText("<{%bold%}>x<{%reset%}> "), "x");
    });
    it("renders Markdown with escaped cells", () => {
      const f = collectFindings(events);
      const md = previewMarkdown({ stack: "prod", summary: summarize({ update: 1 }), findings: f, hazards: statefulHazards(f.steps), verdict: "v" });
      assert.match(md, /^### Pulumi preview: `prod`/);
      assert.match(md, /\| 0 \| 1 \| 0 \| 0 \| 0 \|/);
      assert.match(md, /:warning: replace `aws:rds\/instance:Instance` \*\*db\*\*/);
      assert.match(md, /\| mandatory \| platform \| rds-encrypted \| db \| storage must be encrypted \|/);
      assert.ok(!md.includes("| same |"), "unchanged resources are not listed");
    });
  });

  describe("backoff", () => {
    it("doubles up to the cap without jitter", () => {
      assert.deepEqual(backoffDelays({ attempts: 6, initialMs: 1_000, factor: 2, maxMs: 5_000, jitter: 0 }), [1_000, 2_000, 4_000, 5_000, 5_000]);
    });
    it("keeps jitter within bounds and under the cap", () => {
      const policy = { attempts: 8, initialMs: 1_000, factor: 2, maxMs: 8_000, jitter: 0.2 };
      for (const r of [0, 0.5, 0.999]) {
        const d = backoffDelays(policy, () => r);
        assert.equal(d.length, 7);
        d.forEach((ms, i) => {
          const base = Math.min(8_000, 1_000 * 2 ** i);
          assert.ok(ms >= base * 0.8 - 1 && ms <= Math.min(8_000, base * 1.2 + 1), `${ms} vs ${base}`);
        });
      }
    });
    it("one attempt means no retry", () => assert.deepEqual(backoffDelays({ attempts: 1, initialMs: 1, factor: 2, maxMs: 1, jitter: 0 }), []));
  });

  describe("health gate config", () => {
    it("defaults: 5 consecutive successes, each within 2 s, probed every 2 s, for at most 3 minutes", () =>
      assert.deepEqual(healthGateFromConfig(undefined), { successes: 5, latencyMs: 2_000, intervalMs: 2_000, timeoutMs: 180_000 }));
    it("overrides", () =>
      assert.deepEqual(healthGateFromConfig({ successes: 10, latencyMs: 500, timeoutSeconds: 60, intervalMs: 1000 }), {
        successes: 10,
        latencyMs: 500,
        timeoutMs: 60_000,
        intervalMs: 1000,
      }));
    const bads: Json[] = [{ successes: 0 }, { latencyMs: "fast" }, { unknown: 1 }, "five"];
    for (const bad of bads) {
      it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => healthGateFromConfig(bad), UsageError));
    }
  });

  describe("config edits", () => {
    const raw: Json[] = [
      { name: "a", port: 80, healthPath: "/h", paths: ["/"], active: "blue", blue: { image: "r/a:1", extra: true }, green: {}, replicas: 3 },
      { name: "b", port: 80, healthPath: "/h", paths: ["/b"], active: "green", blue: {}, green: { image: "r/b:1" } },
    ];
    it("changes only active and images, preserving every other field", () => {
      const out = editServices(raw, new Map([["a", { active: "green" as const, green: "r/a@x" }]]));
      const first = raw[0];
      assert.ok(first !== null && typeof first === "object" && !Array.isArray(first));
      assert.deepEqual(out, [{ ...first, active: "green", green: { image: "r/a@x" } }, raw[1]]);
      assert.equal(first["active"], "blue", "input not mutated");
    });
    it("sets and clears parked without touching the color's other fields", () => {
      const parked = editServices(raw, new Map([["a", { parked: { green: true } }]]));
      assert.deepEqual((parked as Array<Record<string, Json>>)[0]?.["green"], { parked: true });
      const back = editServices(parked, new Map([["a", { parked: { green: false }, green: "r/a@y" }]]));
      assert.deepEqual((back as Array<Record<string, Json>>)[0]?.["green"], { image: "r/a@y" }, "the flag is removed, not set to false");
      const blue = editServices(raw, new Map([["a", { parked: { blue: false } }]]));
      assert.deepEqual(blue, raw, "clearing an absent flag changes nothing");
    });
    it("refuses edits to unknown services", () => assert.throws(() => editServices(raw, new Map([["zz", { active: "blue" as const }]])), /no service named zz/));
    it("parses and validates the services value", () => {
      assert.equal(parseServices("s", raw).services.length, 2);
      assert.throws(() => parseServices("s", [{ name: "a", active: "purple", blue: {}, green: {}, healthPath: "/" }]), UsageError);
      assert.deepEqual(parseServices("s", undefined).services, []);
    });
    it("writes release records next to the existing ones", () => {
      const out = editReleases({ x: { image: "r/x@1", verifiedAt: "t", source: "release" } }, new Map([["a", { image: "r/a@2", verifiedAt: "t2", source: "promote test->staging" }]]));
      assert.deepEqual(out, { x: { image: "r/x@1", verifiedAt: "t", source: "release" }, a: { image: "r/a@2", verifiedAt: "t2", source: "promote test->staging" } });
    });
  });

  describe("stack outputs (the output contract)", () => {
    const svc = {
      name: "a",
      active: "blue",
      blue: { image: "r/a@x", serviceName: "a-blue-v2" },
      green: {},
      healthPath: "/actuator/health",
      paths: ["/a"],
      liveHealthUrl: "https://k.com/a/actuator/health",
      previewHealthUrl: "https://preview.k.com/a/actuator/health",
      namespace: "apps",
    };
    it("reads the health URLs and the cluster as the program exports them", () => {
      const out = readStackOutputs("prod", { environment: "prod", cluster: { name: "prod-cluster" }, services: [svc] });
      const a = out?.services.get("a");
      assert.ok(a !== undefined);
      assert.equal(healthUrlOf(a, "live"), "https://k.com/a/actuator/health");
      assert.equal(healthUrlOf(a, "preview"), "https://preview.k.com/a/actuator/health");
      assert.equal(healthUrlOf({ ...a, previewHealthUrl: undefined }, "preview"), undefined, "the test host has no preview host");
      assert.equal(out?.clusterName, "prod-cluster");
    });
    it("names a color's Service from the outputs, else by the <service>-<color> convention", () => {
      const a = readStackOutputs("prod", { environment: "prod", services: [svc] })?.services.get("a");
      assert.equal(colorServiceName("a", "blue", a), "a-blue-v2");
      assert.equal(colorServiceName("a", "green", a), "a-green");
      assert.equal(colorServiceName("b", "green", undefined), "b-green");
    });
    it("a stack without outputs (never updated) has none; outputs that break the contract are an error", () => {
      assert.equal(readStackOutputs("prod", {}), undefined);
      const legacy = { environment: "prod", services: [{ name: "a", active: "blue", blue: {}, green: {}, healthPath: "/h", liveUrl: "https://k.com" }] };
      assert.throws(
        () => readStackOutputs("prod", legacy),
        (e: unknown) =>
          e instanceof UsageError &&
          /^stack "prod": stack outputs do not follow the output contract: .*services\.0\.liveHealthUrl/.test(e.message) &&
          e.remediation.some((r) => r.includes("up prod")),
      );
    });
  });

  describe("target groups", () => {
    const tags = (resource: string, cluster = "prod-cluster"): Array<{ Key: string; Value: string }> => [
      { Key: "elbv2.k8s.aws/cluster", Value: cluster },
      { Key: "ingress.k8s.aws/resource", Value: resource },
    ];
    const q = { clusterName: "prod-cluster", namespace: "apps", serviceName: "student-green" };
    const cases: ReadonlyArray<[string, Array<{ Key: string; Value: string }>, boolean]> = [
      ["the color's target group", tags("apps/student-student-green:8080"), true],
      ["the other color", tags("apps/student-student-blue:8080"), false],
      ["another cluster", tags("apps/student-student-green:8080", "staging-cluster"), false],
      ["another namespace", tags("other/student-student-green:8080"), false],
      ["a service whose name ends the same", tags("apps/student-xstudent-green:8080"), false],
      ["no resource tag", [{ Key: "elbv2.k8s.aws/cluster", Value: "prod-cluster" }], false],
    ];
    for (const [name, t, want] of cases) {
      it(name, () => assert.equal(isColorTargetGroup(t, q), want));
    }
  });

  describe("notifications", () => {
    const report: DeploymentReport = {
      kind: "promote",
      stack: "prod",
      source: "staging",
      services: [{ service: "student", fromColor: "blue", toColor: "green", oldImage: image("student", "1"), newImage: image("student", "2") }],
      result: "rolled back",
      exitCode: 3,
      startedAt: Date.UTC(2025, 0, 1),
      durationMs: 125_000,
      phases: [{ name: "stage", durationMs: 65_000, ok: true }, { name: "flip", durationMs: 2_000, ok: false }],
      error: "flip failed for https://user:pw@example.com with s3cr3t-value and https://discord.com/api/webhooks/9/xyz @everyone",
      runUrl: "https://github.com/acme/platform/actions/runs/1",
      actor: "ci-bot",
    };
    it("builds one embed with stack, services, digests, durations, result and run link", () => {
      const e = discordEmbed(report, ["s3cr3t-value"]);
      assert.equal(e.title, "↩️ promote staging → prod: rolled back");
      assert.equal(e.url, "https://github.com/acme/platform/actions/runs/1");
      assert.equal(e.timestamp, "2025-01-01T00:02:05.000Z");
      assert.deepEqual(e.fields.slice(0, 3), [
        { name: "Stack", value: "prod", inline: true },
        { name: "Result", value: "rolled back (exit 3)", inline: true },
        { name: "Duration", value: "2m05s", inline: true },
      ]);
      assert.match(e.fields[3]?.value ?? "", /^blue → green\n`student@sha256:[0-9a-f]{12}` → `student@sha256:[0-9a-f]{12}`$/);
      assert.equal(e.fields[4]?.value, "✔ stage 1m05s\n✘ flip 2s");
      assert.ok(!(e.description ?? "").includes("s3cr3t-value"));
      assert.ok(!(e.description ?? "").includes("user:pw"));
      assert.ok(!(e.description ?? "").includes("webhooks/9"));
    });
    it("clips to Discord's limits", () => {
      const e = discordEmbed({ ...report, error: "x".repeat(10_000), services: Array.from({ length: 40 }, (_, i) => ({ service: `s${i}` })) }, []);
      assert.ok((e.description ?? "").length <= 2000);
      assert.ok(e.fields.length <= 25);
    });
    it("redacts secrets and formats durations", () => {
      assert.equal(redact("a hunter2 b", ["hunter2", "ab"]), "a *** b", "short values are not treated as secrets");
      assert.equal(formatDuration(59_400), "59s");
      assert.equal(formatDuration(3_600_000), "60m00s");
    });
  });

  describe("environment", () => {
    it("defaults to a file backend in the repository", () => {
      const s = resolveWorkspaceSettings({ HOME: "/home/u" }, "/repo");
      assert.equal(s.backendUrl, "file:///repo/.pulumi-state");
      assert.equal(s.stateDir, "/repo/.pulumi-state");
      assert.deepEqual(s.backups, { kind: "file", dir: "/repo/.pulumi-state/.platform-backups" });
      assert.equal(s.explicitBackend, false);
      assert.equal(s.cliRoot, "/repo/.cache/pulumi");
      assert.equal(s.env["PULUMI_BACKEND_URL"], "file:///repo/.pulumi-state");
      assert.equal(s.env["PULUMI_SKIP_UPDATE_CHECK"], "true");
    });
    it("honours PULUMI_BACKEND_URL", () => {
      assert.equal(resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "s3://bucket/state" }, "/repo").stateDir, undefined);
      assert.deepEqual(resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "s3://bucket/state?region=ap-northeast-2" }, "/repo").backups, {
        kind: "s3",
        location: { bucket: "bucket", prefix: "state", region: "ap-northeast-2" },
      });
      assert.deepEqual(resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "https://api.pulumi.com" }, "/repo").backups, { kind: "local", dir: "/repo/.pulumi-state/.platform-backups" });
      assert.equal(resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "file://~/state", HOME: "/home/u" }, "/repo").stateDir, "/home/u/state");
      assert.deepEqual(resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "file:///var/state" }, "/repo").backups, { kind: "file", dir: "/var/state/.platform-backups" });
    });
    it("requires a passphrase for the passphrase provider", () => {
      assert.throws(() => checkPassphrase(resolveWorkspaceSettings({}, "/repo")), /PULUMI_CONFIG_PASSPHRASE/);
      checkPassphrase(resolveWorkspaceSettings({ PULUMI_CONFIG_PASSPHRASE: "" }, "/repo"));
      checkPassphrase(resolveWorkspaceSettings({ PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/p" }, "/repo"));
      checkPassphrase(resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "https://api.pulumi.com" }, "/repo"));
    });
    it("builds the CI run link", () => {
      assert.deepEqual(runContextFromEnv({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/platform", GITHUB_RUN_ID: "7", GITHUB_ACTOR: "octo" }), {
        runUrl: "https://github.com/acme/platform/actions/runs/7",
        actor: "octo",
      });
      assert.deepEqual(runContextFromEnv({ USER: "me" }), { runUrl: undefined, actor: "me" });
    });
    it("resolves policy packs: flags, then env, then ./policy", () => {
      assert.deepEqual(resolvePolicy("/repo", "prod", {}, { policyPacks: ["/p"], policyConfigs: ["/c.json"] }), { packs: ["/p"], configs: ["/c.json"] });
      assert.deepEqual(resolvePolicy("/nonexistent", "prod", { PLATFORM_POLICY_PACK: "/env/pack" }, { policyPacks: [], policyConfigs: [] }), { packs: ["/env/pack"], configs: [] });
      assert.deepEqual(resolvePolicy("/nonexistent", "prod", {}, { policyPacks: [], policyConfigs: [] }), { packs: [], configs: [] });
    });
    it("names backups by time and operation", () => {
      assert.equal(backupPath("/b", "prod", "promote", Date.UTC(2025, 5, 1, 12, 0, 0, 5)), path.join("/b", "prod", "2025-06-01T12-00-00-005Z-promote.json"));
    });
  });

  it("exit codes are distinct and documented", () => {
    const codes = EXIT_CODE_TABLE.map(([c]) => c);
    assert.equal(new Set(codes).size, codes.length);
    assert.deepEqual([...codes].sort((a, b) => a - b), Object.values(ExitCode).sort((a, b) => a - b));
    assert.equal(ExitCode.Interrupted, 130);
    assert.equal(ExitCode.Terminated, 143);
  });
});
