/**
 * The ELBv2 query API over an applied ALB model: what the AWS SDK v3 client
 * (@aws-sdk/client-elastic-load-balancing-v2) sends - a form-encoded POST with `Action` and
 * `Version=2015-12-01` - and the XML it parses back (`<Action>Response` in the 2015-12-01
 * namespace, lists as `<member>` elements, errors as `<ErrorResponse><Error><Code>`).
 *
 * Answers DescribeLoadBalancers, DescribeListeners, DescribeRules, DescribeTargetGroups,
 * DescribeTags and DescribeTargetHealth, with ELBv2's paging (`Marker` in, `NextMarker` out,
 * `PageSize` 1-400) on the four calls that page, and ELBv2's not-found errors
 * (LoadBalancerNotFound, ListenerNotFound, RuleNotFound, TargetGroupNotFound). No I/O here:
 * the double's HTTP server calls `handleElbv2`.
 */
import type { TargetHealthDescription } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { AlbModel, ModelListener, ModelRule, ModelTargetGroup } from "./model";

export const ELBV2_NAMESPACE = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
/** ELBv2's PageSize bounds for the paged Describe calls. */
export const MAX_PAGE_SIZE = 400;
/** DescribeTags accepts at most 20 resource ARNs. */
export const MAX_TAG_RESOURCES = 20;

export interface Elbv2View {
  /** The applied ALB, or undefined before the first reconcile (or after the group emptied). */
  readonly alb: AlbModel | undefined;
  /** Current health of every registered target of a target group. */
  targetHealth(targetGroupArn: string): Promise<TargetHealthDescription[]>;
  /**
   * Caps every page at this many items whatever `PageSize` asks (tests set it low so readers
   * must follow `NextMarker`). Default: ELBv2's own maximum, 400.
   */
  readonly pageLimit?: number;
  /** RequestId in responses; deterministic in tests. */
  requestId(): string;
}

export interface Elbv2Reply {
  readonly status: number;
  readonly body: string;
}

