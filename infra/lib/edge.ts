/**
 * Pure edge logic: the IngressGroup's ALB annotations (host names live in ./hosts.ts).
 * No Pulumi imports; tested table-driven (test/edge.test.ts).
 */
const ALB = "alb.ingress.kubernetes.io";

/** TLS 1.3 and 1.2 with forward-secret ciphers only (the test host's listener uses the same). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** ALB attributes of the IngressGroup (`alb.ingress.kubernetes.io/load-balancer-attributes`). */
export interface LoadBalancerAttributeSettings {
  /** S3 bucket receiving access logs. */
  readonly accessLogBucket: string;
  /** Key prefix of the access logs inside the bucket (no leading or trailing slash). */
  readonly accessLogPrefix: string;
  readonly deletionProtection: boolean;
  /** Seconds an idle client connection is kept open (1-4000). */
  readonly idleTimeoutSeconds: number;
}

/**
 * The `load-balancer-attributes` annotation value. Keys are sorted so the string (and with it
 * every Ingress of the group) only changes when a setting does.
 */
export function loadBalancerAttributes(s: LoadBalancerAttributeSettings): string {
  if (!Number.isInteger(s.idleTimeoutSeconds) || s.idleTimeoutSeconds < 1 || s.idleTimeoutSeconds > 4000) {
    throw new Error(`idle timeout ${s.idleTimeoutSeconds} is outside the ALB's 1-4000 seconds`);
  }
  if (s.accessLogPrefix.startsWith("/") || s.accessLogPrefix.endsWith("/") || s.accessLogPrefix.includes("AWSLogs")) {
    // ELB rejects a prefix that starts or ends with "/" or contains "AWSLogs".
    throw new Error(`access log prefix "${s.accessLogPrefix}" must not start or end with "/" or contain "AWSLogs"`);
  }
  const attributes: Record<string, string> = {
    "access_logs.s3.bucket": s.accessLogBucket,
    "access_logs.s3.enabled": "true",
    "access_logs.s3.prefix": s.accessLogPrefix,
    "deletion_protection.enabled": String(s.deletionProtection),
    "idle_timeout.timeout_seconds": String(s.idleTimeoutSeconds),
    // Requests with header names that are not valid HTTP are dropped instead of forwarded
    // (request smuggling hardening).
    "routing.http.drop_invalid_header_fields.enabled": "true",
  };
  return Object.keys(attributes)
    .sort()
    .map((k) => `${k}=${attributes[k]}`)
    .join(",");
}

/** Group-wide ALB settings; `V` is whatever carries the ARNs (plain strings in tests, Outputs in the program). */
export interface GroupAnnotationSettings<V> {
  /** ACM certificate of the HTTPS listener. */
  readonly certificateArn: V;
  /** The `load-balancer-attributes` value (see `loadBalancerAttributes`). */
  readonly attributes: V;
  /** WAFv2 web ACL (REGIONAL); `undefined` detaches any web ACL. */
  readonly webAclArn?: V;
  /** Default: `ELBSecurityPolicy-TLS13-1-2-2021-06`. */
  readonly sslPolicy?: string;
}

/**
 * Annotations every Ingress of the group carries, identically: the AWS Load Balancer Controller
 * merges group-wide settings across the group's Ingresses and refuses to reconcile the whole group
 * when two Ingresses disagree, so one function builds them for all (services, ArgoCD, observability).
 * Group name and order are per Ingress and not part of this set.
 */
export function albGroupAnnotations<V>(s: GroupAnnotationSettings<V>): Record<string, V | string> {
  return {
    [`${ALB}/scheme`]: "internet-facing",
    // Pod IPs as targets: the ALB reaches pods directly (no NodePort hop, no kube-proxy SNAT),
    // which is what makes readiness gates and the weighted blue/green forward work.
    [`${ALB}/target-type`]: "ip",
    [`${ALB}/ip-address-type`]: "ipv4",
    [`${ALB}/listen-ports`]: '[{"HTTP":80},{"HTTPS":443}]',
    // Port 80 only ever answers with a 301 to HTTPS.
    [`${ALB}/ssl-redirect`]: "443",
    [`${ALB}/certificate-arn`]: s.certificateArn,
    [`${ALB}/ssl-policy`]: s.sslPolicy ?? TLS_POLICY,
    [`${ALB}/load-balancer-attributes`]: s.attributes,
    // Since controller v2.8.2 (aws-load-balancer-controller#3800) an absent annotation leaves
    // whatever web ACL is associated in place, so switching WAF off in config would not take
    // effect; the sentinel "none" makes the controller disassociate it.
    [`${ALB}/wafv2-acl-arn`]: s.webAclArn ?? "none",
  };
}
