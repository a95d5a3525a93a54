import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config/schema";

/** Tags every taggable AWS resource carries; cost allocation and ownership depend on them. */
export const REQUIRED_TAG_KEYS = ["Project", "Environment", "Stack", "ManagedBy"] as const;

export function platformTags(cfg: PlatformConfig): Record<string, string> {
  return {
    ...cfg.tags,
    Project: pulumi.getProject(),
    Environment: cfg.environment,
    Stack: pulumi.getStack(),
    ManagedBy: "pulumi",
  };
}

/**
 * The one AWS provider of the stack. It is explicit (not the ambient default provider) so the
 * default tags are part of the program, visible in previews and checked by the tests, rather
 * than a per-machine `aws:defaultTags` setting. Every component receives it through `providers`.
 */
export function awsProvider(cfg: PlatformConfig): aws.Provider {
  return new aws.Provider("platform-aws", {
    region: cfg.region as aws.Region,
    defaultTags: { tags: platformTags(cfg) },
  });
}
