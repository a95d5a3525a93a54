import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  checkDbIdentifier,
  DB_CHARSET,
  DB_COLLATION,
  mariadbMajorVersion,
  mariadbParameterGroupFamily,
  rdsDbUserArn,
  supportsPerformanceInsights,
} from "../lib/mariadb";
import { checkedFor } from "../resourceError";

/** MariaDB log types the instance publishes to CloudWatch Logs. */
export type MariaDbLogType = "audit" | "error" | "general" | "slowquery";

export interface DatabaseArgs {
  /** VPC of the database's security group. */
  readonly vpcId: pulumi.Input<string>;
  /**
   * Subnets of the DB subnet group (at least two AZs, even for a single-AZ instance): the private
   * subnets. The test environment has only public subnets, so it passes those; that is still not
   * reachable from the internet, because the instance is never `publiclyAccessible` (it gets no
   * public IP and its DNS name resolves to the private address) and its security group admits only
   * the security groups registered through `allowFrom`.
   */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * MariaDB version, e.g. `11.4`. Give major.minor only: minor versions are upgraded by AWS
   * (`autoMinorVersionUpgrade`), and a pinned `11.4.5` would make the next `pulumi up` try to
   * downgrade the instance after AWS moved it to 11.4.7.
   */
  readonly engineVersion: string;
  /** Instance class, e.g. `db.t4g.micro` (test) or `db.m6g.large` (prod). */
  readonly instanceClass: string;
  /** Initial gp3 storage in GiB. */
  readonly allocatedStorageGb: number;
  /** Storage autoscaling ceiling in GiB; equal to `allocatedStorageGb` keeps the size fixed. */
  readonly maxAllocatedStorageGb: number;
  /** Synchronous standby in a second AZ with automatic failover. */
  readonly multiAz: boolean;
  /** Days of automated backups (point-in-time restore window); 0 turns backups off. */
  readonly backupRetentionDays: number;
  /** Makes the RDS API refuse to delete the instance until this is turned off. */
  readonly deletionProtection: boolean;
  /** Name of the database created with the instance. */
  readonly databaseName: string;
  /** Master user name; its password is generated and rotated by RDS in Secrets Manager. */
  readonly masterUsername: string;
  /** Retention of the instance's CloudWatch log groups, in days. */
  readonly logRetentionDays: number;
  /**
   * Puts the Pulumi `protect` option on the instance and its KMS key, so no `pulumi up` or
   * `pulumi destroy` can delete them (prod: true). Unprotecting is a deliberate `pulumi state` step.
   */
  readonly protect: boolean;
  /**
   * Take a final snapshot on deletion and keep the automated backups (prod: true). The KMS key is
   * then also retained on delete: a snapshot is useless without the key that encrypted it.
   */
  readonly finalSnapshot: boolean;
  /**
   * Apply modifications (class, storage, parameter group) at once instead of in the maintenance
   * window. Default: false. Keep it false in prod: a class change restarts (or fails over) the
   * instance, which should happen in the night window, not during enrolment-day traffic. While a
   * change is pending, Pulumi's state already shows the new value; check
   * `aws rds describe-db-instances --query 'DBInstances[].PendingModifiedValues'`.
   */
  readonly applyImmediately?: boolean;
  /**
   * Allow major engine upgrades (e.g. 10.11 -> 11.4). Default: false, so a typo in
   * `engineVersion` cannot start an irreversible upgrade.
   */
  readonly allowMajorVersionUpgrade?: boolean;
  /**
   * DB instance identifier, also the base of the log group names. Default:
   * `<project>-<component name>`, e.g. `platform-prod-db`.
   */
  readonly identifier?: string;
  /**
   * Install the MariaDB audit plugin (option group) logging connections, DDL and DCL, and export
   * the audit log. Default: true.
   */
  readonly auditLog?: boolean;
  /** Enhanced Monitoring interval in seconds (0, 1, 5, 10, 15, 30, 60; 0 turns it off). Default: 60. */
  readonly monitoringIntervalSeconds?: number;
  /** Daily backup window, UTC. Default: `17:00-18:00` (02:00-03:00 KST). */
  readonly backupWindow?: string;
  /**
   * Weekly maintenance window, UTC; must not overlap the backup window. Default:
   * `sun:18:30-sun:19:30` (Monday 03:30-04:30 KST).
   */
  readonly maintenanceWindow?: string;
}

