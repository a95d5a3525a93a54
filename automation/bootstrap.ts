/**
 * Settings of the one-time bootstrap that must not outlive it. While one is on, `plan` lists it
 * and every real operation prints it as a warning (the operation still runs: the bootstrap's own
 * `up` is one of them).
 */

/** The warnings for a stack file's `config:` map (keys fully qualified, as in the file). */
export function bootstrapWarnings(config: Readonly<Record<string, unknown>>): string[] {
  const cluster = config["platform:cluster"];
  const cidr = cluster !== null && typeof cluster === "object" && !Array.isArray(cluster) ? (cluster as Record<string, unknown>)["bootstrapAccessCidr"] : undefined;
  if (typeof cidr !== "string") {
    return [];
  }
  return [
    `platform:cluster.bootstrapAccessCidr is set (${cidr}): the cluster's API endpoint is public to that address. It is for the first up only; once the stack's CI runners exist, remove it and apply the change from inside the VPC (run the deploy workflow manually from the stack's branch: \`up\` on its deploy runner)`,
  ];
}
