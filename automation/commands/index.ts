/**
 * The driver's commands: promote, release, flip, rollback, status, preview and up, as plain
 * functions over the ports (../ports, bundled in ../deps). The CLI and the tests call exactly these.
 *
 * Invariants every mutating command keeps:
 * - nothing changes before the up-front checks pass (pending operations judged by the stack's
 *   lock, convergence of config and deployed state, verified digests, targets present, outputs
 *   that follow the contract);
 * - every `up` is guarded: a full one by the policy-gated preview and the stateful-resource
 *   guard, a targeted one (switch, restore, unpark, park) by a targeted preview whose plan must do
 *   only what the targets are for;
 * - the stack is exported verbatim, beside the state, before the first change;
 * - a switch is verified at the load balancer's rule, then on the live host answered by the new
 *   color, then by the ALB's target health;
 * - a failure after the first infrastructure change restores the previous colors and images
 *   with exactly one more `up`, verified the same way; an update the engine reports as succeeded
 *   is never restored because reading its results failed;
 * - a lock held by someone else is waited on with bounded backoff, never cancelled;
 * - an interrupt cancels the running operation (never a second signal to the CLI), waits for it,
 *   restores the config file and reports the state; it starts no further `up`;
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