const ENHANCED_MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];
const ROLE_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * Server parameters. All of these are dynamic in MariaDB (RDS applies them without a reboot), so
 * `immediate` is right; a static parameter (e.g. `performance_schema`, `innodb_log_file_size`)
 * must be `pending-reboot`, or the ModifyDBParameterGroup call is rejected.
 */
const PARAMETERS: ReadonlyArray<{ name: string; value: string; applyMethod: "immediate" | "pending-reboot" }> = [
  // utf8mb4 end to end: the 3-byte `utf8` cannot store emoji or some Hangul/CJK extension
  // characters, and a mismatch between server and connection charsets corrupts data silently.
  // One collation everywhere (DB_COLLATION, the services' connectionCollation too); why
  // character_set_collations is not set is explained beside DB_COLLATION.
  { name: "character_set_server", value: DB_CHARSET, applyMethod: "immediate" },
  { name: "collation_server", value: DB_COLLATION, applyMethod: "immediate" },
  { name: "character_set_client", value: DB_CHARSET, applyMethod: "immediate" },
  { name: "character_set_connection", value: DB_CHARSET, applyMethod: "immediate" },
  { name: "character_set_results", value: DB_CHARSET, applyMethod: "immediate" },
  { name: "character_set_database", value: DB_CHARSET, applyMethod: "immediate" },
  { name: "collation_connection", value: DB_COLLATION, applyMethod: "immediate" },
  // TLS only: credentials and student data never cross the VPC in clear text. (OFF by default
  // up to 11.4 on RDS.)
  { name: "require_secure_transport", value: "1", applyMethod: "immediate" },
  // RDS defaults log_output to TABLE, and only FILE logs are published to CloudWatch; the slow
  // query log is off by default, which would make the exported `slowquery` group empty.
  { name: "log_output", value: "FILE", applyMethod: "immediate" },
  { name: "slow_query_log", value: "1", applyMethod: "immediate" },
  { name: "long_query_time", value: "1", applyMethod: "immediate" },
];

/** What the RDS instance is built from (the component's other resources). */
interface InstanceParts {
  readonly identifier: string;
  readonly key: aws.kms.Key;
  readonly subnetGroup: aws.rds.SubnetGroup;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly parameterGroup: aws.rds.ParameterGroup;
  readonly optionGroup?: aws.rds.OptionGroup;
  readonly logTypes: MariaDbLogType[];
  readonly logGroups: aws.cloudwatch.LogGroup[];
  readonly monitoringInterval: number;
  readonly monitoringRoleArn?: pulumi.Output<string>;
}

/**
 * The RDS for MariaDB instance of one environment, encrypted with its own KMS key, TLS-only,
 * with a Secrets Manager-managed master password, IAM authentication, logs in CloudWatch, and a
 * security group that admits only the clients registered through `allowFrom`.
 */
export class Database extends pulumi.ComponentResource {
  readonly identifier: pulumi.Output<string>;
  /** `host:port`. */
  readonly endpoint: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly securityGroupId: pulumi.Output<string>;
  /** Secrets Manager secret holding the master credentials (RDS-managed, rotated). */
  readonly masterUserSecretArn: pulumi.Output<string>;
  /** The instance's `DbiResourceId`, which IAM database authentication policies name. */
  readonly resourceId: pulumi.Output<string>;
  readonly databaseName: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Whether Performance Insights is on (false on classes that do not support it). */
  readonly performanceInsights: boolean;

  private readonly baseName: string;
  private readonly clientRoles = new Set<string>();

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:data:Database", name, args, opts);
    this.baseName = name;

