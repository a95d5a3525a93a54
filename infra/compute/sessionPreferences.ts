import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * The name Session Manager reads its preferences from: one Session document per account and
 * region, which the console creates the first time someone opens the preferences (AWS Systems
 * Manager user guide, "Session document schema" and "Create a Session Manager preferences
 * document (command line)"). Declaring it fails while it already exists: import it instead.
 */
export const SESSION_PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell";

export interface SessionPreferencesArgs {
  /** Retention of the session transcripts, in days. Default: 365. */
  readonly logRetentionDays?: number;
  /** Minutes without input after which Session Manager ends a session (1-60). Default: 20. */
  readonly idleSessionTimeoutMinutes?: number;
}

/**
 * Session Manager preferences of the account and region: every shell session (the bastion's, an
 * EKS node's) streams its transcript to a CloudWatch log group encrypted with a key of its own.
 * The instances write the transcript themselves, so their role needs write access to the group
 * (`Bastion`'s `sessionLogGroupArn`).
 * Port-forwarding sessions (the bastion's database tunnel) carry no transcript; who opened them
 * and when is in CloudTrail (`StartSession`).
 */
export class SessionPreferences extends pulumi.ComponentResource {
  readonly logGroupName: pulumi.Output<string>;
  readonly logGroupArn: pulumi.Output<string>;
  readonly documentName: pulumi.Output<string>;

  constructor(name: string, args: SessionPreferencesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:compute:SessionPreferences", name, args, opts);

    const idle = args.idleSessionTimeoutMinutes ?? 20;
    if (!Number.isInteger(idle) || idle < 1 || idle > 60) {
      throw new pulumi.ResourceError(`idleSessionTimeoutMinutes ${idle} is outside Session Manager's 1-60 minutes`, this);
    }
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    const { region } = aws.getRegionOutput({}, { parent: this });
    const { partition } = aws.getPartitionOutput({}, { parent: this });
    const logGroupName = `/aws/ssm/sessions/${name}`;
    const logGroupArn = pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}`;

    const key = this.logKey(name, logGroupName, logGroupArn, { accountId, region, partition });

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: logGroupName, retentionInDays: args.logRetentionDays ?? 365, kmsKeyId: key.arn },
      { parent: this },
    );

    // Keys of the Session document schema, schemaVersion 1.0, sessionType Standard_Stream.
    // `cloudWatchEncryptionEnabled` makes Session Manager refuse to log to an unencrypted group;
    // `cloudWatchStreamingEnabled` sends the transcript while the session runs, so a session that
    // is killed still leaves its record.
    const document = new aws.ssm.Document(
      `${name}-preferences`,
      {
        name: SESSION_PREFERENCES_DOCUMENT,
        documentType: "Session",
        documentFormat: "JSON",
        content: logGroup.name.apply((group) =>
          JSON.stringify({
            schemaVersion: "1.0",
            description: "Session Manager preferences: transcripts to an encrypted CloudWatch log group",
            sessionType: "Standard_Stream",
            inputs: {
              s3BucketName: "",
              s3KeyPrefix: "",
              s3EncryptionEnabled: true,
              cloudWatchLogGroupName: group,
              cloudWatchEncryptionEnabled: true,
              cloudWatchStreamingEnabled: true,
              idleSessionTimeout: String(idle),
              kmsKeyId: "",
              runAsEnabled: false,
              runAsDefaultUser: "",
            },
          }),
        ),
      },
      { parent: this },
    );

    this.logGroupName = logGroup.name;
    this.logGroupArn = logGroup.arn;
    this.documentName = document.name;
    this.registerOutputs({ logGroupName: this.logGroupName, logGroupArn: this.logGroupArn, documentName: this.documentName });
  }

  /** The log group's own rotating key; its policy admits CloudWatch Logs for that log group only. */
  private logKey(
    name: string,
    logGroupName: string,
    logGroupArn: pulumi.Output<string>,
    where: { readonly accountId: pulumi.Output<string>; readonly region: pulumi.Output<string>; readonly partition: pulumi.Output<string> },
  ): aws.kms.Key {
    const { accountId, region, partition } = where;
    // CloudWatch Logs encrypts with a customer-managed key only when the key policy admits the
    // regional logs service principal, scoped to the log group through the encryption context
    // (CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS").
    return new aws.kms.Key(
      `${name}-kms`,
      {
        description: `Session Manager transcripts in ${logGroupName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                sid: "AccountAdministersTheKeyThroughIam",
                principals: [{ type: "AWS", identifiers: [pulumi.interpolate`arn:${partition}:iam::${accountId}:root`] }],
                actions: ["kms:*"],
                resources: ["*"],
              },
              {
                sid: "CloudWatchLogsEncryptsTheSessionLogGroup",
                principals: [{ type: "Service", identifiers: [pulumi.interpolate`logs.${region}.amazonaws.com`] }],
                actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources: ["*"],
                conditions: [{ test: "ArnEquals", variable: "kms:EncryptionContext:aws:logs:arn", values: [logGroupArn] }],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
  }
}
