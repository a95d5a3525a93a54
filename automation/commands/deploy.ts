/**
 * Deploying digests into a stack, shared by promote and release: stage them into the idle colors,
 * gate them through the preview host, move the canary services' weights step by step (each step
 * verified at the load balancer and judged on its metrics), switch, verify, record the digests as
 * verified, and park the colors left idle where the service asks for it. On the test host (one color per service)
 * the active color's image is replaced and gated through the live host instead.
 */
import { DriverDeps, operationMessage } from "../deps";
import { messageOf, RefusedError } from "../errors";
import { ExitCode } from "../exitCodes";
import { IdentityHeaders, identityHeadersOf } from "../gates/identity";
import { checkConverged } from "../guards/convergence";
import { checkPending } from "../guards/pending";
import { shortImage } from "../images";
import { notifyOnce, Outcome, outcomeOf, Verdict } from "../outcome";
import { DeploymentKind, ServiceReport } from "../ports";
import { colorPlan, DeployItem, flipEdits, mergePlans, parkEdits, planStaging, ServiceChange, StagingPlan, stagingEdits, switchPlan, TargetPlan } from "../planning";
import { transact } from "../recovery/settle";
import { editReleases, editServices, parseReleases, ReleaseEntry, RELEASES_KEY, ServiceEdit } from "../stackConfig";
import { backupState } from "../steps/backup";
import { LoadedStack, loadStack } from "../steps/load";
import { settleSwitch } from "../steps/park";
import { stageImages } from "../steps/stage";
import { CanaryRun, canaryRunOf, stepCanaries } from "../steps/canary";
import { switchServices, verifyServing } from "../steps/switch";
import { Tx } from "../tx";

export interface DeployRequest {
  readonly kind: Extract<DeploymentKind, "promote" | "release">;
  readonly stack: string;
  /** The notification's source: a stack name, or "release". */
  readonly source: string;
  /** Written to the release record, e.g. "promote test->staging". */
  readonly sourceLabel: string;
  readonly allowReplace: boolean;
  /** How the digest-pinned items are obtained before anything changes, as a named phase. */
  readonly items: { readonly phase: string; readonly resolve: () => Promise<DeployItem[]> };
  /** What the report lists until the items are known. */
  readonly services: readonly ServiceReport[];
}

export async function deploy(deps: DriverDeps, req: DeployRequest): Promise<Outcome> {
  const started = deps.clock.now();
  const tx = new Tx(deps, req.services);
  const verdict = await transact(deps, tx, req.stack, async () => {
    const items = await tx.phase(req.items.phase, req.items.resolve);
    tx.services = items.map((i) => ({ service: i.service, newImage: i.image }));
    return deployItems(deps, tx, req, items);
  });
  return notifyOnce(deps, req.kind, req.source, started, outcomeOf(tx, req.kind, req.stack, verdict));
}

async function deployItems(deps: DriverDeps, tx: Tx, req: DeployRequest, items: readonly DeployItem[]): Promise<Verdict> {
  const target = await loadStack(deps, tx, req.stack);
  parseReleases(req.stack, target.rawReleases);
  checkPending(req.stack, target.state, target.locks);
  const plan = planStaging(req.stack, target.mode, target.services.services, items);
  if (plan.changes.length === 0) {
    tx.services = plan.unchanged.map((u) => ({ service: u.service, newImage: u.image }));
    const message = `nothing to do: ${plan.unchanged.map((u) => `${u.service} already serves ${shortImage(u.image)}`).join("; ")}`;
    return { exitCode: ExitCode.Ok, result: "no-op", message, remediation: [] };
  }
  tx.services = plan.changes.map(reportOf);
  const changed = plan.changes.map((c) => c.service);
  const affected = target.services.services.filter((sv) => changed.includes(sv.name));
  const midRollout = affected.filter((sv) => sv.canaryWeight !== undefined);
  if (midRollout.length > 0) {
    // Staging re-images the idle color, which a canary weight is sending live traffic to.
    throw new RefusedError(`${midRollout.map((sv) => `${sv.name} is mid canary rollout (${sv.canaryWeight ?? 0}% on its idle color)`).join("; ")}: not staging into it`, [
      ...midRollout.map((sv) => `\`npm run platform -- rollback ${req.stack} --service ${sv.name}\` returns all of its traffic to ${sv.active}; then re-run`),
    ]);
  }
  checkConverged(req.stack, affected, target.outputs, (sv) => [sv.active]);
  // Computed before any change: a missing flip target must refuse, not fail half-way.
  const blueGreen = target.mode === "blue-green";
  // The services whose rollout is canary step their weights before the one switch (in the order promoted).
  const canaries = blueGreen
    ? plan.changes.flatMap((c) => {
        const sv = affected.find((x) => x.name === c.service);
        return sv === undefined ? [] : (canaryRunOf(sv, c.fromColor, c.toColor) ?? []);
      })
    : [];
  const flipPlan = blueGreen ? switchPlan(target.state, plan.changes.map((c) => ({ service: c.service, to: c.toColor }))) : undefined;
  // The restore undoes the flip and re-images (or re-parks) exactly the staged colors.
  const restorePlan = blueGreen
    ? mergePlans(switchPlan(target.state, plan.changes.map((c) => ({ service: c.service, to: c.fromColor }))), ...plan.changes.map((c) => colorPlan(target.state, c.service, c.slot)))
    : undefined;
  await backupState(deps, tx, req.stack, req.kind, target.state);
  tx.restorePoint = {
    stack: target.stack,
    services: target.services.raw,
    serving: plan.changes.map((c) => ({ service: c.service, color: c.fromColor, image: c.oldImage, headers: headersOf(target, c.service) })),
    gate: target.gate,
    reason: `restore after failed ${changed.join(", ")} deployment`,
    plan: restorePlan,
    blueGreen,
    region: target.region,
    outputs: target.outputs,
  };
  return stageSwitchRecord(deps, tx, req, target, plan, flipPlan, canaries);
}

