/**
 * The stateful-resource guard: a planned replace or delete of a database, file system, cluster,
 * log domain or bucket is refused unless the operator allowed it for this run.
 */
import { PlannedStep, urnName } from "../changes";
import { RefusedError } from "../errors";

export function refuseStatefulChanges(hazards: readonly PlannedStep[], allowReplace: boolean): void {
  if (hazards.length > 0 && !allowReplace) {
    throw new RefusedError(`the update would ${hazards.map((h) => `${h.op} ${h.type} ${urnName(h.urn)}`).join(", ")}`, [
      "stateful resources are never replaced or deleted implicitly; review the preview and re-run with --allow-replace if intended",
    ]);
  }
}
