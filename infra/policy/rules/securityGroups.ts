/**
 * Security groups, in all three forms the AWS provider offers: inline `ingress`/`egress` of
 * `aws.ec2.SecurityGroup`, `aws.ec2.SecurityGroupRule`, and the one-rule-per-resource
 * `aws.vpc.SecurityGroupIngressRule` / `SecurityGroupEgressRule` this program uses.
 */
import { opennessOfTexts, OpennessReport } from "../cidr";
import type { Finding, PolicyResource, ResourceRule, StackRule } from "../engine";
import { list, num, objs, str, strs } from "../values";
import { known } from "./common";

const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const VPC_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const VPC_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";

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

function covers(rule: SgRule, port: number, protocol = "tcp"): boolean {
  if (allPorts(rule.protocol)) {
    return true;
  }
  const same = rule.protocol === protocol || (rule.protocol === "6" && protocol === "tcp") || (rule.protocol === "tcp" && protocol === "6");
  return same && rule.from <= port && port <= rule.to;
}

const ADMIN_PORTS: ReadonlyArray<[number, string]> = [
  [22, "SSH"],
  [3389, "RDP"],
  [3306, "MySQL/MariaDB"],
];

/** The only ports a public ALB needs; the redirect on 80 sends clients on to 443. */
const WEB_PORTS = [80, 443];

/**
 * What the internet reaches: rules admitting traffic are judged by the union of their source
 * CIDRs (../cidr.ts), so 0.0.0.0/1 + 128.0.0.0/1, eight /3 blocks, or half the internet alone
 * count like 0.0.0.0/0. `rules` belong to one security group.
 */
interface Exposure {
  /** The rules whose sources together are (half) the internet for this traffic. */
  readonly rules: readonly SgRule[];
  readonly what: string;
  readonly report: OpennessReport;
}

function exposureOf(rules: readonly SgRule[], what: string, admits: (r: SgRule) => boolean): Exposure | undefined {
  const contributing = rules.filter((r) => r.direction === "ingress" && r.cidrs.length > 0 && admits(r));
  const report = opennessOfTexts(contributing.flatMap((r) => r.cidrs));
  return report.level === "restricted" ? undefined : { rules: contributing, what, report };
}

/** Admin ports (and all ports) the internet reaches through `rules`. */
export function adminExposures(rules: readonly SgRule[]): Exposure[] {
  const all = exposureOf(rules, "all ports", (r) => allPorts(r.protocol) || (r.from === 0 && r.to >= 65535));
  if (all !== undefined) {
    return [all];
  }
  return ADMIN_PORTS.flatMap(([port, name]) => exposureOf(rules, `${port} (${name})`, (r) => covers(r, port)) ?? []);
}

/** Ports other than TCP 80/443 the internet reaches through `rules`, one exposure per offending rule. */
export function nonWebExposures(rules: readonly SgRule[]): Exposure[] {
  const out: Exposure[] = [];
  for (const rule of rules.filter((r) => r.direction === "ingress" && r.cidrs.length > 0)) {
    const protocol = allPorts(rule.protocol) ? "tcp" : rule.protocol === "6" ? "tcp" : rule.protocol;
    if (protocol === "tcp" && rule.from === rule.to && WEB_PORTS.includes(rule.from)) {
      continue;
    }
    // The first port of the rule's range that is not a web port: traffic there must not be world-open.
    let probe = rule.from;
    while (protocol === "tcp" && WEB_PORTS.includes(probe) && probe < rule.to) {
      probe++;
    }
    const found = exposureOf(rules, ports(rule), (r) => covers(r, probe, protocol));
    if (found !== undefined && found.rules.includes(rule)) {
      out.push(found);
    }
  }
  return out;
}

/** `<ranges> to <what> (<how much of the internet>)`. */
function admitted(e: Exposure): string {
  const cidrs = [...new Set(e.rules.flatMap((r) => r.cidrs))];
  const how = e.report.level === "world" ? "the whole internet" : "half of the internet or more";
  return `${list(cidrs)} to ${e.what} (${how}: ${e.report.detail ?? ""})`;
}