class Elbv2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** Query-protocol XML of one value: structures as nested elements, lists as `<member>` items. */
export function toXml(name: string, value: unknown): string {
  if (value === undefined || value === null) {
    return "";
  }
  if (Array.isArray(value)) {
    return `<${name}>${value.map((v) => toXml("member", v)).join("")}</${name}>`;
  }
  if (value instanceof Date) {
    return `<${name}>${value.toISOString()}</${name}>`;
  }
  if (typeof value === "object") {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v))
      .join("");
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function ok(action: string, result: Record<string, unknown>, requestId: string): Elbv2Reply {
  const inner = Object.entries(result)
    .map(([k, v]) => toXml(k, v))
    .join("");
  return {
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ELBV2_NAMESPACE}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

function errorReply(err: Elbv2Error, requestId: string): Elbv2Reply {
  return {
    status: err.status,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${ELBV2_NAMESPACE}"><Error><Type>Sender</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** `Names.member.1`, `Names.member.2`, ... in order. */
function memberList(params: URLSearchParams, prefix: string): string[] | undefined {
  const items: Array<[number, string]> = [];
  for (const [k, v] of params.entries()) {
    const m = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.member\\.(\\d+)$`).exec(k);
    if (m !== null) {
      items.push([Number(m[1]), v]);
    }
  }
  return items.length === 0 ? undefined : items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function page<T>(action: string, items: readonly T[], params: URLSearchParams, pageLimit: number): { items: T[]; nextMarker?: string } {
  const rawSize = params.get("PageSize");
  let size = MAX_PAGE_SIZE;
  if (rawSize !== null) {
    size = Number(rawSize);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw new Elbv2Error("ValidationError", `1 validation error detected: Value '${rawSize}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and ${MAX_PAGE_SIZE}`);
    }
  }
  size = Math.min(size, pageLimit);
  let start = 0;
  const marker = params.get("Marker");
  if (marker !== null && marker !== "") {
    const decoded = Buffer.from(marker, "base64url").toString("utf8");
    const m = /^(\w+):(\d+)$/.exec(decoded);
    if (m === null || m[1] !== action || Number(m[2]) > items.length) {
      throw new Elbv2Error("ValidationError", `Invalid marker '${marker}'`);
    }
    start = Number(m[2]);
  }
  const end = start + size;
  return {
    items: items.slice(start, end),
    nextMarker: end < items.length ? Buffer.from(`${action}:${end}`, "utf8").toString("base64url") : undefined,
  };
}

function requireAlb(view: Elbv2View, arn: string, code: string, what: string): AlbModel {
  if (view.alb === undefined) {
    throw new Elbv2Error(code, `${what} '${arn}' not found`);
  }
  return view.alb;
}

function allRules(alb: AlbModel): Array<{ listener: ModelListener; rule: ModelRule }> {
  return alb.listeners.flatMap((listener) => listener.rules.map((rule) => ({ listener, rule })));
}

/** The tags of any ARN the ALB owns, or the not-found error ELBv2 gives for its resource type. */
function tagsOf(alb: AlbModel | undefined, arn: string): Array<{ Key?: string; Value?: string }> {
  if (alb !== undefined) {
    if (alb.loadBalancer.LoadBalancerArn === arn) {
      return alb.loadBalancerTags;
    }
    const listener = alb.listeners.find((l) => l.description.ListenerArn === arn);
    if (listener !== undefined) {
      return listener.tags;
    }
    const rule = allRules(alb).find((r) => r.rule.description.RuleArn === arn);
    if (rule !== undefined) {
      return rule.rule.tags;
    }
    const tg = alb.targetGroups.find((t) => t.description.TargetGroupArn === arn);
    if (tg !== undefined) {
      return tg.tags;
    }
  }
  if (arn.includes(":targetgroup/")) {
    throw new Elbv2Error("TargetGroupNotFound", `Target groups '${arn}' not found`);
  }
  if (arn.includes(":listener-rule/")) {
    throw new Elbv2Error("RuleNotFound", `One or more rules not found`);
  }
  if (arn.includes(":listener/")) {
    throw new Elbv2Error("ListenerNotFound", `One or more listeners not found`);
  }
  throw new Elbv2Error("LoadBalancerNotFound", `Load balancers '[${arn}]' not found`);
}

/** Answers one ELBv2 query-protocol request body. Never throws for a bad request: it is an error reply. */
export async function handleElbv2(view: Elbv2View, body: string): Promise<Elbv2Reply> {
  const params = new URLSearchParams(body);
  const action = params.get("Action") ?? "";
  const requestId = view.requestId();
  const limit = view.pageLimit ?? MAX_PAGE_SIZE;
  try {
    if (params.get("Version") !== "2015-12-01") {
      throw new Elbv2Error("InvalidAction", `Could not find operation ${action} for version ${params.get("Version") ?? "(none)"}`);
    }
    switch (action) {
      case "DescribeLoadBalancers": {
        const arns = memberList(params, "LoadBalancerArns");
        const names = memberList(params, "Names");
        const all = view.alb === undefined ? [] : [view.alb.loadBalancer];
        let selected = all;
        if (arns !== undefined) {
          selected = all.filter((lb) => arns.includes(lb.LoadBalancerArn ?? ""));
          if (selected.length !== new Set(arns).size) {
            throw new Elbv2Error("LoadBalancerNotFound", "One or more load balancers not found");
          }
        } else if (names !== undefined) {
          selected = all.filter((lb) => names.includes(lb.LoadBalancerName ?? ""));
          if (selected.length !== new Set(names).size) {
            throw new Elbv2Error("LoadBalancerNotFound", `Load balancers '[${names.join(", ")}]' not found`);
          }
        }
        const p = page(action, selected, params, limit);
        return ok(action, { LoadBalancers: p.items, NextMarker: p.nextMarker }, requestId);
      }
      case "DescribeListeners": {
        const lbArn = params.get("LoadBalancerArn");
        const arns = memberList(params, "ListenerArns");
        let listeners: ModelListener[];
        if (lbArn !== null) {
          const alb = requireAlb(view, lbArn, "LoadBalancerNotFound", "Load balancer");
          if (alb.loadBalancer.LoadBalancerArn !== lbArn) {
            throw new Elbv2Error("LoadBalancerNotFound", `Load balancer '${lbArn}' not found`);
          }
          listeners = [...alb.listeners];
        } else if (arns !== undefined) {
          listeners = (view.alb?.listeners ?? []).filter((l) => arns.includes(l.description.ListenerArn ?? ""));
          if (listeners.length !== new Set(arns).size) {
            throw new Elbv2Error("ListenerNotFound", "One or more listeners not found");
          }
        } else {
          throw new Elbv2Error("ValidationError", "You must specify either listener ARNs or a load balancer ARN");
        }
        const p = page(action, listeners.map((l) => l.description), params, limit);
        return ok(action, { Listeners: p.items, NextMarker: p.nextMarker }, requestId);
      }
      case "DescribeRules": {
        const lsArn = params.get("ListenerArn");
        const arns = memberList(params, "RuleArns");
        let rules: ModelRule[];
        if (lsArn !== null) {
          const listener = view.alb?.listeners.find((l) => l.description.ListenerArn === lsArn);
          if (listener === undefined) {
            throw new Elbv2Error("ListenerNotFound", `Listener '${lsArn}' not found`);
          }
          rules = [...listener.rules];
        } else if (arns !== undefined) {
          rules = (view.alb === undefined ? [] : allRules(view.alb).map((r) => r.rule)).filter((r) => arns.includes(r.description.RuleArn ?? ""));
          if (rules.length !== new Set(arns).size) {
            throw new Elbv2Error("RuleNotFound", "One or more rules not found");
          }
        } else {
          throw new Elbv2Error("ValidationError", "You must specify either listener ARN or rule ARNs");
        }
        const p = page(action, rules.map((r) => r.description), params, limit);
        return ok(action, { Rules: p.items, NextMarker: p.nextMarker }, requestId);
      }
      case "DescribeTargetGroups": {
        const lbArn = params.get("LoadBalancerArn");
        const arns = memberList(params, "TargetGroupArns");
        const names = memberList(params, "Names");
        let groups: ModelTargetGroup[] = [...(view.alb?.targetGroups ?? [])];
        if (lbArn !== null) {
          if (view.alb?.loadBalancer.LoadBalancerArn !== lbArn) {
            throw new Elbv2Error("LoadBalancerNotFound", `Load balancer '${lbArn}' not found`);
          }
        }
        if (arns !== undefined) {
          groups = groups.filter((g) => arns.includes(g.description.TargetGroupArn ?? ""));
          if (groups.length !== new Set(arns).size) {
            throw new Elbv2Error("TargetGroupNotFound", "One or more target groups not found");
          }
        } else if (names !== undefined) {
          groups = groups.filter((g) => names.includes(g.description.TargetGroupName ?? ""));
          if (groups.length !== new Set(names).size) {
            throw new Elbv2Error("TargetGroupNotFound", "One or more target groups not found");
          }
        }
        const p = page(action, groups.map((g) => g.description), params, limit);
        return ok(action, { TargetGroups: p.items, NextMarker: p.nextMarker }, requestId);
      }
      case "DescribeTags": {
        const arns = memberList(params, "ResourceArns") ?? [];
        if (arns.length === 0 || arns.length > MAX_TAG_RESOURCES) {
          throw new Elbv2Error(
            "ValidationError",
            `1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TAG_RESOURCES} and greater than or equal to 1`,
          );
        }
        const descriptions = arns.map((arn) => ({ ResourceArn: arn, Tags: tagsOf(view.alb, arn) }));
        return ok(action, { TagDescriptions: descriptions }, requestId);
      }
      case "DescribeTargetHealth": {
        const arn = params.get("TargetGroupArn");
        if (arn === null) {
          throw new Elbv2Error("ValidationError", "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null");
        }
        if (!(view.alb?.targetGroups ?? []).some((g) => g.description.TargetGroupArn === arn)) {
          throw new Elbv2Error("TargetGroupNotFound", `Target groups '${arn}' not found`);
        }
        const wanted: Array<{ id: string; port?: string }> = [];
        for (let i = 1; params.has(`Targets.member.${i}.Id`); i++) {
          wanted.push({ id: params.get(`Targets.member.${i}.Id`) ?? "", port: params.get(`Targets.member.${i}.Port`) ?? undefined });
        }
        let health = await view.targetHealth(arn);
        if (wanted.length > 0) {
          health = health.filter((h) => wanted.some((w) => w.id === h.Target?.Id && (w.port === undefined || w.port === String(h.Target?.Port))));
        }
        return ok(action, { TargetHealthDescriptions: health }, requestId);
      }
      default:
        throw new Elbv2Error("InvalidAction", `Could not find operation ${action} for version 2015-12-01`);
    }
  } catch (err) {
    if (err instanceof Elbv2Error) {
      return errorReply(err, requestId);
    }
    throw err;
  }
}
