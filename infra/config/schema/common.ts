/**
 * What every area of the config schema shares: the problem shape (`fix` says what to change),
 * name patterns, CIDR and tag values, and `fail`, through which every cross-field rule reports.
 */
import { z } from "zod";
import { parseCidr } from "../../lib/cidr";

/** A problem found in the stack config; `fix` says what to change. */
export interface IssueParams {
  readonly fix: string;
}

export const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const AZ = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
export const K8S_LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const K8S_LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
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

export const tags = z.record(z.string().min(1).max(128), z.string().max(256));

export type Ctx = z.RefinementCtx;

/** Reports one problem at `path` (relative to `platform:`), with the fix. */
export function fail(ctx: Ctx, path: Array<string | number>, message: string, fix: string): void {
  const params: IssueParams = { fix };
  ctx.addIssue({ code: "custom", path, message, params });
}

/**
 * Reports each entry of `cidrs` that is the whole internet (`/0`): `what` has no login of its
 * own or must stay restricted, and `fix` says what to list instead.
 */
export function failOpenToInternet(ctx: Ctx, path: Array<string | number>, cidrs: readonly string[], opens: string, fix: string): void {
  cidrs.forEach((text, i) => {
    const c = parseCidr(text);
    if (typeof c !== "string" && c.prefix === 0) {
      fail(ctx, [...path, i], `${text} opens ${opens} to the whole internet`, fix);
    }
  });
}
