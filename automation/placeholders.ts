/**
 * Placeholders in a stack's config: documentation values the shipped example stacks carry (AWS's
 * example account ids, the RFC 5737 / RFC 3849 documentation address ranges, RFC 2606 / RFC 6761
 * example and special-use domains, template markers such as `<account>`) which AWS rejects or which
 * name nothing real. Pure: it reads the stack file's `config:` map and returns, per value, the key,
 * the value, what is wrong and what to put instead.
 *
 * The real operations (`preview`, `up`, `release`, `promote`, `flip`, `rollback`) refuse a stack
 * with placeholders before anything slow (automation/cli/validate.ts); the offline `plan` of the
 * example stacks lists them as warnings and carries on.
 */
import { blockSize, Cidr, contains, mustParseCidr, parseCidr } from "../infra/lib/cidr";

export type PlaceholderKind =
  | "example account"
  | "documentation address"
  | "example domain"
  | "template marker"
  | "nil id"
  | "example repository";

export interface Placeholder {
  /** The config key with its path, e.g. `platform:services[0].blue.image`. */
  readonly key: string;
  /** The whole value at that key. */
  readonly value: string;
  readonly kind: PlaceholderKind;
  /** The part of the value that is a placeholder, e.g. `123456789012`. */
  readonly found: string;
  /** Why it cannot be deployed. */
  readonly problem: string;
  /** What to put instead. */
  readonly fix: string;
}

/**
 * The example account ids of the AWS documentation (IAM user guide and service guides use
 * 123456789012, 111122223333, 444455556666 and 777788889999; the CDK reference 222222222222);
 * 000000000000 is LocalStack's. None is an account the deployer owns: ARNs and ECR registries naming
 * them are refused or unreachable.
 */
export const EXAMPLE_ACCOUNTS: readonly string[] = ["123456789012", "111122223333", "222222222222", "444455556666", "777788889999", "000000000000"];

/** RFC 5737 TEST-NET-1/2/3: reserved for documentation, never routed on the internet. */
export const DOCUMENTATION_IPV4: readonly string[] = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];
const DOCUMENTATION_BLOCKS: readonly Cidr[] = DOCUMENTATION_IPV4.map(mustParseCidr);

/** RFC 2606 second-level example domains; RFC 2606 / RFC 6761 special-use top-level domains. */
const EXAMPLE_SLDS = ["example.com", "example.net", "example.org"];
const SPECIAL_TLDS = ["example", "invalid", "localhost", "test"];

/** Owners GitHub's documentation uses in examples (`octo-org/octo-repo`, `octocat/hello-world`). */
const EXAMPLE_GITHUB_OWNERS = ["octo-org", "octocat"];

const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/** What to put, by config key (first match wins); the kind's generic advice otherwise. */
const HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^platform:(services\[\d+\]\.(blue|green)\.image|releases\.[^.]+\.image)$/, "an image your build pushed to this account's ECR, <account>.dkr.ecr.<region>.amazonaws.com/<service>:<tag> (`aws sts get-caller-identity --query Account` prints the account)"],
  [/^platform:cluster\.adminRoleArns\[\d+\]$/, "the ARN of an IAM role of your account that administers the cluster (`aws iam get-role --role-name <name> --query Role.Arn`)"],
  [/^platform:cluster\.deployerRoleArn$/, "the ARN of the role that runs `pulumi up` for this stack"],
  [/^platform:cluster\.bootstrapAccessCidr$/, "your own public address as a /32 (`curl -s https://checkip.amazonaws.com`), for the first up only"],
  [/^platform:cluster\.publicAccessCidrs\[\d+\]$/, "the egress range of the network your kubectl runs from (office or VPN), or nothing: the endpoint is then private"],
  [/Cidrs\[\d+\]$/, "the egress range (office or VPN) that should reach it, or nothing"],
  [/^platform:domain$/, "a public hosted zone of your account in Route 53 (`aws route53 list-hosted-zones --query 'HostedZones[].Name'`)"],
  [/^platform:edge\.alarmEmails\[\d+\]$/, "a mailbox someone on call reads"],
  [/^platform:ci\.runners\.connectionArn$/, "the ARN of your AWS CodeConnections GitHub connection, handshake completed (`aws codeconnections list-connections`)"],
  [/^platform:ci\.runners\.repository$/, "your GitHub repository as owner/name"],
  [/^platform:ci\.runners\.stateBucket$/, "the S3 bucket of PULUMI_BACKEND_URL"],
  [/^platform:registry\.dockerHubCache\.credentialArn$/, "the ARN of your ecr-pullthroughcache/<name> secret in Secrets Manager"],
];

const GENERIC_FIX: Readonly<Record<PlaceholderKind, string>> = {
  "example account": "your AWS account id (`aws sts get-caller-identity --query Account`)",
  "documentation address": "a real address range you control",
  "example domain": "a domain you own (a public hosted zone in Route 53)",
  "template marker": "the real value the marker stands for",
  "nil id": "the id of the real resource",
  "example repository": "your GitHub repository (owner/name)",
};

