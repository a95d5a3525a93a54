/**
 * The Pulumi program: reads the stack's validated config and secrets, declares the platform
 * (`buildPlatform`, ./platform.ts) and exports its outputs under their contract names.
 */
import { loadConfig, loadSecrets } from "./config/load";
import { buildPlatform } from "./platform";

export const { environment, url, hosts, services, releases, network, registry, database, cluster, edge, observability, gitops, ci } = buildPlatform(
  loadConfig(),
  loadSecrets(),
);
