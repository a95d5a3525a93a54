// The driver's guards on the real engine, one fixture stack ("staging", brought up once by the
// driver's own `up`): drift found by a refreshing preview, the policy pack in a real
// `preview --policy-pack infra/policy`, success that stays success when reading outputs fails
// after the update, and SIGINT during an `up`. Every assertion about the cluster reads the live
// API server; about the state, `pulumi stack export`.

import * as assert from "assert";
import * as path from "path";
import { flip, preview, up } from "../../automation/commands";
import { Interrupt } from "../../automation/errors";
import { ExitCode } from "../../automation/exitCodes";
import { DriverDeps } from "../../automation/deps";
import { EngineEvent } from "../../automation/ports";
import { Json } from "../../automation/types";
import { repoRoot } from "../../tools/tools";
import { fixtureServices, Harness, image, startHarness } from "./harness";
import { KubeObject } from "./kube";
import { assertExit, pendingOperations, stackFailingOutputsOnce } from "./moreHelpers";
import { timed } from "./timing";

type Deployment = KubeObject & { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
type Service = KubeObject & { spec: { selector: Record<string, string> } };

const STACK = "staging";
const PACK = path.join(repoRoot, "infra", "policy");

/** `platform:services` with `edit` applied to the service named `name`. */
function servicesWith(name: string, edit: (s: Record<string, Json>) => void): Json {
  const all = fixtureServices() as Array<Record<string, Json>>;
  for (const s of all) if (s["name"] === name) edit(s);
  return all;
}

describe("integration: drift, policy, success and interrupts on the real engine", function () {
  let h: Harness;
  let failed = false;
  timed(this);

  const ns = (): string => h.namespace(STACK);
  const deploymentImage = async (name: string): Promise<string | undefined> =>
    (await h.kube.get<Deployment>(`/apis/apps/v1/namespaces/${ns()}/deployments/${name}`)).spec.template.spec.containers[0]?.image;
  const setServices = async (services: Json): Promise<void> => {
    await h.stacks.get(STACK)?.setConfig("platform:services", { value: JSON.stringify(services) });
  };

  before(async function () {
    h = await startHarness({ stacks: [STACK] });
    assertExit(await up(h.deps(), { stack: STACK }), ExitCode.Ok);
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") failed = true;
  });
  after(async function () {
    await h?.stop(failed);
  });

  it("drift: a field another manager set (conflict), containers cut down by a merge patch and a deleted PDB are drift naming each object; a field handed back is not; `up --refresh` puts the cluster back and the check is clean", async () => {
    assertExit(await preview(h.deps(), { stack: STACK, expectNoChanges: true }), ExitCode.Ok);
    const name = "web-blue";
    const path = `/apis/apps/v1/namespaces/${ns()}/deployments/${name}`;
    const declared = image("web", "1.0.0");
    const container = async (): Promise<Record<string, unknown>> =>
      ((await h.kube.get<Deployment>(path)).spec.template.spec.containers[0] ?? {}) as Record<string, unknown>;
    // As `kubectl set image` does: a strategic merge patch (containers merge by name) under its own field manager.
    const setImage = async (to: string): Promise<void> => {
      const res = await h.kube.request("PATCH", `${path}?fieldManager=kubectl-set`, { spec: { template: { spec: { containers: [{ name: "web", image: to }] } } } }, "application/strategic-merge-patch+json");
      assert.strictEqual(res.status, 200, res.body);
    };
    assert.strictEqual(await deploymentImage(name), declared);

    // 1. A value another field manager changed: pulumi-kubernetes' preview is a dry-run
    // server-side apply without force, which conflicts on the field (v4.25.0 pkg/await/await.go:
    // 579-581, 700-716): the driver reports drift, naming object, manager and field.
    await setImage(image("web", "6.6.6"));
    assert.strictEqual(await deploymentImage(name), image("web", "6.6.6"), "the API server holds the out-of-band change");
    const conflict = await preview(h.deps(), { stack: STACK, expectNoChanges: true });
    assertExit(conflict, ExitCode.Drift);
    assert.ok(
      conflict.message.includes(`"${h.namespace(STACK)}/web-blue" was changed outside Pulumi by another field manager (conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="web"].image)`),
      conflict.message,
    );

    // 2. Put back to the declared value the same way: clean, although "kubectl-set" now owns the
    // field. The provider's Diff merge-patches the live object, pruned to the shape of the inputs,
    // against the new inputs (v4.25.0 pkg/provider/provider.go:1353-1413); normalizeInputs drops
    // metadata.managedFields from the inputs (2571-2590), so pruning drops it from the live side
    // too (pruneLiveState, 2555-2561): field ownership is never a difference. (A later change of
    // the image by Pulumi would conflict with "kubectl-set", as in 1.)
    await setImage(declared);
    assertExit(await preview(h.deps(), { stack: STACK, expectNoChanges: true }), ExitCode.Ok);

    // 3. A JSON merge patch replaces a list whole (RFC 7386): the container keeps only name and
    // image, losing ports, env, probes, resources and securityContext. A real difference: the
    // refreshed live object lacks declared fields (Read returns it, pruned to the inputs' shape, as
    // the new state and inputs, provider.go:1930-1992), and the plan updates the Deployment.
    await h.kube.mergePatch(path, { spec: { template: { spec: { containers: [{ name: "web", image: declared }] } } } });
    assert.strictEqual((await container())["ports"], undefined, "the merge patch dropped the ports");

    // 4. Deleted: the refresh finds it gone (Read: a 404 is a delete, provider.go:1907-1911); the plan re-creates it.
    const pdbPath = `/apis/policy/v1/namespaces/${ns()}/poddisruptionbudgets/${name}`;
    assert.strictEqual((await h.kube.request("DELETE", pdbPath)).status, 200);
    const found = await preview(h.deps(), { stack: STACK, expectNoChanges: true });
    assertExit(found, ExitCode.Drift);
    assert.match(found.message, /Changes found where none were expected \(drift\): 1 to create, 1 to update, /);
    assert.match(found.message, /; create kubernetes:policy\/v1:PodDisruptionBudget web-blue(;|$)/);
    assert.match(found.message, /; update kubernetes:apps\/v1:Deployment web-blue: [^;]*spec\.template\.spec\.containers\[0\]\.ports/);
    assert.match(found.remediation.join("\n"), /`npm run platform -- up staging --refresh`/);

    // 5. A plain up diffs the recorded state, which the check's in-memory refresh did not change:
    // nothing to do, the drift stays. `up --refresh` re-applies, and the check is clean again.
    const plain = await up(h.deps(), { stack: STACK });
    assertExit(plain, ExitCode.Ok);
    assert.strictEqual(plain.result, "no-op", plain.message);
    assert.strictEqual(await h.kube.find(pdbPath), undefined, "a plain up does not re-create the PDB");
    const fixed = await up(h.deps(), { stack: STACK, refresh: true });
    assertExit(fixed, ExitCode.Ok);
    assert.strictEqual(fixed.changes?.creates, 1, fixed.message);
    assert.strictEqual(fixed.changes?.updates, 1, fixed.message);
    assert.ok((await h.kube.find(pdbPath)) !== undefined, "the PDB is back");
    assert.deepStrictEqual((await container())["ports"], [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    assertExit(await preview(h.deps(), { stack: STACK, expectNoChanges: true }), ExitCode.Ok);
  });

  it("policy: a :latest image in a real `preview --policy-pack infra/policy` is a mandatory k8s-image-pinned violation, exit 2, nothing changed", async () => {
    const before = await h.kube.get<Deployment>(`/apis/apps/v1/namespaces/${ns()}/deployments/api-green`);
    await setServices(servicesWith("api", (s) => (s["green"] = { image: image("api", "latest") })));
    try {
      const deps: DriverDeps = { ...h.deps(), policyFor: () => ({ packs: [PACK], configs: [path.join(PACK, "config", `${STACK}.json`)] }) };
      const out = await preview(deps, { stack: STACK });
      assertExit(out, ExitCode.PolicyViolation);
      const pinned = (out.violations ?? []).filter((v) => v.policy === "k8s-image-pinned");
      assert.strictEqual(pinned.length, 1, JSON.stringify(out.violations));
      assert.strictEqual(pinned[0]?.enforcement, "mandatory");
      assert.match(pinned[0]?.urn ?? "", /kubernetes:apps\/v1:Deployment::api-green$/);
      assert.match(pinned[0]?.message ?? "", /api:latest/);
    } finally {
      await setServices(fixtureServices());
    }
    const after = await h.kube.get<Deployment>(`/apis/apps/v1/namespaces/${ns()}/deployments/api-green`);
    assert.strictEqual(after.metadata?.resourceVersion, before.metadata?.resourceVersion, "the Deployment was not touched");
  });

  it("success is success: the flip's update succeeded, reading its outputs failed once; the driver reads again and does not restore", async () => {
    const { stack, failures } = await stackFailingOutputsOnce(h, STACK);
    const sdk = h.stacks.get(STACK);
    const updatesBefore = (await sdk?.history())?.length ?? 0;
    const out = await flip({ ...h.deps(), openStack: () => Promise.resolve(stack) }, { stack: STACK, service: "web" });
    assertExit(out, ExitCode.Ok);
    assert.strictEqual(failures(), 1, "the injected failure happened, inside the flip's up");
    assert.strictEqual(out.result, "succeeded");
    assert.ok(!out.phases.some((p) => /restore/.test(p.name)), `no restore phase: ${out.phases.map((p) => p.name).join(", ")}`);
    const active = await h.kube.get<Service>(`/api/v1/namespaces/${ns()}/services/web`);
    assert.strictEqual(active.spec.selector["platform.io/color"], "green", "the change stays");
    const history = (await sdk?.history()) ?? [];
    const updates = history.slice(0, history.length - updatesBefore).filter((u) => u.kind === "update");
    assert.strictEqual(updates.length, 1, `one update, no restore: ${updates.map((u) => u.message).join(" | ")}`);
    assert.strictEqual(updates[0]?.result, "succeeded");
  });

  it("SIGINT during an up: the CLI cancels, the driver reports exit 130 and the state; the next up succeeds and leaves no pending operation", async () => {
    const driver = new AbortController();
    const cli = new AbortController();
    const base = h.deps();
    let sent = false;
    const deps: DriverDeps = {
      ...base,
      signal: driver.signal,
      cliSignal: cli.signal,
      log: {
        ...base.log,
        operation(label, expected) {
          const op = base.log.operation(label, expected);
          return {
            end: () => op.end(),
            onEvent(e: EngineEvent) {
              op.onEvent(e);
              // Interrupt once the update (not its preview) starts changing a Deployment, as a
              // non-terminal SIGINT reaches the driver: both the driver and the CLI are told.
              if (!sent && label.endsWith(" up") && e.resourcePreEvent?.metadata.type === "kubernetes:apps/v1:Deployment") {
                sent = true;
                driver.abort(new Interrupt("SIGINT"));
                cli.abort(new Interrupt("SIGINT"));
              }
            },
          };
        },
      },
    };
    await setServices(servicesWith("api", (s) => (s["blue"] = { image: image("api", "1.0.1") })));
    const out = await up(deps, { stack: STACK });
    assert.ok(sent, "the interrupt was sent during the update");
    assertExit(out, ExitCode.Interrupted);
    assert.match(out.message, /interrupted by SIGINT/);
    const sdk = h.stacks.get(STACK);
    const exported = await sdk?.exportStack();
    const pending = pendingOperations({ version: 3, deployment: exported?.deployment });
    const report = out.remediation.join("\n");
    if (pending.length === 0) {
      assert.match(report, /no pending operations: the engine stopped cleanly/);
    } else {
      for (const p of pending) assert.ok(report.includes(p.urn) || report.includes(p.type), `pending ${p.type} ${p.urn} is explained: ${report}`);
    }
    const last = (await sdk?.history(1))?.[0];
    assert.notStrictEqual(last?.result, "succeeded", `the interrupted update is not recorded as succeeded (${last?.result ?? "?"})`);

    const again = await up(h.deps(), { stack: STACK });
    assertExit(again, ExitCode.Ok);
    assert.strictEqual(await deploymentImage("api-blue"), image("api", "1.0.1"));
    const clean = await sdk?.exportStack();
    assert.deepStrictEqual(pendingOperations({ version: 3, deployment: clean?.deployment }), []);
  });
});