    // An explicit identifier, so the log groups below can be created before the instance: RDS
    // creates `/aws/rds/instance/<id>/<type>` itself on first export, with no retention, and a
    // later create of the same group by Pulumi fails with ResourceAlreadyExists. The cost is that
    // a replacement of the instance fails on the name collision instead of creating a new, empty
    // database next to the old one, which is the behaviour a database should have anyway.
    const identifier = checkedFor(this, () => checkDbIdentifier(args.identifier ?? `${pulumi.getProject()}-${name}`.toLowerCase()));
    const auditLog = args.auditLog ?? true;
    const monitoringInterval = args.monitoringIntervalSeconds ?? 60;
    if (!ENHANCED_MONITORING_INTERVALS.includes(monitoringInterval)) {
      throw new pulumi.ResourceError(`monitoringIntervalSeconds ${monitoringInterval} is not one of ${ENHANCED_MONITORING_INTERVALS.join(", ")}`, this);
    }
    const majorVersion = checkedFor(this, () => mariadbMajorVersion(args.engineVersion));
    this.performanceInsights = supportsPerformanceInsights(args.instanceClass);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    const { subnetGroup, securityGroup } = this.placement(name, args, identifier);

    // The default key policy (account root) delegates use of the key to IAM. RDS encrypts storage,
    // snapshots, Performance Insights data and the master secret with it through grants.
    const key = new aws.kms.Key(
      `${name}-kms`,
      {
        description: `RDS ${identifier}: storage, snapshots, Performance Insights, master secret`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      { parent: this, protect: args.protect, retainOnDelete: args.finalSnapshot },
    );

    // Auto-named, so a major upgrade (new family, which forces a new group) creates the new group
    // before the instance switches to it and deletes the old one afterwards.
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        family: mariadbParameterGroupFamily(args.engineVersion),
        description: `MariaDB ${majorVersion} parameters of ${identifier}: utf8mb4, TLS only, slow query log`,
        parameters: PARAMETERS.map((p) => ({ ...p })),
      },
      { parent: this },
    );

    const optionGroup = auditLog ? this.auditOptionGroup(name, identifier, majorVersion) : undefined;

    const logTypes: MariaDbLogType[] = auditLog ? ["audit", "error", "slowquery"] : ["error", "slowquery"];
    const logGroups = this.logGroups(name, identifier, logTypes, args.logRetentionDays);

    const monitoringRoleArn = monitoringInterval > 0 ? this.monitoringRoleArn(name, identifier, partition) : undefined;

    const parts = { identifier, key, subnetGroup, securityGroup, parameterGroup, optionGroup, logTypes, logGroups, monitoringInterval, monitoringRoleArn };
    const instance = this.rdsInstance(name, args, parts);

    this.identifier = instance.identifier;
    this.endpoint = instance.endpoint;
    this.address = instance.address;
    this.port = instance.port;
    this.securityGroupId = securityGroup.id;
    // RDS creates exactly one secret when it manages the password; the list is only empty for
    // instances with a user-supplied password, which this component never declares.
    this.masterUserSecretArn = instance.masterUserSecrets.apply((secrets) => secrets[0]?.secretArn ?? "");
    this.databaseName = instance.dbName;
    this.resourceId = instance.resourceId;
    this.kmsKeyArn = key.arn;

    this.registerOutputs({
      identifier: this.identifier,
      endpoint: this.endpoint,
      address: this.address,
      port: this.port,
      securityGroupId: this.securityGroupId,
      masterUserSecretArn: this.masterUserSecretArn,
      databaseName: this.databaseName,
      kmsKeyArn: this.kmsKeyArn,
    });
  }

  /** The subnet group and the security group (no inline rules: clients come through `allowFrom`). */
  private placement(name: string, args: DatabaseArgs, identifier: string): { subnetGroup: aws.rds.SubnetGroup; securityGroup: aws.ec2.SecurityGroup } {
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { description: `Subnets of ${identifier}`, subnetIds: args.subnetIds },
      { parent: this },
    );

    // No inline rules: clients are added by `allowFrom` as separate rule resources, which is the
    // only form that lets other components add rules without fighting over the group's rule set.
    // Without an `egress` list the provider also removes AWS's default allow-all egress; the
    // database only answers connections, and security groups are stateful.
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `MariaDB ${identifier}: clients are allowed one by one on 3306`,
        tags: { Name: `${identifier}-db` },
      },
      { parent: this },
    );
    return { subnetGroup, securityGroup };
  }

  /**
   * The exported logs' groups, created before the instance: RDS would create them itself on
   * first export, with no retention.
   */
  private logGroups(name: string, identifier: string, logTypes: readonly MariaDbLogType[], retentionDays: number): aws.cloudwatch.LogGroup[] {
    return logTypes.map(
      (type) =>
        new aws.cloudwatch.LogGroup(
          `${name}-log-${type}`,
          { name: `/aws/rds/instance/${identifier}/${type}`, retentionInDays: retentionDays },
          { parent: this },
        ),
    );
  }

  /** The RDS instance itself: encrypted with the component's key, TLS-pinned, private, backed up. */
  private rdsInstance(name: string, args: DatabaseArgs, p: InstanceParts): aws.rds.Instance {
    const { identifier, key, subnetGroup, securityGroup, parameterGroup, optionGroup, logTypes, logGroups, monitoringInterval, monitoringRoleArn } = p;
    return new aws.rds.Instance(
      `${name}-instance`,
      {
        identifier,
        engine: "mariadb",
        engineVersion: args.engineVersion,
        autoMinorVersionUpgrade: true,
        allowMajorVersionUpgrade: args.allowMajorVersionUpgrade ?? false,
        instanceClass: args.instanceClass,
        dbName: args.databaseName,
        username: args.masterUsername,
        // RDS generates the password, stores it in Secrets Manager and rotates it; it never
        // passes through config, state or stack outputs.
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: key.arn,
        iamDatabaseAuthenticationEnabled: true,
        port: 3306,

        storageType: "gp3",
        allocatedStorage: args.allocatedStorageGb,
        maxAllocatedStorage: args.maxAllocatedStorageGb,
        storageEncrypted: true,
        kmsKeyId: key.arn,

        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [securityGroup.id],
        publiclyAccessible: false,
        multiAz: args.multiAz,
        // Set explicitly rather than left to the account default: rds-ca-2019 expired in 2024 and
        // forced restarts fleet-wide; the RSA2048 G1 root is valid until 2061 and is in the global
        // bundle that clients verify the server certificate against.
        caCertIdentifier: "rds-ca-rsa2048-g1",

        parameterGroupName: parameterGroup.name,
        optionGroupName: optionGroup?.name,
        enabledCloudwatchLogsExports: logTypes,

        backupRetentionPeriod: args.backupRetentionDays,
        backupWindow: args.backupWindow ?? "17:00-18:00",
        maintenanceWindow: args.maintenanceWindow ?? "sun:18:30-sun:19:30",
        copyTagsToSnapshot: true,
        deletionProtection: args.deletionProtection,
        skipFinalSnapshot: !args.finalSnapshot,
        // Fixed name: a second deletion fails on the existing snapshot instead of overwriting it.
        finalSnapshotIdentifier: args.finalSnapshot ? `${identifier}-final` : undefined,
        // Retained automated backups are the last way back after an accidental deletion.
        deleteAutomatedBackups: !args.finalSnapshot,
        applyImmediately: args.applyImmediately ?? false,

        performanceInsightsEnabled: this.performanceInsights,
        // The PI key cannot be changed once set; it is the instance's own key from the start.
        performanceInsightsKmsKeyId: this.performanceInsights ? key.arn : undefined,
        performanceInsightsRetentionPeriod: this.performanceInsights ? 7 : undefined,
        monitoringInterval,
        monitoringRoleArn,
      },
      { parent: this, protect: args.protect, dependsOn: logGroups },
    );
  }

  /**
   * The MariaDB audit plugin's option group. Every snapshot remembers the option group that was
   * attached when it was taken, and RDS refuses to delete an option group that a snapshot (final,
   * manual or automated) still uses. Pulumi therefore forgets the group instead of deleting it (a
   * stale group is free); remove it by hand once those snapshots have expired.
   */
  private auditOptionGroup(name: string, identifier: string, majorVersion: string): aws.rds.OptionGroup {
    return new aws.rds.OptionGroup(
      `${name}-options`,
      {
        engineName: "mariadb",
        majorEngineVersion: majorVersion,
        optionGroupDescription: `MariaDB ${majorVersion} options of ${identifier}: audit plugin`,
        options: [
          {
            optionName: "MARIADB_AUDIT_PLUGIN",
            optionSettings: [
              // Who connected, and every schema and privilege change. Not QUERY/QUERY_DML: that
              // would copy personal data into the logs and multiply their volume.
              { name: "SERVER_AUDIT_EVENTS", value: "CONNECT,QUERY_DDL,QUERY_DCL" },
              // rdsadmin's health checks every second would otherwise drown the log.
              { name: "SERVER_AUDIT_EXCL_USERS", value: "rdsadmin" },
            ],
          },
        ],
      },
      { parent: this, retainOnDelete: true },
    );
  }

  /** Enhanced Monitoring's role; its ARN resolves only once the policy is attached (RDS validates it on create). */
  private monitoringRoleArn(name: string, identifier: string, partition: pulumi.Output<string>): pulumi.Output<string> {
    const monitoringRole = new aws.iam.Role(
      `${name}-monitoring`,
      {
        description: `Lets RDS Enhanced Monitoring publish OS metrics of ${identifier}`,
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                actions: ["sts:AssumeRole"],
                principals: [{ type: "Service", identifiers: ["monitoring.rds.amazonaws.com"] }],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    const attachment = new aws.iam.RolePolicyAttachment(
      `${name}-monitoring`,
      {
        role: monitoringRole.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
      },
      { parent: this },
    );
    // The ARN only after the policy is attached: RDS validates the role's permissions on create.
    return pulumi.all([monitoringRole.arn, attachment.id]).apply(([arn]) => arn);
  }

  /**
   * A least-privilege identity policy (JSON) that lets a workload log in as one database user with
   * IAM authentication (`iamDatabaseAuthenticationEnabled`): `rds-db:connect` on that user of this
   * instance only. The user itself is created once in SQL (`appUsersSql` in ../lib/mariadb.ts).
   */
  connectPolicy(user: string): pulumi.Output<string> {
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const resource = pulumi
      .all([partition, region, accountId, this.resourceId])
      .apply(([p, r, a, id]) => rdsDbUserArn({ partition: p, region: r, accountId: a, resourceId: id, user }));
    return aws.iam.getPolicyDocumentOutput(
      { statements: [{ sid: "ConnectAsServiceUser", actions: ["rds-db:connect"], resources: [resource] }] },
      { parent: this },
    ).json;
  }

  /**
   * Admits MariaDB (3306) from one client security group. `role` names the client (e.g. `eks`,
   * `test-host`, `bastion`); it is part of the rule's logical name, so keep it stable.
   */
  allowFrom(role: string, sourceSecurityGroupId: pulumi.Input<string>): aws.vpc.SecurityGroupIngressRule {
    if (!ROLE_NAME.test(role)) {
      throw new pulumi.ResourceError(`database client role "${role}" must be a lower-case slug (letters, digits, hyphens; <= 31 chars)`, this);
    }
    if (this.clientRoles.has(role)) {
      throw new pulumi.ResourceError(`database client role "${role}" is already allowed; give each client its own role`, this);
    }
    this.clientRoles.add(role);
    return new aws.vpc.SecurityGroupIngressRule(
      `${this.baseName}-from-${role}`,
      {
        securityGroupId: this.securityGroupId,
        referencedSecurityGroupId: sourceSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: 3306,
        toPort: 3306,
        description: `MariaDB from ${role}`,
      },
      { parent: this },
    );
  }
}
