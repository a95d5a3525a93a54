/**
 * Every rule of the pack, once. The real pack (../pack.ts) and the offline runner (../offline.ts)
 * both take their rules from this list and nowhere else.
 */
import type { Rule } from "../engine";
import { dataRules } from "./data";
import { ec2Rules } from "./ec2";
import { edgeRules } from "./edge";
import { eksRules } from "./eks";
import { iamRules } from "./iam";
import { kubernetesRules } from "./kubernetes";
import { platformRules } from "./platform";
import { prodRules } from "./prod";
import { rdsRules } from "./rds";
import { s3Rules } from "./s3";
import { securityGroupRulesList } from "./securityGroups";
import { tagRules } from "./tags";
import { workloadRules } from "./workloads";

export const RULES: readonly Rule[] = [
  ...rdsRules,
  ...s3Rules,
  ...securityGroupRulesList,
  ...ec2Rules,
  ...eksRules,
  ...dataRules,
  ...edgeRules,
  ...iamRules,
  ...kubernetesRules,
  ...platformRules,
  ...prodRules,
  ...workloadRules,
  ...tagRules,
];

const seen = new Set<string>();
for (const rule of RULES) {
  // CrossGuard reserves "all" for the pack-wide enforcement level in config files.
  if (seen.has(rule.name) || rule.name === "all" || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(rule.name)) {
    throw new Error(`policy rule name "${rule.name}" is duplicated, reserved or not kebab-case`);
  }
  seen.add(rule.name);
}

export function ruleNamed(name: string): Rule {
  const rule = RULES.find((r) => r.name === name);
  if (rule === undefined) {
    throw new Error(`no policy rule named "${name}"; rules: ${RULES.map((r) => r.name).join(", ")}`);
  }
  return rule;
}
