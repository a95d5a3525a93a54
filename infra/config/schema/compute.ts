/** `platform:testHost` and `platform:bastion`: the EC2 hosts outside the cluster. */
import { z } from "zod";
import { Ctx, fail, INSTANCE_TYPE } from "./common";

export const testHostSchema = z.strictObject({
  enabled: z.boolean(),
  instanceType: z.string().regex(INSTANCE_TYPE),
  rootVolumeGb: z.number().int().min(8).max(1024),
});

export const bastionSchema = z.strictObject({
  enabled: z.boolean(),
  instanceType: z.string().regex(INSTANCE_TYPE),
  minSize: z.number().int().min(0),
  maxSize: z.number().int().min(1),
  /**
   * Declare the account's Session Manager preferences (the `SSM-SessionManagerRunShell` document,
   * one per account and region): shell transcripts to an encrypted CloudWatch log group, which the
   * bastion may write. False where the account already has preferences (or import them). Only
   * acts where the bastion is enabled.
   */
  sessionLogging: z.boolean(),
});

/** What the compute rules read. */
interface ComputeCheckInput {
  readonly bastion: z.infer<typeof bastionSchema>;
  readonly testHost: z.infer<typeof testHostSchema>;
  readonly network: { readonly privateSubnets: boolean };
  readonly cluster: { readonly enabled: boolean };
}

/** The bastion's ASG sizes hold and it has private subnets; a stack runs its services on the test host or on EKS. */
export function checkCompute(cfg: ComputeCheckInput, ctx: Ctx): void {
  if (cfg.bastion.minSize > cfg.bastion.maxSize) {
    fail(
      ctx,
      ["bastion", "minSize"],
      `${cfg.bastion.minSize} is greater than bastion.maxSize ${cfg.bastion.maxSize}`,
      "set bastion.minSize <= bastion.maxSize",
    );
  }
  if (cfg.bastion.enabled && !cfg.network.privateSubnets) {
    fail(
      ctx,
      ["bastion", "enabled"],
      "is true but network.privateSubnets is false; the bastion lives in private subnets and is reached through SSM",
      "set network.privateSubnets to true (with natGateways single or perAz) or turn the bastion off",
    );
  }
  if (cfg.testHost.enabled && cfg.cluster.enabled) {
    fail(
      ctx,
      ["testHost", "enabled"],
      "is true together with cluster.enabled; a stack runs its services either on the test host or on EKS",
      "turn one of testHost.enabled and cluster.enabled off",
    );
  }
}
