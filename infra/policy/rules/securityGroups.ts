/**
 * Security groups, in all three forms the AWS provider offers: inline `ingress`/`egress` of
 * `aws.ec2.SecurityGroup`, `aws.ec2.SecurityGroupRule`, and the one-rule-per-resource
 * `aws.vpc.SecurityGroupIngressRule` / `SecurityGroupEgressRule` this program uses.
 */
import type { Finding, PolicyResource, ResourceRule } from "../engine";
import { list, num, objs, str, strs } from "../values";

const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const VPC_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const VPC_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";

const WORLD = ["0.0.0.0/0", "::/0"];

interface SgRule {
  readonly direction: "ingress" | "egress";
  /** Where the rule sits, for messages: `ingress[0]` or `rule`. */
  readonly label: string;
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
  readonly cidrs: string[];
  readonly description?: string;
}

function allPorts(protocol: string): boolean {
  return protocol === "-1" || protocol === "all";
}

function normalise(protocol: string | undefined, from: unknown, to: unknown): { protocol: string; from: number; to: number } {
  const p = (protocol ?? "-1").toLowerCase();
  if (allPorts(p)) {
    return { protocol: p, from: 0, to: 65535 };
  }
  return { protocol: p, from: num(from) ?? 0, to: num(to) ?? num(from) ?? 65535 };
}

/** Every rule a resource declares, whichever form it uses. */
export function securityGroupRules(r: PolicyResource): SgRule[] {
  const p = r.props;
  if (r.type === SECURITY_GROUP) {
    return (["ingress", "egress"] as const).flatMap((direction) =>
      objs(p[direction]).map((rule, i) => ({
        direction,
        label: `${direction}[${i}]`,
        ...normalise(str(rule["protocol"]), rule["fromPort"], rule["toPort"]),
        cidrs: [...strs(rule["cidrBlocks"]), ...strs(rule["ipv6CidrBlocks"])],
        description: str(rule["description"]),
      })),
    );
  }
  if (r.type === SG_RULE) {
    return [
      {
        direction: str(p["type"]) === "egress" ? "egress" : "ingress",
        label: "rule",
        ...normalise(str(p["protocol"]), p["fromPort"], p["toPort"]),
        cidrs: [...strs(p["cidrBlocks"]), ...strs(p["ipv6CidrBlocks"])],
        description: str(p["description"]),
      },
    ];
  }
  if (r.type === VPC_INGRESS || r.type === VPC_EGRESS) {
    return [
      {
        direction: r.type === VPC_INGRESS ? "ingress" : "egress",
        label: "rule",
        ...normalise(str(p["ipProtocol"]), p["fromPort"], p["toPort"]),
        cidrs: [str(p["cidrIpv4"]), str(p["cidrIpv6"])].filter((c): c is string => c !== undefined),
        description: str(p["description"]),
      },
    ];
  }
  return [];
}

function ports(rule: SgRule): string {
  return allPorts(rule.protocol) ? "all ports" : rule.from === rule.to ? `${rule.protocol}/${rule.from}` : `${rule.protocol}/${rule.from}-${rule.to}`;
}

function covers(rule: SgRule, port: number): boolean {
  return allPorts(rule.protocol) || ((rule.protocol === "tcp" || rule.protocol === "6") && rule.from <= port && port <= rule.to);
}

const ADMIN_PORTS: ReadonlyArray<[number, string]> = [
  [22, "SSH"],
  [3389, "RDP"],
  [3306, "MySQL/MariaDB"],
];

