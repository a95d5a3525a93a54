/**
 * How a failed command ends. Before any infrastructure change (or on an interrupt, which must not
 * start another `up`: a CI runner kills the job seconds after SIGTERM, and a half-finished restore
 * is worse than a clear report) only the config file is put back. After a change, the restore
 * point recorded on the transaction is restored and verified: exit 3 when that worked, 4 when a
 * human must look.
 *
 * The exception is a canary between its first step and its verified switch (`Tx.restoreOnInterrupt`):
 * part of the live traffic is on an unverified color, and leaving it there unattended is worse
 * than a restore that may be cut short. The interrupt then restores like a failure (one guarded,
 * targeted `up` of the service's Ingress and Service, verified at the load balancer), under a
 * signal of its own: the interrupted one is already aborted, and the SDK never forwards an abort
 * that happened before its call (@pulumi/pulumi 3.276.0 automation/cmd.js:181-185). A further
 * signal reaches the Pulumi CLI as before (a terminal's Ctrl-C directly; a third one exits the driver).
 */
import { DriverDeps } from "../deps";
import { InterruptedError, messageOf } from "../errors";
import { ExitCode } from "../exitCodes";
import { pendingOperations, pendingRemediation } from "../guards/pending";
import { violationsOf } from "../guards/policy";
import { classify, remediationOf, Verdict } from "../outcome";
import { PlatformStack } from "../ports";
import { Tx } from "../tx";
import { restore, restoreConfig, RestoreResult } from "./restore";

/** Runs a mutating command's body; any failure is settled from what the transaction record says. */
export async function transact(deps: DriverDeps, tx: Tx, stack: string, body: () => Promise<Verdict>): Promise<Verdict> {
  try {
    return await body();
  } catch (err) {
    return { ...(await settle(deps, tx, stack, err)), violations: violationsOf(err) };
  }
}

async function settle(deps: DriverDeps, tx: Tx, stack: string, err: unknown): Promise<Verdict> {
  const point = tx.restorePoint;
  const interruptedCanary = err instanceof InterruptedError && tx.restoreOnInterrupt;
  if ((err instanceof InterruptedError && !interruptedCanary) || !tx.infraTouched || point === undefined) {
    return settleWithoutRestore(tx, stack, err);
  }
  const message = interruptedCanary ? `${messageOf(err)} during a canary` : messageOf(err);
  deps.log.warn(`${message}; restoring the previous colors and images`);
  const calm = new AbortController().signal;
  const restoreDeps: DriverDeps = interruptedCanary ? { ...deps, signal: calm, cliSignal: calm } : deps;
  if (interruptedCanary) {
    tx.useSignal(calm);
  }
  const restored: RestoreResult = await restore(restoreDeps, tx, point).catch((restoreErr: unknown) => ({
    ok: false,
    detail: `restore failed: ${messageOf(restoreErr)}`,
  }));
  if (restored.ok) {
    return { result: "rolled back", exitCode: ExitCode.RolledBack, message: `${message}; restored and verified: ${restored.detail}`, remediation: remediationOf(err) };
  }
  return {
    result: "manual intervention",
    exitCode: ExitCode.ManualIntervention,
    message: `${message}; ${restored.detail}`,
    remediation: [
      ...remediationOf(err),
      `check the live service now; \`npm run platform -- status ${stack}\` shows colors and images`,
      `to return traffic to the previous color: \`npm run platform -- rollback ${stack} --service <name>\``,
      ...backupHint(tx),
    ],
  };
}

async function settleWithoutRestore(tx: Tx, stack: string, err: unknown): Promise<Verdict> {
  const message = messageOf(err);
  const remediation = [...remediationOf(err)];
  if (tx.configTouched && tx.restorePoint !== undefined) {
    await restoreConfig(tx, tx.restorePoint).catch((restoreErr: unknown) => {
      remediation.push(`could not restore the config: ${messageOf(restoreErr)}; \`git checkout Pulumi.${stack}.yaml\``);
    });
  }
  if (err instanceof InterruptedError && tx.infraTouched) {
    remediation.push(
      `the stack may be part-way through the change; Pulumi.${stack}.yaml is back to the previous colors and images`,
      ...(await stateReport(stack, tx.stack)),
      `run \`npm run platform -- up ${stack}\` to converge to it, or re-run the command`,
      ...backupHint(tx),
    );
  }
  const base = classify(err);
  if (base.exitCode === ExitCode.Error && tx.infraTouched) {
    // An unexpected error after an up without a restore path: a human must check.
    return { result: "manual intervention", exitCode: ExitCode.ManualIntervention, message, remediation: [...remediation, ...backupHint(tx)] };
  }
  return { ...base, message, remediation };
}

function backupHint(tx: Tx): string[] {
  return tx.backup !== undefined ? [`state backup: ${tx.backup}`] : [];
}

/**
 * After an interrupted update: what the state says now. A cancelled update (one signal to the
 * CLI) finishes its in-flight steps and writes a clean checkpoint; a terminated one (a second
 * signal) leaves pending operations and, if its process died, a stale lock.
 */
export async function stateReport(stack: string, handle: PlatformStack | undefined): Promise<string[]> {
  if (handle === undefined) {
    return [];
  }
  try {
    const [state, locks] = await Promise.all([handle.exportStack(), handle.updateLocks()]);
    const pending = pendingOperations(state);
    const held = locks.locks.filter((l) => l.alive !== false);
    const lockNote = held.length > 0 ? [`the stack is still locked (${held.map((l) => `pid ${l.pid ?? "?"} on ${l.hostname ?? "?"}`).join(", ")}): the Pulumi CLI may still be finishing`] : [];
    return pending.length === 0
      ? ["the state has no pending operations: the engine stopped cleanly (a cancel finishes the steps in flight, so their changes are applied)", ...lockNote]
      : [...lockNote, ...pendingRemediation(stack, pending)];
  } catch (err) {
    return [`could not read the state after the interrupt: ${messageOf(err)}`];
  }
}
