/**
 * What config validation needs from the stack's policy config (infra/policy/config/<environment>.json,
 * the file the driver passes to every preview and up): whether a production invariant's rule is
 * lifted there (not mandatory, or a documented exception), and a rule's settings. Config refuses a
 * setting the pack would refuse anyway, before anything is declared, unless the policy config
 * documents an exception; the pack then judges each resource against that exception.
 */
import type { Environment } from "../domain";
import { enforcementLevel, loadPolicyConfig, PolicyPackConfig } from "../policy/offline";
import { exceptionMatches, resolveSettings } from "../policy/engine";
import { ruleNamed } from "../policy/rules";

export interface PolicyView {
  /** The policy config that was read, relative to the repository, for messages. */
  readonly file: string;
  /**
   * True when `rule` is not mandatory in this stack, or a documented exception covers `resource`
   * (the resource the program would declare; any exception of the rule when it is not named).
   */
  lifted(rule: string, resource?: { readonly type: string; readonly name: string }): boolean;
  /** A rule's setting (its schema default, overlaid with the policy config). */
  setting(rule: string, key: string): unknown;
}

/** The view over a policy config; an unreadable file counts as no exception (the strictest reading). */
export function policyView(environment: Environment, config?: PolicyPackConfig): PolicyView {
  let read: PolicyPackConfig = { all: "mandatory" };
  try {
    read = config ?? loadPolicyConfig(environment);
  } catch {
    // The pack reports a broken policy config itself (validatePolicyConfig); config stays strict.
  }
  const entry = (rule: string): Readonly<Record<string, unknown>> | undefined => {
    const e = read[rule];
    return e !== null && typeof e === "object" ? e : undefined;
  };
  return {
    file: `infra/policy/config/${environment}.json`,
    lifted: (rule, resource) => {
      try {
        const exceptions = resolveSettings(ruleNamed(rule), entry(rule)).exceptions;
        const covered = resource === undefined ? exceptions.length > 0 : exceptions.some((e) => exceptionMatches(e, resource));
        return enforcementLevel(ruleNamed(rule), read) !== "mandatory" || covered;
      } catch {
        return false; // an invalid level in the policy config: the pack refuses the file; config stays strict
      }
    },
    setting: (rule, key) => resolveSettings(ruleNamed(rule), entry(rule))[key],
  };
}
