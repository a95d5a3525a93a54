/**
 * Which EKS-optimized AMI a managed node group needs for its instance types. Set explicitly
 * (rather than left to EKS's default, the x86 standard AMI) so that a Graviton or GPU group
 * boots the right image, and so a group mixing architectures fails in config validation
 * instead of in CreateNodegroup.
 */

/** The AL2023 AMI types of EKS managed node groups (AL2 is not published for Kubernetes >= 1.33). */
export type AmiType = "AL2023_x86_64_STANDARD" | "AL2023_ARM_64_STANDARD" | "AL2023_x86_64_NVIDIA" | "AL2023_ARM_64_NVIDIA" | "AL2023_x86_64_NEURON";

/**
 * From the instance family (the part before the dot): Graviton families carry a `g` right after
 * the generation digit (`m6g`, `c7gn`, `t4g`, `im4gn`, `g5g`); NVIDIA GPU families are `p<n>`
 * and `g<n>`; Inferentia and Trainium are `inf<n>` and `trn<n>`.
 */
export function amiTypeFor(instanceType: string): AmiType {
  const family = instanceType.split(".")[0] ?? "";
  const arm = /^[a-z]+\d+g[a-z]*$/.test(family);
  if (/^(inf|trn)\d/.test(family)) {
    return "AL2023_x86_64_NEURON";
  }
  if (/^[pg]\d/.test(family)) {
    return arm ? "AL2023_ARM_64_NVIDIA" : "AL2023_x86_64_NVIDIA";
  }
  return arm ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

/** Public SSM parameter of the latest Amazon Linux 2023 AMI for the instance type's architecture. */
export function amiParameterFor(instanceType: string): string {
  const m = /^([a-z]+)(\d+)([a-z-]*)\.[a-z0-9]+$/.exec(instanceType);
  if (m === null) {
    throw new Error(`"${instanceType}" is not an EC2 instance type (family.size, e.g. t3.small)`);
  }
  // The attribute letters after the generation number carry "g" for Graviton (t4g, m7gd, c6gn);
  // the family letter itself does not (g5 is an x86 GPU family).
  const arch = m[3].includes("g") ? "arm64" : "x86_64";
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`;
}
