/**
 * The transaction record of one mutating command. The steps fill it in as they go (which stack,
 * which phases ran, whether config or infrastructure was touched, the backup, how to restore),
 * and the failure path reads only this record: a step that changes something has already said
 * how to put it back.
 */
import { Color } from "../infra/config/schema";
import { StackOutputs } from "../infra/outputs";
import { DriverDeps } from "./deps";
import { IdentityHeaders } from "./gates/identity";
import { TargetPlan } from "./planning";
import { InterruptedError, interruptOf, throwIfInterrupted } from "./errors";
import { HealthGateSettings, PhaseReport, PlatformStack, ServiceReport } from "./ports";
import { SERVICES_KEY } from "./stackConfig";
import { Json } from "./types";

/** A service's color and the image it runs on it. */
export interface ServingColor {
  readonly service: string;
  readonly color: Color;
  readonly image: string | undefined;
  /** The identity headers the service answers with, for the restore's color-aware live gate. */
  readonly headers: IdentityHeaders;
}

/** How to put a stack back to where it was before a command's first change, and how to check it. */
export interface RestorePoint {
  readonly stack: PlatformStack;
  /** `platform:services` exactly as read before the first change, written back byte for byte. */
  readonly services: Json;
  /** What serves traffic again once restored. */
  readonly serving: readonly ServingColor[];
  /**
   * A targeted restore (undoing a flip is a flip; undoing a staged or unparked color re-images or
   * re-parks exactly that color), checked like any targeted `up`; undefined: a full `up` behind the
   * guard preview (the test host, whose resources are not one color's).
   */
  readonly plan?: TargetPlan;
  readonly gate: HealthGateSettings;
  /** Why, for the restoring `up`'s message. */
  readonly reason: string;
  /** Blue/green: the restore is verified at the load balancer's listener rule too. */
  readonly blueGreen: boolean;
  readonly region: string | undefined;
  /** The outputs read before the first change: the gates' URLs when the restoring `up` returns none. */
  readonly outputs: StackOutputs | undefined;
}

export class Tx {
  readonly phases: PhaseReport[] = [];
  /** The stack being operated on, once opened (its state is read again after an interrupt). */
  stack?: PlatformStack;
  /** The services the report lists; refined as the plan becomes known. */
  services: readonly ServiceReport[];
  backup?: string;
  /** The stack's config file was changed. */
  configTouched = false;
  /** An `up` ran (or may have run) against the stack. */
  infraTouched = false;
  /** Set before the first change; without it a failure restores nothing. */
  restorePoint?: RestorePoint;
  /**
   * An interrupt restores too (not only a failure): set while a canary has part of the live traffic
   * on a color not yet verified, which must not stay there unattended. Cleared once verified.
   */
  restoreOnInterrupt = false;

  constructor(
    private deps: Pick<DriverDeps, "clock" | "signal">,
    services: readonly ServiceReport[] = [],
  ) {
    this.services = services;
  }

  /** From now on phases stop on `signal` instead (the restore after an interrupted canary runs under its own). */
  useSignal(signal: AbortSignal): void {
    this.deps = { clock: this.deps.clock, signal };
  }

  /** Runs one named phase, recording its duration and verdict; an abort surfaces as InterruptedError. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    throwIfInterrupted(this.deps.signal);
    const t0 = this.deps.clock.now();
    try {
      const value = await fn();
      this.phases.push({ name, durationMs: this.deps.clock.now() - t0, ok: true });
      return value;
    } catch (err) {
      this.phases.push({ name, durationMs: this.deps.clock.now() - t0, ok: false });
      if (this.deps.signal.aborted) {
        throw new InterruptedError(interruptOf(this.deps.signal));
      }
      throw err;
    }
  }

  /** Writes `platform:services`; from here on a failure puts the file back. */
  async writeServices(stack: PlatformStack, services: Json): Promise<void> {
    this.configTouched = true;
    await stack.setConfig({ [SERVICES_KEY]: services });
  }
}
