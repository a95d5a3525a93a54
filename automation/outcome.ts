/**
 * What every command returns (`--json` prints it as is), the one mapping from a failure to its
 * result and exit code, and the one notification a deploying command sends.
 */
import { Color } from "../infra/config/schema";
import { ChangeSummary, PlannedStep, PolicyViolation } from "./changes";
import { DriverDeps } from "./deps";
import { DriverError, InterruptedError, LockedError, PolicyViolationError, RefusedError } from "./errors";
import { ExitCode } from "./exitCodes";
import { DeploymentKind, DeploymentResult, NotifyOutcome, PhaseReport, ServiceReport } from "./ports";
import { ReleaseEntry } from "./stackConfig";
import { Tx } from "./tx";

export type OutcomeResult = DeploymentResult | "drift";

export interface ServiceStatus {
  readonly service: string;
  readonly active: Color;
  /** The active color per the last update's outputs, when the stack has been updated. */
  readonly deployedActive?: Color;
  readonly blue?: string;
  readonly green?: string;
  /** Colors scaled to 0 (`<color>.parked`). */
  readonly parked: readonly Color[];
  /** The idle-color policy: `parked` has the driver park the idle color after a switch. */
  readonly idle: "warm" | "parked";
  readonly converged: boolean;
  readonly release?: ReleaseEntry;
  /** The health URLs the gates probe, as the program exports them. */
  readonly liveHealthUrl?: string;
  readonly previewHealthUrl?: string;
  /** Mid canary rollout (a canary weight in config or in the last update): the live weights. */
  readonly canary?: CanaryStatus;
}

export interface CanaryStatus {
  /** The live forward action's weights as the config asks for them. */
  readonly weights: Readonly<Record<Color, number>>;
  /** As the last update applied them to the Ingress (its outputs); the load balancer follows after the controller's lag. */
  readonly deployedWeights?: Readonly<Record<Color, number>>;
  /** 1-based position of the weight in `steps`; undefined when it is not one of them (a per-run `--steps`). */
  readonly step?: number;
  /** The service's configured steps, when its rollout is canary. */
  readonly steps?: readonly number[];
}

export interface Outcome {
  readonly operation: string;
  readonly stack: string;
  readonly exitCode: ExitCode;
  readonly result: OutcomeResult;
  readonly message: string;
  readonly remediation: readonly string[];
  readonly services: readonly ServiceReport[];
  readonly phases: readonly PhaseReport[];
  readonly backup?: string;
  readonly notification?: NotifyOutcome;
  readonly changes?: ChangeSummary;
  readonly violations?: readonly PolicyViolation[];
  readonly hazards?: readonly PlannedStep[];
  readonly status?: readonly ServiceStatus[];
}

/** What a command's body decides; the transaction record supplies phases, backup and services. */
export type Verdict = Pick<Outcome, "exitCode" | "result" | "message" | "remediation" | "changes" | "violations">;

/** The result and exit code of a failure that restored nothing. */
export function classify(err: unknown): { readonly result: OutcomeResult; readonly exitCode: ExitCode } {
  if (err instanceof PolicyViolationError) {
    return { result: "policy violation", exitCode: ExitCode.PolicyViolation };
  }
  if (err instanceof RefusedError) {
    return { result: "refused", exitCode: ExitCode.Refused };
  }
  if (err instanceof LockedError) {
    return { result: "locked", exitCode: ExitCode.Locked };
  }
  if (err instanceof InterruptedError) {
    return { result: "interrupted", exitCode: err.exitCode };
  }
  if (err instanceof DriverError) {
    return { result: "failed", exitCode: err.exitCode };
  }
  return { result: "failed", exitCode: ExitCode.Error };
}

export function remediationOf(err: unknown): readonly string[] {
  return err instanceof DriverError ? err.remediation : [];
}

/** The outcome of a command that ran under `tx`. */
export function outcomeOf(tx: Tx, operation: string, stack: string, verdict: Verdict): Omit<Outcome, "notification"> {
  return { ...verdict, operation, stack, services: tx.services, phases: tx.phases, backup: tx.backup };
}

/** Promote, release, flip and rollback send exactly one notification, whatever the outcome. */
export async function notifyOnce(
  deps: DriverDeps,
  kind: DeploymentKind,
  source: string | undefined,
  started: number,
  outcome: Omit<Outcome, "notification">,
): Promise<Outcome> {
  const result: DeploymentResult = outcome.result === "drift" ? "failed" : outcome.result;
  const notification = await deps.notifier.notify({
    kind,
    stack: outcome.stack,
    source,
    services: outcome.services,
    result,
    exitCode: outcome.exitCode,
    startedAt: started,
    durationMs: deps.clock.now() - started,
    phases: outcome.phases,
    error: outcome.exitCode === ExitCode.Ok ? undefined : outcome.message,
    runUrl: deps.run.runUrl,
    actor: deps.run.actor,
  });
  if (!notification.delivered) {
    deps.log.warn(`notification: ${notification.detail}`);
  }
  return { ...outcome, notification };
}
