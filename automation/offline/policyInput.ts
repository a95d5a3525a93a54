/**
 * The policy runner's view of an evaluation: each declared resource with the state the mocks
 * computed for it, so rules can follow references between resources as the program saw them.
 */
import { fromDeclared, OfflineResource } from "../../infra/policy/offline";
import type { Evaluation } from "./evaluate";
import { mockedOutputs } from "./mocks";

/** The policy runner's input for an evaluation. */
export function policyInput(ev: Evaluation): OfflineResource[] {
  return fromDeclared(
    ev.resources,
    (r) => mockedOutputs(r),
    (r) => ev.options.get(`${r.type}::${r.name}`)?.protect,
  );
}