export const sgNoWorldAdminPorts: ResourceRule = {
  kind: "resource",
  name: "sg-no-world-admin-ingress",
  description: "No security group admits 0.0.0.0/0 or ::/0 to SSH, RDP, MySQL/MariaDB or to all ports.",
  docs: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
  scannerIds: ["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277", "AWS Security Hub EC2.19"],
  enforcementLevel: "mandatory",
  severity: "critical",
  resourceTypes: [SECURITY_GROUP, SG_RULE, VPC_INGRESS],
  check: (r) => {
    const findings: Finding[] = [];
    for (const rule of securityGroupRules(r).filter((x) => x.direction === "ingress")) {
      const world = rule.cidrs.filter((c) => WORLD.includes(c));
      if (world.length === 0) {
        continue;
      }
      const exposed = allPorts(rule.protocol) || (rule.from === 0 && rule.to >= 65535) ? ["all ports"] : ADMIN_PORTS.filter(([port]) => covers(rule, port)).map(([port, name]) => `${port} (${name})`);
      if (exposed.length > 0) {
        findings.push({
          problem: `${rule.label} admits ${list(world)} to ${list(exposed)}`,
          fix: "remove the rule; operators reach hosts through SSM Session Manager and the database through the bastion's SSM port forwarding, and clients are admitted by security group (referencedSecurityGroupId), not by CIDR",
        });
      }
    }
    return findings;
  },
};

/** The only ports a public ALB needs; the redirect on 80 sends clients on to 443. */
const WEB_PORTS = [80, 443];

export const sgWorldIngressWebOnly: ResourceRule = {
  kind: "resource",
  name: "sg-world-ingress-web-only",
  description: "Ingress from 0.0.0.0/0 or ::/0 is only allowed on TCP 80 and 443 (a public ALB).",
  docs: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html",
  scannerIds: ["AWS Security Hub EC2.18"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [SECURITY_GROUP, SG_RULE, VPC_INGRESS],
  check: (r) =>
    securityGroupRules(r)
      .filter((rule) => rule.direction === "ingress" && rule.cidrs.some((c) => WORLD.includes(c)))
      .filter((rule) => !(rule.protocol === "tcp" && rule.from === rule.to && WEB_PORTS.includes(rule.from)))
      .map((rule) => ({
        problem: `${rule.label} admits ${list(rule.cidrs.filter((c) => WORLD.includes(c)))} to ${ports(rule)}; only TCP 80 and 443 of a public load balancer may face the internet`,
        fix: "admit the clients by security group (referencedSecurityGroupId) or by their own CIDRs, or put the service behind the ALB",
      })),
};

/** The description the AWS provider puts on a group when none is given. */
const PROVIDER_DEFAULT_DESCRIPTION = "Managed by Pulumi";

export const sgRulesDescribed: ResourceRule = {
  kind: "resource",
  name: "sg-rules-described",
  description: "Every security group and every one of its rules says what it is for.",
  docs: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
  scannerIds: ["CKV_AWS_23"],
  enforcementLevel: "mandatory",
  severity: "low",
  resourceTypes: [SECURITY_GROUP, SG_RULE, VPC_INGRESS, VPC_EGRESS],
  check: (r) => {
    const findings: Finding[] = [];
    if (r.type === SECURITY_GROUP) {
      const description = str(r.props["description"]);
      if (description === undefined || description.trim() === "" || description === PROVIDER_DEFAULT_DESCRIPTION) {
        findings.push({
          problem: `the group has ${description === undefined ? "no description (the provider writes \"Managed by Pulumi\")" : `the description "${description}"`}`,
          fix: "describe who the group is for and what it admits (a change replaces the group, so write it once)",
        });
      }
    }
    const undescribed = securityGroupRules(r).filter((rule) => rule.description === undefined || rule.description.trim() === "");
    if (undescribed.length > 0) {
      findings.push({
        problem: `${list(undescribed.map((u) => `${u.label} (${u.direction} ${ports(u)})`))} ${undescribed.length === 1 ? "has" : "have"} no description`,
        fix: "set description on every rule: who is admitted and why",
      });
    }
    return findings;
  },
};

export const securityGroupRulesList = [sgNoWorldAdminPorts, sgWorldIngressWebOnly, sgRulesDescribed];
