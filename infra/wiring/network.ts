import { Network } from "../network/network";
import type { Wiring } from "./context";

export function wireNetwork({ cfg, env, opts }: Wiring): Network {
  return new Network(
    env,
    {
      cidr: cfg.network.cidr,
      availabilityZones: cfg.availabilityZones,
      privateSubnets: cfg.network.privateSubnets,
      natGateways: cfg.network.natGateways,
      subnetPrefix: cfg.network.subnetPrefix,
      publicSubnetCidrs: cfg.network.publicSubnetCidrs,
      privateSubnetCidrs: cfg.network.privateSubnetCidrs,
      flowLogRetentionDays: cfg.logRetentionDays,
      vpcEndpoints: cfg.network.vpcEndpoints,
    },
    opts,
  );
}
