/**
 * The driver's commands: promote, release, flip, rollback, status, preview and up, as plain
 * functions over the ports (../ports, bundled in ../deps). The CLI and the tests call exactly these.
 *
 * Invariants every mutating command keeps:
 * - nothing changes before the up-front checks pass (pending operations, convergence of config
 *   and deployed state, verified digests, flip targets present, outputs that follow the contract);
 * - the stack is exported to a timestamped backup before the first change;
 * - a failure after the first infrastructure change restores the previous colors and images
 *   with exactly one more `up`, then verifies the restored state through the live host;
 * - a lock held by someone else is waited on with bounded backoff, never cancelled;
 * - an interrupt aborts the running operation, waits for it, restores the config file and
 *   reports what may be half-done; it starts no further `up`;
 * - promote, release, flip and rollback send exactly one notification, whatever the outcome.
 */
export { flip, rollback } from "./flip";
export type { FlipRequest } from "./flip";
export { preview } from "./preview";
export type { PreviewRequest } from "./preview";
export { promote } from "./promote";
export type { PromoteRequest } from "./promote";
export { release } from "./release";
export type { ReleaseRequest } from "./release";
export { status } from "./status";
export { up } from "./up";
export type { UpRequest } from "./up";