function problemOf(kind: PlaceholderKind, found: string): string {
  switch (kind) {
    case "example account":
      return `${found} is an example account id from the AWS documentation, not your account`;
    case "documentation address":
      return `${found} is in a documentation-only address range (RFC 5737 / RFC 3849), never routed`;
    case "example domain":
      return `${found} is a reserved example or special-use domain (RFC 2606 / RFC 6761)`;
    case "template marker":
      return `${found} is a template marker, not a value`;
    case "nil id":
      return `${found} is the nil UUID, no real resource has it`;
    case "example repository":
      return `${found} is an example owner from GitHub's documentation`;
  }
}

/** The placeholder fragments of one string value, each with its kind. */
export function placeholdersIn(value: string): Array<{ readonly kind: PlaceholderKind; readonly found: string }> {
  const out: Array<{ kind: PlaceholderKind; found: string }> = [];
  const add = (kind: PlaceholderKind, found: string): void => {
    if (!out.some((o) => o.kind === kind && o.found === found)) {
      out.push({ kind, found });
    }
  };
  // Twelve digits on their own (an ARN's account field, an ECR registry host, a bucket-name suffix),
  // not the last group of a UUID.
  for (const m of value.matchAll(/(?<![0-9])(?<![0-9a-f]{4}-)([0-9]{12})(?![0-9])/gi)) {
    const id = m[1] ?? "";
    if (EXAMPLE_ACCOUNTS.includes(id)) {
      add("example account", id);
    }
  }
  for (const m of value.matchAll(/(?<![0-9.])(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?(?![0-9])/g)) {
    const address = parseCidr(`${m[1] ?? ""}/32`);
    const prefix = Number(m[2] ?? "32");
    if (typeof address === "string" || prefix > 32) {
      continue;
    }
    // The block the value names with its host bits cleared, so 203.0.113.7/24 counts as 203.0.113.0/24.
    const named: Cidr = { network: address.network - (address.network % blockSize(prefix)), prefix };
    if (DOCUMENTATION_BLOCKS.some((d) => contains(d, named))) {
      add("documentation address", m[0]);
    }
  }
  for (const m of value.matchAll(/(?<![0-9a-f:])2001:0?db8:[0-9a-f:]*(?:\/\d{1,3})?/gi)) {
    add("documentation address", m[0]);
  }
  const label = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
  const domain = new RegExp(
    `(?<![a-z0-9-])((?:${label}\\.)*(?:(?:${EXAMPLE_SLDS.map((d) => d.replace(".", "\\.")).join("|")})|${label}\\.(?:${SPECIAL_TLDS.join("|")})))(?![a-z0-9-]|\\.[a-z0-9])`,
    "gi",
  );
  for (const m of value.matchAll(domain)) {
    add("example domain", m[1] ?? m[0]);
  }
  for (const m of value.matchAll(/<[A-Za-z][^<>]*>|\b(?:REPLACE[_-]?ME|CHANGE[_-]?ME)\b/gi)) {
    add("template marker", m[0]);
  }
  if (value.toLowerCase().includes(NIL_UUID)) {
    add("nil id", NIL_UUID);
  }
  for (const owner of EXAMPLE_GITHUB_OWNERS) {
    const re = new RegExp(`(?:^|github\\.com[/:])(${owner})/`, "i");
    const m = re.exec(value);
    if (m !== null) {
      add("example repository", `${m[1] ?? owner}/`);
    }
  }
  return out;
}

function formatKey(path: ReadonlyArray<string | number>): string {
  const [first, ...rest] = path;
  return `${String(first)}${rest.map((seg) => (typeof seg === "number" ? `[${seg}]` : `.${seg}`)).join("")}`;
}

function hintFor(key: string, kind: PlaceholderKind): string {
  return HINTS.find(([re]) => re.test(key))?.[1] ?? GENERIC_FIX[kind];
}

function isSecure(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/**
 * Every placeholder in a stack file's `config:` map (keys fully qualified, as in the file), in the
 * file's order. Encrypted (`secure:`) values are never read.
 */
export function findPlaceholders(config: Readonly<Record<string, unknown>>): Placeholder[] {
  const out: Placeholder[] = [];
  const walk = (v: unknown, path: ReadonlyArray<string | number>): void => {
    if (isSecure(v)) {
      return;
    }
    if (typeof v === "string") {
      const key = formatKey(path);
      for (const { kind, found } of placeholdersIn(v)) {
        out.push({ key, value: v, kind, found, problem: problemOf(kind, found), fix: hintFor(key, kind) });
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        walk(x, [...path, k]);
      }
    }
  };
  for (const [key, value] of Object.entries(config)) {
    walk(value, [key]);
  }
  return out;
}

/** One line per placeholder: `key: "value": problem; put fix`. */
export function describePlaceholder(p: Placeholder): string {
  return `${p.key}: ${JSON.stringify(p.value)}: ${p.problem}; put ${p.fix}`;
}
