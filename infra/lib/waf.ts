/**
 * Pure WAF logic: the web ACL's rules in evaluation order. Type-only import of the provider's
 * input shapes, so the result is checked against the real WebAcl args; tested table-driven
 * (test/waf.test.ts).
 */
import type { wafv2 } from "@pulumi/aws/types/input";

/** AWS managed rule groups, in evaluation order (cheapest, most decisive first). */
export const MANAGED_RULE_GROUPS = [
  // Known-bad sources (botnets, scanners): block before spending any other inspection on them.
  "AWSManagedRulesAmazonIpReputationList",
  // VPNs, proxies, Tor: keeps anonymised clients away from enrolment. Hosting providers are only
  // counted (DEFAULT_COUNTED_ANONYMOUS_RULES).
  "AWSManagedRulesAnonymousIpList",
  // OWASP-style core rules (XSS, LFI, size limits, bad user agents).
  "AWSManagedRulesCommonRuleSet",
  // Exploit payloads such as Log4Shell and Java deserialisation (the services are Spring Boot).
  "AWSManagedRulesKnownBadInputsRuleSet",
] as const;

/** Name of the per-IP rate-based rule. */
export const RATE_LIMIT_RULE = "rate-limit-per-ip";

/** Priorities leave gaps so a rule can be inserted later without renumbering (and re-creating) the others. */
const PRIORITY_STEP = 10;

/**
 * Rules of the common rule set that only count instead of blocking.
 *
 * `SizeRestrictions_BODY` blocks any request body over 8 KB. Users upload images (to the
 * images bucket), so every upload would be blocked. A large body is not an attack by itself: the
 * rule exists because an ALB's WAF inspects only the first 8 KB of a body, and the services
 * enforce their own upload limits (Spring `spring.servlet.multipart.max-file-size`). Counting keeps
 * the rule's metric and label (`awswaf:managed:aws:core-rule-set:SizeRestrictions_Body`) for
 * visibility, while the rest of the common rule set still inspects the first 8 KB of every body.
 */
export const DEFAULT_COUNTED_COMMON_RULES: readonly string[] = ["SizeRestrictions_BODY"];

/**
 * The rules of AWSManagedRulesAnonymousIpList (AWS WAF developer guide, "IP reputation rule
 * groups", section "Anonymous IP list managed rule group"; labels
 * `awswaf:managed:aws:anonymous-ip-list:<rule>`). Both block by default.
 */
export const ANONYMOUS_IP_LIST_RULES = ["AnonymousIPList", "HostingProviderIPList"] as const;

/**
 * Rules of the anonymous IP list that only count instead of blocking.
 *
 * `HostingProviderIPList` blocks addresses of web hosting and cloud providers other than AWS
 * (AWS whitepaper "AWS Best Practices for DDoS Resiliency", section "AWS WAF - IP reputation":
 * "cloud platforms (excluding AWS)"). GitHub-hosted runners egress from Azure, and they run the
 * driver's preview and live health gates through this ALB: blocked with 403, every prod promotion
 * would fail its gate and roll back. Students and staff do not browse from data centres, so the
 * rule buys little here; counting keeps its metric and label for visibility. `AnonymousIPList`
 * (VPNs, proxies, Tor) keeps blocking.
 */
export const DEFAULT_COUNTED_ANONYMOUS_RULES: readonly string[] = ["HostingProviderIPList"];

export interface WebAclRuleSettings {
  /** Requests per IP per 5 minutes before the IP is blocked (WAF accepts 10 - 2,000,000,000). */
  readonly rateLimitPer5Min: number;
  /** Prefix of every CloudWatch metric name, e.g. `platform-prod`. */
  readonly metricPrefix: string;
  /** Common rule set rules that count instead of block. Default: `DEFAULT_COUNTED_COMMON_RULES`. */
  readonly countedCommonRules?: readonly string[];
  /** Anonymous IP list rules that count instead of block. Default: `DEFAULT_COUNTED_ANONYMOUS_RULES`. */
  readonly countedAnonymousRules?: readonly string[];
}

function visibility(metricName: string): wafv2.WebAclRuleVisibilityConfig {
  return { cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/** Metric names allow letters, digits, `-` and `_` only, up to 255 characters. */
export function metricName(prefix: string, rule: string): string {
  return `${prefix}-${rule}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

/** The web ACL's rules, in priority order: managed groups first, then the per-IP rate limit. */
export function webAclRules(s: WebAclRuleSettings): wafv2.WebAclRule[] {
  if (!Number.isInteger(s.rateLimitPer5Min) || s.rateLimitPer5Min < 10 || s.rateLimitPer5Min > 2_000_000_000) {
    throw new Error(`rate limit ${s.rateLimitPer5Min} per 5 minutes is outside WAF's 10 - 2,000,000,000`);
  }
  const countedAnonymous = s.countedAnonymousRules ?? DEFAULT_COUNTED_ANONYMOUS_RULES;
  for (const rule of countedAnonymous) {
    if (!(ANONYMOUS_IP_LIST_RULES as readonly string[]).includes(rule)) {
      throw new Error(
        `"${rule}" is not a rule of AWSManagedRulesAnonymousIpList (its rules: ${ANONYMOUS_IP_LIST_RULES.join(", ")}); a misspelt override would not count the rule it means`,
      );
    }
  }
  const counted: Partial<Record<(typeof MANAGED_RULE_GROUPS)[number], readonly string[]>> = {
    AWSManagedRulesCommonRuleSet: s.countedCommonRules ?? DEFAULT_COUNTED_COMMON_RULES,
    AWSManagedRulesAnonymousIpList: countedAnonymous,
  };
  const managed = MANAGED_RULE_GROUPS.map(
    (group, i): wafv2.WebAclRule => ({
      name: `AWS-${group}`,
      priority: (i + 1) * PRIORITY_STEP,
      // "none": the group's own actions (block) apply; "count" here would disable the whole group.
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: "AWS",
          name: group,
          // Per-rule override inside the group (provider schema:
          // managedRuleGroupStatement.ruleActionOverrides[].actionToUse.count, @pulumi/aws 7.48.0).
          ...((counted[group] ?? []).length > 0
            ? { ruleActionOverrides: (counted[group] ?? []).map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
            : {}),
        },
      },
      visibilityConfig: visibility(metricName(s.metricPrefix, group)),
    }),
  );
  const rateLimit: wafv2.WebAclRule = {
    name: RATE_LIMIT_RULE,
    priority: (MANAGED_RULE_GROUPS.length + 1) * PRIORITY_STEP,
    // 429 rather than WAF's default 403, so clients (and the driver's health gates) can tell
    // throttling from a blocked attack and back off.
    action: { block: { customResponse: { responseCode: 429 } } },
    statement: {
      rateBasedStatement: {
        limit: s.rateLimitPer5Min,
        evaluationWindowSec: 300,
        aggregateKeyType: "IP",
      },
    },
    visibilityConfig: visibility(metricName(s.metricPrefix, RATE_LIMIT_RULE)),
  };
  return [...managed, rateLimit];
}
