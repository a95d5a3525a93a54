/**
 * Pure Index State Management (ISM) logic for the log domain: the retention policy document
 * OpenSearch's ISM plugin stores at `_plugins/_ism/policies/<id>`, its id and index pattern, and
 * a content hash that names the Job applying it (infra/logging/retention.ts). Tested
 * table-driven (test/ism.test.ts).
 */
import { createHash } from "crypto";

/** Index name prefixes Fluentd writes: lower-case, no wildcard or separator OpenSearch forbids. */
const INDEX_PREFIX = /^[a-z0-9][a-z0-9_.-]*$/;
/**
 * Longest prefix accepted: the policy id (`<prefix>-retention`) plus the Job's hash suffix must
 * stay a valid Kubernetes object name (63 characters, the `job-name` label limit).
 */
const MAX_PREFIX_LENGTH = 30;
/** Retention bounds in days; beyond a year, logs belong in snapshots on S3, not on the domain's disks. */
export const RETENTION_DAYS = { min: 1, max: 365 } as const;

export interface RetentionPolicyOptions {
  /** Index name prefix Fluentd writes (`<prefix>-<service>-YYYY.MM.DD`), e.g. `logs`. */
  readonly indexPrefix: string;
  /** Days after its creation an index is deleted (whole days, `RETENTION_DAYS`). */
  readonly retentionDays: number;
  /**
   * `ism_template` priority: when templates of several policies match a new index, the highest
   * wins. Default: 100, above the 0 of a template created without one.
   */
  readonly priority?: number;
}

export interface IsmTransition {
  readonly state_name: string;
  readonly conditions: { readonly min_index_age: string };
}

export interface IsmState {
  readonly name: string;
  readonly actions: ReadonlyArray<{ readonly delete: Record<string, never> }>;
  readonly transitions: readonly IsmTransition[];
}

/** The request body of `PUT _plugins/_ism/policies/<id>`. */
export interface IsmPolicyDocument {
  readonly policy: {
    readonly description: string;
    readonly default_state: string;
    readonly states: readonly IsmState[];
    readonly ism_template: ReadonlyArray<{ readonly index_patterns: readonly string[]; readonly priority: number }>;
  };
}

function checkPrefix(indexPrefix: string): void {
  if (!INDEX_PREFIX.test(indexPrefix) || indexPrefix.length > MAX_PREFIX_LENGTH) {
    throw new Error(
      `indexPrefix ${JSON.stringify(indexPrefix)} is not a usable index prefix: use 1-${MAX_PREFIX_LENGTH} lower-case letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

/** The index pattern every index Fluentd writes under `indexPrefix` matches. */
export function indexPattern(indexPrefix: string): string {
  checkPrefix(indexPrefix);
  return `${indexPrefix}-*`;
}

/** The policy's id on the domain; one per prefix, so re-applying updates it instead of adding another. */
export function retentionPolicyId(indexPrefix: string): string {
  checkPrefix(indexPrefix);
  return `${indexPrefix}-retention`;
}

/**
 * The retention policy: every index of the prefix starts in `hot` and moves to `delete`, which
 * deletes it, once it is `retentionDays` old. The age is counted from the index's creation, and
 * Fluentd creates each daily index with its first record of that day (UTC), so about
 * `retentionDays` full days stay searchable. The `ism_template` attaches the policy to each new
 * index at creation; indices that existed before the policy must be attached explicitly.
 */
export function retentionPolicy(o: RetentionPolicyOptions): IsmPolicyDocument {
  const { retentionDays } = o;
  if (!Number.isInteger(retentionDays) || retentionDays < RETENTION_DAYS.min || retentionDays > RETENTION_DAYS.max) {
    throw new Error(`retentionDays ${retentionDays} is not a whole number of days from ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max}`);
  }
  const priority = o.priority ?? 100;
  if (!Number.isInteger(priority) || priority < 0) {
    throw new Error(`priority ${priority} is not a non-negative integer`);
  }
  const pattern = indexPattern(o.indexPrefix);
  return {
    policy: {
      description: `Deletes ${pattern} indices ${retentionDays} day(s) after their creation (platform:observability.logging.retentionDays).`,
      default_state: "hot",
      states: [
        { name: "hot", actions: [], transitions: [{ state_name: "delete", conditions: { min_index_age: `${retentionDays}d` } }] },
        { name: "delete", actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: [pattern], priority }],
    },
  };
}

/**
 * Hex SHA-256 of `value` serialised with sorted object keys, so the same content always hashes
 * the same whatever order its keys were written in.
 */
export function contentHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
