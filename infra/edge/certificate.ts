import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkHostsInZone, validationNames } from "../lib/certificates";
import { checkedFor } from "../resourceError";

export interface CertificateArgs {
  /** The Route 53 public hosted zone's domain, e.g. `karina-univ.com`; every host must lie in it. */
  readonly domain: string;
  /**
   * Fully qualified names the certificate covers, e.g. `["test.karina-univ.com"]`. The first is
   * the certificate's domain name, the rest its subject alternative names. Wildcards (`*.x`) allowed.
   */
  readonly hosts: readonly string[];
}

/**
 * A DNS-validated ACM certificate for a set of hosts in one Route 53 public zone, and its
 * validation records. Generic: the test host's ALB uses it now, the EKS ingress later.
 *
 * Replacement (e.g. adding a host changes `subjectAlternativeNames`, which forces a new
 * certificate): Pulumi replaces create-before-delete by default, so the new certificate is issued
 * and the listeners switch to it before the old one is deleted; the `lifecycle {
 * create_before_destroy }` Terraform needs here is the default, and `deleteBeforeReplace` must
 * not be set (ACM refuses to delete a certificate a listener still uses).
 */
export class Certificate extends pulumi.ComponentResource {
  /** ARN of the *issued* certificate: consumers wait for validation before they attach it. */
  readonly certificateArn: pulumi.Output<string>;
  /** The hosted zone the hosts (and their alias records) live in. */
  readonly zoneId: pulumi.Output<string>;

  constructor(name: string, args: CertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:edge:Certificate", name, args, opts);
    checkedFor(this, () => checkHostsInZone(args.domain, args.hosts));

    const zone = aws.route53.getZoneOutput({ name: args.domain, privateZone: false }, { parent: this });

    const certificate = new aws.acm.Certificate(
      `${name}-certificate`,
      {
        domainName: args.hosts[0],
        subjectAlternativeNames: args.hosts.slice(1),
        validationMethod: "DNS",
      },
      { parent: this },
    );

    // One record per name known now (not per entry of domainValidationOptions, which is only
    // known after creation and would need resources inside apply). Named after the host so
    // reordering `hosts` never replaces a record.
    const records = validationNames(args.hosts).map((host) => {
      const option = certificate.domainValidationOptions.apply((options) => {
        const found = options.find((o) => o.domainName === host) ?? options.find((o) => o.domainName === `*.${host}`);
        if (found === undefined) {
          throw new pulumi.ResourceError(`ACM returned no validation option for "${host}"`, this);
        }
        return found;
      });
      return new aws.route53.Record(
        `${name}-validation-${host}`,
        {
          zoneId: zone.zoneId,
          name: option.resourceRecordName,
          type: option.resourceRecordType,
          records: [option.resourceRecordValue],
          ttl: 300,
          // The record is a pure function of the account and the name, so another certificate
          // for the same name (a replacement, another stack) needs the very same record: take
          // it over instead of failing on "already exists".
          allowOverwrite: true,
        },
        { parent: this },
      );
    });

    const validation = new aws.acm.CertificateValidation(
      `${name}-validation`,
      {
        certificateArn: certificate.arn,
        validationRecordFqdns: records.map((r) => r.fqdn),
      },
      { parent: this },
    );

    this.certificateArn = validation.certificateArn;
    this.zoneId = zone.zoneId;

    this.registerOutputs({ certificateArn: this.certificateArn, zoneId: this.zoneId });
  }
}