async function stageSwitchRecord(deps: DriverDeps, tx: Tx, req: DeployRequest, target: LoadedStack, plan: StagingPlan, flipPlan: TargetPlan | undefined, canaries: readonly CanaryRun[]): Promise<Verdict> {
  const what = `${req.sourceLabel}: ${plan.changes.map((c) => `${c.service} ${shortImage(c.newImage)} -> ${c.slot}`).join(", ")}`;
  const staged = await stageImages(deps, tx, { target, plan, what, allowReplace: req.allowReplace });
  const flipped = editServices(target.services.raw, mergeEdits(stagingEdits(plan), flipEdits(plan.changes)));
  if (canaries.length > 0) {
    const base = editServices(target.services.raw, stagingEdits(plan));
    await stepCanaries(deps, tx, { stack: target.stack, state: target.state, base, runs: canaries, outputs: staged.outputs, region: target.region, label: req.sourceLabel });
  }
  if (flipPlan !== undefined) {
    await switchServices(deps, tx, {
      stack: target.stack,
      services: flipped,
      switches: plan.changes.map((c) => ({ service: c.service, from: c.fromColor, to: c.toColor, image: c.newImage, headers: headersOf(target, c.service) })),
      plan: flipPlan,
      message: operationMessage(deps, `${req.sourceLabel}: flip ${plan.changes.map((c) => `${c.service} ${c.fromColor}->${c.toColor}`).join(", ")}`),
      outputs: staged.outputs,
      region: target.region,
      gate: target.gate,
    });
    tx.restoreOnInterrupt = false;
  } else {
    const serving = plan.changes.map((c) => ({ service: c.service, color: c.toColor, image: c.newImage, headers: headersOf(target, c.service) }));
    await verifyServing(deps, tx, { stack: req.stack, outputs: staged.outputs, serving, region: target.region, gate: target.gate, blueGreen: false });
  }
  const report = { changes: staged.preview.summary, violations: staged.preview.findings.violations };
  const unrecorded = await recordVerified(deps, tx, target, plan, req.sourceLabel);
  if (unrecorded !== undefined) {
    return unrecorded;
  }
  const stepped = canaries.length > 0 ? ` after canary steps (${canaries.map((r) => `${r.service} ${r.steps.join("/")}%`).join(", ")})` : "";
  const done = `${what}${plan.mode === "blue-green" ? `; traffic flipped${stepped}` : ""}; verified and recorded`;
  const toPark = plan.mode === "blue-green" ? parkEdits(target.services.services, plan.changes) : new Map<string, ServiceEdit>();
  return { ...(await settleSwitch(deps, tx, target, flipped, toPark, req.sourceLabel, done)), ...report };
}

/**
 * Phase `record`: the digests are now verified in this stack. Returns the verdict when the record
 * could not be written; traffic already runs on the verified images, and undoing a healthy
 * deployment because a config write failed would be worse than asking for the record by hand.
 */
async function recordVerified(deps: DriverDeps, tx: Tx, target: LoadedStack, plan: StagingPlan, sourceLabel: string): Promise<Verdict | undefined> {
  const verifiedAt = new Date(deps.clock.now()).toISOString();
  const records = new Map<string, ReleaseEntry>(
    plan.changes.map((c) => [c.service, { image: c.newImage, verifiedAt, source: sourceLabel, runUrl: deps.run.runUrl }] as const),
  );
  try {
    await tx.phase("record", () => target.stack.setConfig({ [RELEASES_KEY]: editReleases(target.rawReleases, records) }));
    return undefined;
  } catch (err) {
    return {
      exitCode: ExitCode.Error,
      result: "failed",
      message: `deployed and verified, but the release record could not be written: ${messageOf(err)}`,
      remediation: plan.changes.map(
        (c) => `pulumi config set --path 'platform:releases.${c.service}.image' '${c.newImage}' --stack ${target.stack.name} (plus verifiedAt and source)`,
      ),
    };
  }
}

function headersOf(target: LoadedStack, service: string): IdentityHeaders {
  return identityHeadersOf(target.services.services.find((s) => s.name === service));
}

function reportOf(c: ServiceChange): ServiceReport {
  return { service: c.service, fromColor: c.fromColor, toColor: c.toColor, oldImage: c.oldImage, newImage: c.newImage };
}

function mergeEdits(a: ReadonlyMap<string, ServiceEdit>, b: ReadonlyMap<string, ServiceEdit>): Map<string, ServiceEdit> {
  const out = new Map<string, ServiceEdit>(a);
  for (const [k, v] of b) {
    out.set(k, { ...out.get(k), ...v });
  }
  return out;
}
