/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/**
 * The namespace label that has the AWS Load Balancer Controller inject its readiness gate into
 * new pods, so a rollout cannot outrun their registration in the target group.
 */
export const ALB_READINESS_GATE_LABEL = { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" } as const;

/** Pod Security Admission namespace labels: enforce, warn and audit at one level, against the latest policy. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": level,
    "pod-security.kubernetes.io/audit": level,
  };
}
