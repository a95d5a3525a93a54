/**
 * RDS instances. Aurora instances are skipped: their storage, backups and deletion settings live
 * on the cluster, which this platform does not use.
 */
import type { Finding, PolicyResource, ResourceRule, StackRule } from "../engine";
import { bool, list, num, objs, str, strs } from "../values";
import { known, ofTypes, references } from "./common";

const INSTANCE = "aws:rds/instance:Instance";
const PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup";

function isAurora(r: PolicyResource): boolean {
  return (str(r.props["engine"]) ?? "").startsWith("aurora");
}

export const rdsNotPublic: ResourceRule = {
  kind: "resource",
  name: "rds-not-publicly-accessible",
  description: "RDS instances are never publicly accessible.",
  docs: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding",
  scannerIds: ["CKV_AWS_17"],
  enforcementLevel: "mandatory",
  severity: "critical",
  resourceTypes: [INSTANCE],
  check: (r) =>
    bool(r.props["publiclyAccessible"]) === true
      ? [
          {
            problem: "publiclyAccessible is true, so the instance gets a public IP and its DNS name resolves to it",
            fix: "set publiclyAccessible: false (platform:database.publiclyAccessible) and reach the database through the bastion's SSM port forwarding",
          },
        ]
      : [],
};

export const rdsEncrypted: ResourceRule = {
  kind: "resource",
  name: "rds-storage-encrypted",
  description: "RDS storage, snapshots and backups are encrypted at rest.",
  docs: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html",
  scannerIds: ["CKV_AWS_16"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [INSTANCE],
  check: (r) =>
    isAurora(r) || bool(r.props["storageEncrypted"]) === true
      ? []
      : [
          {
            problem: "storageEncrypted is not true; an unencrypted instance can only be encrypted by restoring a snapshot copy into a new instance",
            fix: "set storageEncrypted: true with kmsKeyId set to a customer-managed key before the instance is created",
          },
        ],
};

/** Seven days: a week-end incident found on Monday can still be restored to before it began. */
export const PROD_MIN_BACKUP_DAYS = 7;

export const rdsBackups: ResourceRule = {
  kind: "resource",
  name: "rds-backup-retention",
  description: `RDS automated backups are on everywhere and kept at least ${PROD_MIN_BACKUP_DAYS} days in prod.`,
  docs: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
  scannerIds: ["CKV_AWS_133"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [INSTANCE],
  check: (r, ctx) => {
    if (isAurora(r)) {
      return [];
    }
    // The RDS API's default retention is 1 day when the argument is omitted.
    const days = num(r.props["backupRetentionPeriod"]) ?? 1;
    const min = ctx.environment === "prod" ? PROD_MIN_BACKUP_DAYS : 1;
    return days < min
      ? [
          {
            problem: `backupRetentionPeriod is ${days} day(s) in ${ctx.environment}; at least ${min} is required${days === 0 ? " (0 turns automated backups and point-in-time restore off)" : ""}`,
            fix: `set backupRetentionPeriod to ${min} or more (platform:database.backupRetentionDays)`,
          },
        ]
      : [];
  },
};

export const rdsDeletionProtection: ResourceRule = {
  kind: "resource",
  name: "rds-deletion-protection",
  description: "Production RDS instances are deletion-protected and take a final snapshot when deleted.",
  docs: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html",
  scannerIds: ["CKV_AWS_293"],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: ["prod"],
  resourceTypes: [INSTANCE],
  check: (r) => {
    const findings: Finding[] = [];
    if (bool(r.props["deletionProtection"]) !== true) {
      findings.push({
        problem: "deletionProtection is not true, so a single DeleteDBInstance call (or a replacement in `pulumi up`) destroys the production database",
        fix: "set deletionProtection: true (platform:database.deletionProtection)",
      });
    }
    // The provider's default for skipFinalSnapshot is false, but then finalSnapshotIdentifier is required.
    if (bool(r.props["skipFinalSnapshot"]) === true || str(r.props["finalSnapshotIdentifier"]) === undefined) {
      findings.push({
        problem: `no final snapshot on deletion (skipFinalSnapshot ${String(r.props["skipFinalSnapshot"] ?? "unset")}, finalSnapshotIdentifier ${str(r.props["finalSnapshotIdentifier"]) ?? "unset"})`,
        fix: "set skipFinalSnapshot: false and a finalSnapshotIdentifier (the Database component does so with finalSnapshot: true)",
      });
    }
    return findings;
  },
};

export const rdsMultiAz: ResourceRule = {
  kind: "resource",
  name: "rds-multi-az",
  description: "Production RDS instances run with a synchronous standby in a second AZ.",
  docs: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZSingleStandby.html",
  scannerIds: ["CKV_AWS_157"],
  enforcementLevel: "mandatory",
  severity: "medium",
  environments: ["prod"],
  resourceTypes: [INSTANCE],
  check: (r) =>
    isAurora(r) || bool(r.props["multiAz"]) === true
      ? []
      : [
          {
            problem: "multiAz is not true, so an AZ outage or instance failure stops the production database until it is restored",
            fix: "set multiAz: true (platform:database.multiAz); the change runs in the maintenance window unless applyImmediately is set",
          },
        ],
};

/** Log types a security reviewer needs per engine family: errors, and who did what. */
const REQUIRED_LOGS: Record<string, readonly string[]> = {
  mariadb: ["audit", "error"],
  mysql: ["audit", "error"],
  postgres: ["postgresql"],
};

export const rdsLogExports: ResourceRule = {
  kind: "resource",
  name: "rds-log-exports",
  description: "RDS instances publish their error and audit logs to CloudWatch Logs.",
  docs: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html",
  scannerIds: ["CKV_AWS_129"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: [INSTANCE],
  check: (r) => {
    const engine = str(r.props["engine"]) ?? "";
    const exported = strs(r.props["enabledCloudwatchLogsExports"]);
    const required = REQUIRED_LOGS[engine] ?? [];
    const missing = required.filter((t) => !exported.includes(t));
    if (exported.length === 0) {
      return [
        {
          problem: "enabledCloudwatchLogsExports is empty, so database logs stay on the instance and disappear with it",
          fix: `export ${required.length > 0 ? list(required) : "the engine's logs"} (enabledCloudwatchLogsExports)${engine === "mariadb" || engine === "mysql" ? "; the audit log needs the MARIADB_AUDIT_PLUGIN option group" : ""}`,
        },
      ];
    }
    return missing.length > 0
      ? [
          {
            problem: `enabledCloudwatchLogsExports (${list(exported)}) misses ${list(missing)}`,
            fix: `add ${list(missing)} to enabledCloudwatchLogsExports${missing.includes("audit") ? " and install MARIADB_AUDIT_PLUGIN through the option group" : ""}`,
          },
        ]
      : [];
  },
};

/** The server parameter that refuses unencrypted connections, per engine family. */
const TLS_PARAMETER: Record<string, { name: string; value: string }> = {
  mariadb: { name: "require_secure_transport", value: "1" },
  mysql: { name: "require_secure_transport", value: "1" },
  postgres: { name: "rds.force_ssl", value: "1" },
};

function parameterValue(group: PolicyResource, name: string): string | undefined {
  const p = objs(group.props["parameters"]).find((x) => str(x["name"]) === name);
  return p === undefined ? undefined : str(p["value"]);
}

export const rdsTlsRequired: StackRule = {
  kind: "stack",
  name: "rds-tls-required",
  description: "RDS instances refuse unencrypted connections through their parameter group.",
  docs: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html",
  scannerIds: ["CKV2_AWS_69"],
  enforcementLevel: "mandatory",
  severity: "high",
  check: (resources) => {
    const groups = ofTypes(resources, PARAMETER_GROUP);
    const findings: Finding[] = [];
    for (const db of ofTypes(resources, INSTANCE)) {
      const engine = str(db.props["engine"]) ?? "";
      const tls = TLS_PARAMETER[engine];
      if (tls === undefined) {
        continue;
      }
      const resource = { type: db.type, name: db.name, urn: db.urn };
      const group = groups.find((g) => references(db, "parameterGroupName", g));
      if (group === undefined) {
        const groupName = str(known(() => db.props["parameterGroupName"]));
        findings.push({
          resource,
          problem:
            groupName === undefined
              ? `uses the engine's default parameter group, where ${tls.name} is off`
              : `uses parameter group "${groupName}", which this stack does not declare, so ${tls.name} cannot be verified`,
          fix: `declare an aws.rds.ParameterGroup with ${tls.name} = ${tls.value} (applyMethod immediate) and set parameterGroupName to it`,
        });
        continue;
      }
      const value = parameterValue(group, tls.name);
      if (value !== tls.value && !(value !== undefined && value.toUpperCase() === "ON")) {
        findings.push({
          resource,
          problem: `its parameter group ${group.type} "${group.name}" sets ${tls.name} to ${value ?? "nothing (engine default: off)"}`,
          fix: `set the parameter ${tls.name} = ${tls.value} in ${group.name}`,
        });
      }
    }
    return findings;
  },
};

export const rdsRules = [rdsNotPublic, rdsEncrypted, rdsBackups, rdsDeletionProtection, rdsMultiAz, rdsLogExports, rdsTlsRequired];

