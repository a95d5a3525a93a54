/**
 * Composition root: reads the validated stack config and wires the components. No resource
 * logic lives here; see the component files for what each piece declares and why.
 */
import { loadConfig } from "./config/load";
import { Network } from "./network";
import { awsProvider } from "./providers";

const cfg = loadConfig();
const aws = awsProvider(cfg);
const opts = { providers: { aws } };
const env = cfg.environment;

const network = new Network(
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
  },
  opts,
);

export const environment = env;
export const vpcId = network.vpcId;
export const publicSubnetIds = network.publicSubnetIds;
export const privateSubnetIds = network.privateSubnetIds;
