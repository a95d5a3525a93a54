/**
 * The one way the driver puts a stack back: the config as it was read before the first change,
 * one `up` (targeted like the switch it undoes, or full when pods were scaled or images staged),
 * then proof that the previous colors and images serve again: at the load balancer's listener
 * rule (blue/green) and through the live host, answered by the restored color and image.
 * The outputs of a failed or targeted `up` are rewritten from the program's config (the root
 * stack is always in the operation: pulumi/pkg v3.276.0 resource/deploy/step_generator.go:1383-1396,
 * step_executor.go:271-279), so they are never taken as proof of what serves traffic.
 */
import { DriverDeps, operationMessage } from "../deps";
import { InterruptedError, messageOf } from "../errors";
import { runUp } from "../engine";
import { healthGate } from "../gates/health";
import { routingGate } from "../gates/routing";
import { guardedPreview } from "../guards/preview";
import { checkTargetedPlan } from "../guards/targeted";
import { identitiesOf } from "../steps/switch";
import { shortImage } from "../images";
import { SERVICES_KEY, readStackOutputs } from "../stackConfig";
import { RestorePoint, Tx } from "../tx";

export interface RestoreResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Writes the config back; the file is then no longer touched. Throws when the write fails. */
export async function restoreConfig(tx: Tx, point: RestorePoint): Promise<void> {
  await point.stack.setConfig({ [SERVICES_KEY]: point.services });
  tx.configTouched = false;
}

/**
 * Phases `restore` and `verify-restore`. Resolves with the verdict; throws only when the config
 * cannot be written back or the restored outputs break the output contract.
 */
export async function restore(deps: DriverDeps, tx: Tx, point: RestorePoint): Promise<RestoreResult> {
  await restoreConfig(tx, point);
  const message = operationMessage(deps, point.reason);
  // Guarded like every up: the targeted restore's preview must plan only the restore; a full restore
  // passes the policy gate and the stateful-resource guard (never --allow-replace on the way back).
  const guarded = await tx
    .phase("restore-check", async () => {
      if (point.plan !== undefined) {
        await checkTargetedPlan(deps, point.stack, point.plan, "restore", message);
      } else {
        await guardedPreview(deps, point.stack, { label: `${point.stack.name} restore preview`, message, allowReplace: false });
      }
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  if (guarded !== undefined) {
    if (guarded instanceof InterruptedError) {
      throw guarded;
    }
    return { ok: false, detail: `restore refused: ${messageOf(guarded)}` };
  }
  const applied = await tx.phase("restore", () => runUp(deps, tx, point.stack, "restore", { message, target: point.plan?.urns })).then(
    (up) => ({ up }),
    (error: unknown) => ({ error }),
  );
  if ("error" in applied) {
    return { ok: false, detail: `restore up failed: ${messageOf(applied.error)}` };
  }
  return verifyRestored(deps, tx, point, applied.up.outputs);
}

async function verifyRestored(deps: DriverDeps, tx: Tx, point: RestorePoint, rawOutputs: Record<string, unknown>): Promise<RestoreResult> {
  const t0 = deps.clock.now();
  const outputs = readStackOutputs(point.stack.name, rawOutputs) ?? point.outputs;
  const problems: string[] = [];
  for (const s of point.serving) {
    const out = outputs?.services.get(s.service);
    if (out !== undefined && out.active !== s.color) {
      problems.push(`${s.service} still serves ${out.active}`);
    }
    const image = out?.[s.color].image;
    if (image !== undefined && s.image !== undefined && image !== s.image) {
      problems.push(`${s.service} ${s.color} runs ${shortImage(image)}, expected ${shortImage(s.image)}`);
    }
  }
  const gate = (run: () => Promise<void>): Promise<void> =>
    run().catch((err: unknown) => {
      if (err instanceof InterruptedError) {
        throw err;
      }
      problems.push(messageOf(err));
    });
  if (problems.length === 0 && point.blueGreen) {
    await gate(() => routingGate(deps, "restore-routing", { stack: point.stack.name, region: point.region, outputs, serving: point.serving }).then(() => undefined));
  }
  if (problems.length === 0) {
    const services = point.serving.map((s) => s.service);
    await gate(() => healthGate(deps, "restore-health", "live", outputs, services, point.gate, identitiesOf(point.serving)));
  }
  tx.phases.push({ name: "verify-restore", durationMs: deps.clock.now() - t0, ok: problems.length === 0 });
  return problems.length === 0
    ? { ok: true, detail: `${point.serving.map((s) => `${s.service} on ${s.color}`).join(", ")}, live host healthy` }
    : { ok: false, detail: `restore not verified: ${problems.join("; ")}` };
}
