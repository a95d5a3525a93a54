/**
 * Opening the target stack: its config (services, releases, environment, health gate, region),
 * its outputs and its exported state, read in one phase and validated before anything changes.
 */
import { StackOutputs } from "../../infra/outputs";
import { DriverDeps } from "../deps";
import { healthGateFromConfig } from "../gates/health";
import { HealthGateSettings, LockReport, PlatformStack, StackState } from "../ports";
import { DeployMode, deployModeOf } from "../planning";
import { ENVIRONMENT_KEY, HEALTH_GATE_KEY, parseServices, readStackOutputs, RELEASES_KEY, SERVICES_KEY, StackServices } from "../stackConfig";
import { Tx } from "../tx";
import { Json } from "../types";

export interface LoadedStack {
  readonly stack: PlatformStack;
  readonly services: StackServices;
  /** `platform:releases` as read; a deploying command parses and extends it. */
  readonly rawReleases: Json | undefined;
  readonly mode: DeployMode;
  readonly region: string | undefined;
  readonly gate: HealthGateSettings;
  /** Undefined when the stack has never been updated. */
  readonly outputs: StackOutputs | undefined;
  readonly state: StackState;
  /** The update locks held when the state was read (pending operations are judged by them). */
  readonly locks: LockReport;
}

/** Phases `load` and `load-state`; records the stack on the transaction. */
export async function loadStack(deps: DriverDeps, tx: Tx, name: string): Promise<LoadedStack> {
  const stack = await tx.phase("load", () => deps.openStack(name));
  tx.stack = stack;
  const [rawServices, rawReleases, rawEnv, rawGate, rawRegion, rawOutputs, state, locks] = await tx.phase("load-state", () =>
    Promise.all([
      stack.getConfig(SERVICES_KEY),
      stack.getConfig(RELEASES_KEY),
      stack.getConfig(ENVIRONMENT_KEY),
      stack.getConfig(HEALTH_GATE_KEY),
      stack.getConfig("aws:region"),
      stack.outputs(),
      stack.exportStack(),
      stack.updateLocks(),
    ]),
  );
  return {
    stack,
    services: parseServices(name, rawServices),
    rawReleases,
    mode: deployModeOf(typeof rawEnv === "string" ? rawEnv : undefined, name),
    region: typeof rawRegion === "string" ? rawRegion : undefined,
    gate: { ...healthGateFromConfig(rawGate), ...deps.healthGate },
    outputs: readStackOutputs(name, rawOutputs),
    state,
    locks,
  };
}
