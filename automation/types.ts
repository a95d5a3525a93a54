/**
 * The small interfaces the driver runs against. The real implementations wrap the Automation
 * API, node's HTTP client, the AWS SDK and Discord; the tests use in-memory and loopback
 * stand-ins. The driver never imports a concrete implementation.
 */
import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation";

export type { EngineEvent, OpMap };

/** A JSON value as stack config holds it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isJsonObject(value: Json | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === "object" && !Array.isArray(value);
}

/** Options the driver passes to `preview` and `up`; a subset of the Automation API's. */
export interface OperationOptions {
  /** Recorded in the stack's history: what and why. */
  readonly message?: string;
  readonly policyPacks?: readonly string[];
  readonly policyPackConfigs?: readonly string[];
  /** URNs to operate on; everything else is left alone (used by flips). */
  readonly target?: readonly string[];
  readonly expectNoChanges?: boolean;
  /** Aborting sends SIGINT to the Pulumi CLI, which finishes in-flight steps and stops. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
  readonly onOutput?: (text: string) => void;
}

export interface PreviewOutcome {
  readonly changeSummary: OpMap;
}

export interface UpOutcome {
  readonly result: string;
  readonly resourceChanges: OpMap;
  /** Plain values (secrets already unwrapped by the adapter are never logged). */
  readonly outputs: Record<string, unknown>;
}

/** `pulumi stack export` output: `deployment` holds `resources[]` and `pending_operations[]`. */
export interface StackState {
  readonly version: number;
  readonly deployment: unknown;
}

/**
 * One Pulumi stack, as much of it as the driver needs. Deliberately no refresh, destroy or
 * cancel: the driver never refreshes a whole stack and never cancels someone else's update.
 */
export interface PlatformStack {
  readonly name: string;
  /** A config value, structured values already parsed; undefined when the key is not set. */
  getConfig(key: string): Promise<Json | undefined>;
  /** Sets structured config values (written to Pulumi.<stack>.yaml by LocalWorkspace). */
  setConfig(values: Readonly<Record<string, Json>>): Promise<void>;
  /** The outputs of the last update, secrets unwrapped. */
  outputs(): Promise<Record<string, unknown>>;
  preview(opts: OperationOptions): Promise<PreviewOutcome>;
  up(opts: OperationOptions): Promise<UpOutcome>;
  exportStack(): Promise<StackState>;
}

/** Time, injectable so that backoff and timeouts run instantly in tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** Where human-readable progress goes (stderr in the CLI, a buffer in tests). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /**
   * Starts the progress display of one Pulumi operation; `expectedSteps` (from a preceding
   * preview) lets it show done/total. Returns the engine-event handler and a function that
   * ends the progress line.
   */
  operation(label: string, expectedSteps?: number): { readonly onEvent: (event: EngineEvent) => void; end(): void };
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  operation: () => ({ onEvent: () => undefined, end: () => undefined }),
};
