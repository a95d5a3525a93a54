/**
 * IAM documents (identity policies and IRSA trust policies) and Lambda resource policies.
 */
import type { Finding, PolicyResource, ResourceRule } from "../engine";
import { list, obj, objs, str, strs } from "../values";
import { Statement, statementsOf } from "./common";

const ROLE = "aws:iam/role:Role";
const POLICY_DOCUMENT_HOLDERS: Readonly<Record<string, string>> = {
  "aws:iam/policy:Policy": "policy",
  "aws:iam/rolePolicy:RolePolicy": "policy",
  "aws:iam/userPolicy:UserPolicy": "policy",
  "aws:iam/groupPolicy:GroupPolicy": "policy",
};

/** Every identity-policy document a resource declares, labelled for messages. */
function documentsOf(r: PolicyResource): Array<{ label: string; document: unknown }> {
  const key = POLICY_DOCUMENT_HOLDERS[r.type];
  if (key !== undefined) {
    return [{ label: key, document: r.props[key] }];
  }
  if (r.type === ROLE) {
    return objs(r.props["inlinePolicies"]).map((p, i) => ({ label: `inlinePolicies[${i}] (${str(p["name"]) ?? "unnamed"})`, document: p["policy"] }));
  }
  return [];
}

function isWildcardAction(action: string): boolean {
  return action === "*" || action === "*:*";
}

function describeStatement(s: Statement, index: number): string {
  return s.sid !== undefined ? `statement "${s.sid}"` : `statement ${index}`;
}

export const iamNoAdminStatements: ResourceRule = {
  kind: "resource",
  name: "iam-no-wildcard-admin",
  description: 'No IAM policy allows every action ("*") on every resource ("*").',
  docs: "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
  scannerIds: ["CKV_AWS_1", "CKV_AWS_62", "CKV_AWS_63"],
  enforcementLevel: "mandatory",
  severity: "critical",
  resourceTypes: [ROLE, ...Object.keys(POLICY_DOCUMENT_HOLDERS)],
  check: (r) => {
    const findings: Finding[] = [];
    for (const { label, document } of documentsOf(r)) {
      statementsOf(document).forEach((s, i) => {
        if (s.effect !== "Allow" || !s.resources.includes("*")) {
          return;
        }
        if (s.actions.some(isWildcardAction)) {
          findings.push({
            problem: `${label} ${describeStatement(s, i)} allows Action "*" on Resource "*" (full administrator)`,
            fix: "list the actions the workload calls and scope Resource to the ARNs it touches; grant administrators through a dedicated role, not a workload policy",
          });
        } else if (s.notActions.length > 0) {
          findings.push({
            problem: `${label} ${describeStatement(s, i)} allows everything except ${list(s.notActions)} (NotAction) on Resource "*"`,
            fix: "replace NotAction with an explicit Action list",
          });
        }
      });
    }
    return findings;
  },
};

/** The audience EKS projected service-account tokens carry for IRSA. */
const IRSA_AUDIENCE = "sts.amazonaws.com";

function isEksOidcPrincipal(principal: unknown): boolean {
  return strs(obj(principal)["Federated"]).some((p) => p.includes("oidc-provider/oidc.eks."));
}

/** Values of condition keys ending in `suffix` under the given operators. */
function conditionValues(condition: Readonly<Record<string, unknown>>, operators: readonly string[], suffix: string): string[][] {
  const out: string[][] = [];
  for (const op of operators) {
    for (const [key, values] of Object.entries(obj(condition[op]))) {
      if (key.endsWith(suffix)) {
        out.push(strs(values));
      }
    }
  }
  return out;
}

const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

export const iamIrsaTrustPinned: ResourceRule = {
  kind: "resource",
  name: "iam-irsa-trust-pinned",
  description: "IRSA trust policies pin the token's sub to exactly named service accounts (StringEquals, no patterns) and its aud to sts.amazonaws.com.",
  docs: "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [ROLE],
  check: (r) => {
    const findings: Finding[] = [];
    statementsOf(r.props["assumeRolePolicy"]).forEach((s, i) => {
      if (s.effect !== "Allow" || !s.actions.includes("sts:AssumeRoleWithWebIdentity") || !isEksOidcPrincipal(s.principal)) {
        return;
      }
      const which = describeStatement(s, i);
      const subs = conditionValues(s.condition, ["StringEquals"], ":sub");
      const looseSubs = conditionValues(s.condition, ["StringLike", "ForAnyValue:StringLike", "ForAnyValue:StringEquals"], ":sub");
      const values = subs.flat();
      // Usually one account; a workload running under several (the EFS CSI add-on's controller
      // and node accounts) lists each exactly. Patterns (StringLike) stay out: they admit
      // accounts nobody reviewed.
      if (subs.length !== 1 || values.length === 0 || looseSubs.length > 0 || !values.every((v) => SERVICE_ACCOUNT_SUBJECT.test(v))) {
        findings.push({
          problem:
            subs.length === 0 && looseSubs.length === 0
              ? `${which} has no <issuer>:sub condition, so every pod of the cluster can assume the role`
              : `${which} does not pin <issuer>:sub to exactly named service accounts with StringEquals (found ${list([...subs, ...looseSubs].flat().map((v) => `"${v}"`)) || "nothing"})`,
          fix: 'add Condition StringEquals { "<issuer>:sub": "system:serviceaccount:<namespace>:<name>" } (the IrsaRole component does this)',
        });
      }
      const auds = conditionValues(s.condition, ["StringEquals"], ":aud").flat();
      if (auds.length !== 1 || auds[0] !== IRSA_AUDIENCE) {
        findings.push({
          problem: `${which} does not pin <issuer>:aud to "${IRSA_AUDIENCE}" (found ${list(auds.map((v) => `"${v}"`)) || "nothing"}), so a token minted for another audience is accepted`,
          fix: `add Condition StringEquals { "<issuer>:aud": "${IRSA_AUDIENCE}" }`,
        });
      }
    });
    return findings;
  },
};

export const lambdaPermissionSourceArn: ResourceRule = {
  kind: "resource",
  name: "lambda-permission-source-arn",
  description: "Lambda invoke permissions for AWS services are scoped to the calling resource with sourceArn.",
  docs: "https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html",
  scannerIds: ["CKV_AWS_364"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: ["aws:lambda/permission:Permission"],
  check: (r) => {
    const principal = str(r.props["principal"]) ?? "";
    if (principal === "*") {
      return [{ problem: 'principal is "*", so anyone can invoke the function', fix: "name the calling service or account as principal and set sourceArn" }];
    }
    const sourceArn = str(r.props["sourceArn"]);
    return principal.endsWith(".amazonaws.com") && (sourceArn === undefined || sourceArn === "")
      ? [
          {
            problem: `principal ${principal} has no sourceArn, so any ${principal.split(".")[0]} resource in any account can invoke the function (confused deputy)`,
            fix: "set sourceArn to the calling resource, e.g. `${api.executionArn}/*/*` for API Gateway",
          },
        ]
      : [];
  },
};

export const iamRules = [iamNoAdminStatements, iamIrsaTrustPinned, lambdaPermissionSourceArn];
