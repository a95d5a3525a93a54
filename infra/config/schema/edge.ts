/** `platform:edge` and `platform:waf`: the stack's ALB settings, access logs, DNS health check and web ACL. */
import { z } from "zod";

/** The EKS stacks' public edge: certificate, ALB settings, access logs, DNS (infra/edge/edge.ts). */
export const edgeSchema = z.strictObject({
  /** ALB deletion protection; the load balancer controller cannot delete the ALB either while it is on. */
  deletionProtection: z.boolean(),
  idleTimeoutSeconds: z.number().int().min(1).max(4000),
  /** Days ALB access logs are kept in S3. */
  accessLogExpirationDays: z.number().int().min(1).max(3653),
  /** Route 53 health check of the live host (first service's health path) with a CloudWatch alarm. */
  healthCheck: z.boolean(),
  /**
   * Email addresses the health alarm's SNS topic notifies (in us-east-1, where the alarm lives);
   * each address confirms its subscription once by mail. Default: none (subscribe by hand or a
   * forwarder, e.g. a Lambda posting to Discord).
   */
  alarmEmails: z.array(z.email({ error: "is not an email address" })),
});

/** The REGIONAL WAF web ACL on the stack's ALB (EKS ingress or test host) (infra/edge/webAcl.ts). */
export const wafSchema = z.strictObject({
  enabled: z.boolean(),
  /**
   * Requests per client IP per 5 minutes. Size it for the busiest shared egress, not one user: on
   * enrolment day a campus NAT puts hundreds of students behind one address.
   */
  rateLimitPer5Min: z.number().int().min(10).max(2_000_000_000),
});