export const sgNoWorldAdminPorts: ResourceRule = {
  kind: "resource",
  name: "sg-no-world-admin-ingress",
  description:
    "No security group admits the internet (0.0.0.0/0, ::/0, or any set of ranges covering half of it or more) to SSH, RDP, MySQL/MariaDB or to all ports.",
  docs: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
  scannerIds: ["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277", "AWS Security Hub EC2.19"],
  enforcementLevel: "mandatory",
  severity: "critical",
  resourceTypes: [SECURITY_GROUP, SG_RULE, VPC_INGRESS],
  check: (r) =>
    adminExposures(securityGroupRules(r)).map((e) => ({
      problem: `${list(e.rules.map((x) => x.label))} admits ${admitted(e)}`,
      fix: "remove the rule; operators reach hosts through SSM Session Manager and the database through the bastion's SSM port forwarding, and clients are admitted by security group (referencedSecurityGroupId), not by CIDR",
    })),
};

export const sgWorldIngressWebOnly: ResourceRule = {
  kind: "resource",
  name: "sg-world-ingress-web-only",
  description: "Ingress from the internet (0.0.0.0/0, ::/0, or ranges covering half of it or more together) is only allowed on TCP 80 and 443 (a public ALB).",
  docs: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html",
  scannerIds: ["AWS Security Hub EC2.18"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [SECURITY_GROUP, SG_RULE, VPC_INGRESS],
  check: (r) =>
    nonWebExposures(securityGroupRules(r)).map((e) => ({
      problem: `${list(e.rules.map((x) => x.label))} admits ${admitted(e)}; only TCP 80 and 443 of a public load balancer may face the internet`,
      fix: "admit the clients by security group (referencedSecurityGroupId) or by their own CIDRs, or put the service behind the ALB",
    })),
};

/** The security group a rule resource belongs to: its id when known, else the group it depends on (a preview). */
function groupOf(r: PolicyResource): string | undefined {
  if (r.type === SECURITY_GROUP) {
    return undefined;
  }
  const id = str(known(() => r.props["securityGroupId"]));
  return id ?? r.propertyDependencies?.["securityGroupId"]?.[0];
}

export const sgIngressUnion: StackRule = {
  kind: "stack",
  name: "sg-ingress-union-not-world",
  description:
    "Separate ingress rules of one security group are judged together: their source ranges may not add up to (half) the internet on an admin port or any port other than TCP 80/443.",
  docs: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
  scannerIds: ["AWS Security Hub EC2.18", "AWS Security Hub EC2.19"],
  enforcementLevel: "mandatory",
  severity: "critical",
  check: (resources) => {
    const byGroup = new Map<string, Array<{ resource: PolicyResource; rule: SgRule }>>();
    for (const resource of resources.filter((x) => x.type === SG_RULE || x.type === VPC_INGRESS)) {
      const group = groupOf(resource);
      if (group === undefined) {
        continue;
      }
      for (const rule of securityGroupRules(resource)) {
        byGroup.set(group, [...(byGroup.get(group) ?? []), { resource, rule }]);
      }
    }
    const findings: Finding[] = [];
    for (const [group, members] of byGroup) {
      const rules = members.map((m) => m.rule);
      const owner = (rule: SgRule): PolicyResource | undefined => members.find((m) => m.rule === rule)?.resource;
      const seen = new Set<string>();
      for (const e of [...adminExposures(rules), ...nonWebExposures(rules)]) {
        const owners = [...new Set(e.rules.map(owner).filter((x): x is PolicyResource => x !== undefined))];
        // One resource alone is the resource rules' finding; this rule reports what only the union shows.
        const key = `${e.what}|${owners.map((o) => o.name).join(",")}`;
        if (owners.length < 2 || seen.has(key)) {
          continue;
        }
        seen.add(key);
        const first = owners[0];
        findings.push({
          resource: { type: first.type, name: first.name, urn: first.urn },
          problem: `the ingress rules ${list(owners.map((o) => `"${o.name}"`))} of security group ${group} together admit ${admitted(e)}`,
          fix: "admit clients by security group (referencedSecurityGroupId) or list only their own ranges; split ranges are judged by what they cover together",
        });
      }
    }
    return findings;
  },
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

export const securityGroupRulesList = [sgNoWorldAdminPorts, sgWorldIngressWebOnly, sgIngressUnion, sgRulesDescribed];
