import type * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config/schema";
import type { Environment } from "../domain";
import type { StackHosts } from "../lib/hosts";

/** What every area's wiring reads: the validated config and what is derived from it once. */
export interface Wiring {
  readonly cfg: PlatformConfig;
  readonly env: Environment;
  /** prod turns on the protections a shared environment can do without (protect, final snapshots, ...). */
  readonly prod: boolean;
  /** Resource options of every top-level component: the stack's one AWS provider. */
  readonly opts: pulumi.ComponentResourceOptions;
  readonly hosts: StackHosts;
}
