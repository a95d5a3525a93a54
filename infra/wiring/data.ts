import { Bastion } from "../compute/bastion";
import { SessionPreferences } from "../compute/sessionPreferences";
import { Database } from "../data/database";
import type { Network } from "../network/network";
import { platformTags } from "../providers";
import type { Wiring } from "./context";

export interface Data {
  readonly database?: Database;
  /** prod's SSM bastion, the operators' way to the database. */
  readonly bastion?: Bastion;
}

/** The RDS database and the bastion that reaches it (its sessions logged where configured); the database admits the bastion. */
export function wireData({ cfg, env, prod, opts }: Wiring, network: Network): Data {
  const database = cfg.database.enabled
    ? new Database(
        `${env}-db`,
        {
          vpcId: network.vpcId,
          subnetIds: cfg.network.privateSubnets ? network.privateSubnetIds : network.publicSubnetIds,
          engineVersion: cfg.database.engineVersion,
          instanceClass: cfg.database.instanceClass,
          allocatedStorageGb: cfg.database.allocatedStorageGb,
          maxAllocatedStorageGb: cfg.database.maxAllocatedStorageGb,
          multiAz: cfg.database.multiAz,
          backupRetentionDays: cfg.database.backupRetentionDays,
          deletionProtection: cfg.database.deletionProtection,
          databaseName: cfg.database.databaseName,
          masterUsername: cfg.database.masterUsername,
          logRetentionDays: cfg.logRetentionDays,
          protect: prod,
          finalSnapshot: prod,
          applyImmediately: !prod,
        },
        opts,
      )
    : undefined;
  // Account- and region-wide: Session Manager reads one preferences document (see the component).
  const sessionPreferences =
    cfg.bastion.enabled && cfg.bastion.sessionLogging
      ? new SessionPreferences(`${env}-ssm-sessions`, { logRetentionDays: cfg.logRetentionDays }, opts)
      : undefined;
  const bastion = cfg.bastion.enabled
    ? new Bastion(
        `${env}-bastion`,
        {
          vpcId: network.vpcId,
          subnetIds: network.privateSubnetIds,
          vpcCidr: network.cidr,
          instanceType: cfg.bastion.instanceType,
          minSize: cfg.bastion.minSize,
          maxSize: cfg.bastion.maxSize,
          databaseAddress: database?.address,
          tags: platformTags(cfg),
          sessionLogGroupArn: sessionPreferences?.logGroupArn,
        },
        opts,
      )
    : undefined;
  if (bastion !== undefined) {
    database?.allowFrom("bastion", bastion.securityGroupId);
  }
  return { database, bastion };
}
