/**
 * What every area of the config schema shares: the problem shape (`fix` says what to change),
 * name patterns, CIDR and tag values, and `fail`, through which every cross-field rule reports.
 */
import { z } from "zod";
import { MAX_VALUES_PER_CONDITION, MAX_VALUES_PER_RULE, RuleShape, sourceIpBudget, valuesUsed } from "../../lib/albConditions";
import { AddressBlock, blockContains, opennessOf, parseBlock, parseCidr } from "../../lib/cidr";

/** A problem found in the stack config; `fix` says what to change. */
export interface IssueParams {
  readonly fix: string;
}

export const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const AZ = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
export const K8S_LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const K8S_LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** The pattern named in words, then as written, for messages that must say what is allowed. */
function matching(re: RegExp, words: string): z.ZodString {
  return z.string().regex(re, `must be ${words} (pattern ${re.source})`);
}

/** A DNS label (RFC 1123, as Kubernetes names and this platform's logical names use it). */
export const dnsLabel = matching(DNS_LABEL, "a DNS label: lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters");
/** A Kubernetes label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export const labelKey = matching(
  K8S_LABEL_KEY,
  "a Kubernetes label key: an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
);
/** A Kubernetes label value: empty, or at most 63 letters, digits, `-`, `_`, `.`, starting and ending alphanumeric. */
export const labelValue = matching(K8S_LABEL_VALUE, "a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
/** An environment variable name as POSIX shells and Kubernetes' env take it. */
export const envName = matching(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name: a letter or '_', then letters, digits or '_'");

/** An EC2 instance type, `family.size`. */
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

export const cidrString = z.string().superRefine((value, ctx) => {
  const parsed = parseCidr(value);
  if (typeof parsed === "string") {
    ctx.addIssue({
      code: "custom",
      message: parsed,
      params: { fix: "use an IPv4 network in CIDR notation with no host bits set, e.g. 10.20.0.0/16" },
    });
  }
});

export const tags = z.record(
  z.string().min(1, "must not be empty").max(128, "must be at most 128 characters (AWS's limit for a tag key)"),
  z.string().max(256, "must be at most 256 characters (AWS's limit for a tag value)"),
);

export type Ctx = z.RefinementCtx;

/** Reports one problem at `path` (relative to `platform:`), with the fix. */
export function fail(ctx: Ctx, path: Array<string | number>, message: string, fix: string): void {
  const params: IssueParams = { fix };
  ctx.addIssue({ code: "custom", path, message, params });
}

/**
 * Judges a source allow-list by the address space its union covers (../../lib/cidr.ts): a list
 * that covers all of the internet (`0.0.0.0/0`, or `0.0.0.0/1` + `128.0.0.0/1`, or eight /3s) or
 * at least half of it (`0.0.0.0/1` alone) opens `opens` to anyone, whatever the spelling. Also
 * refuses an entry listed twice or inside another entry (it adds nothing and uses up a value of
 * the ALB rule's budget). Entries that do not parse are reported by `cidrString`.
 */
export function failOpenToInternet(ctx: Ctx, path: Array<string | number>, cidrs: readonly string[], opens: string, fix: string): void {
  const blocks = cidrs.map(parseBlock);
  const report = opennessOf(blocks.filter((b): b is AddressBlock => typeof b !== "string"));
  if (report.level !== "restricted") {
    const how = report.level === "world" ? "to the whole internet" : "to half of the internet or more";
    fail(ctx, path, `opens ${opens} ${how}: ${report.detail ?? ""} (a list is judged by the addresses it covers together, not entry by entry)`, fix);
  }
  blocks.forEach((b, i) => {
    if (typeof b === "string") {
      return;
    }
    const j = blocks.findIndex((o, k) => k !== i && typeof o !== "string" && blockContains(o, b) && (k < i || o.prefix < b.prefix));
    if (j >= 0) {
      fail(
        ctx,
        [...path, i],
        `${b.text} is ${(blocks[j] as AddressBlock).prefix === b.prefix ? "listed twice" : `inside ${cidrs[j]} (entry ${j})`}`,
        "remove the redundant entry",
      );
    }
  });
}

/**
 * The source CIDRs of an exposure fit one ALB rule (`sourceIpBudget`): beside the rule's host and
 * path patterns, ELBv2 takes at most 3 values per condition and 5 per rule, the controller does not
 * check, and the rule it cannot create stops the whole IngressGroup (every service's Ingress) from
 * reconciling. `rule` is the exposure's Ingress rule (host, path and pathType as its component
 * declares it; test/albConditions.test.ts checks the declared Ingresses at the cap).
 */
export function failOverRuleBudget(ctx: Ctx, path: Array<string | number>, cidrs: readonly string[], what: string, rule: RuleShape): void {
  const budget = sourceIpBudget(rule);
  if (cidrs.length > budget) {
    fail(
      ctx,
      path,
      `lists ${cidrs.length} source ranges for ${what}, but its ALB rule takes at most ${budget}: ELBv2 allows ${MAX_VALUES_PER_CONDITION} values per condition, ${MAX_VALUES_PER_RULE} per rule, and the rule's host and path use ${valuesUsed(rule)}; the controller does not check, and a rule ELBv2 rejects stops the whole IngressGroup from reconciling, blue/green flips included`,
      `aggregate the ranges into at most ${budget} CIDRs (e.g. one /22 instead of four /24s), or reach ${what} through kubectl port-forward`,
    );
  }
}
