/**
 * EC2 instances, launch templates (bastion ASG, EKS managed node groups) and EBS volumes.
 */
import type { Finding, ResourceRule } from "../engine";
import { bool, list, num, obj, objs, str } from "../values";

const INSTANCE = "aws:ec2/instance:Instance";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const VOLUME = "aws:ebs/volume:Volume";

export const ec2Imdsv2Required: ResourceRule = {
  kind: "resource",
  name: "ec2-imdsv2-required",
  description: "EC2 instances and launch templates require IMDSv2 session tokens.",
  docs: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html",
  scannerIds: ["CKV_AWS_79"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [INSTANCE, LAUNCH_TEMPLATE],
  check: (r) => {
    const options = obj(r.props["metadataOptions"]);
    if (str(options["httpEndpoint"]) === "disabled") {
      return [];
    }
    const tokens = str(options["httpTokens"]);
    return tokens === "required"
      ? []
      : [
          {
            problem: `metadataOptions.httpTokens is ${tokens === undefined ? "unset (the AMI's default decides, often \"optional\")" : `"${tokens}"`}, so IMDSv1 answers unauthenticated GETs, the path of SSRF credential theft`,
            fix: 'set metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 }',
          },
        ];
  },
};

/** A container in Docker bridge networking is one hop further than the host: never allow more. */
const MAX_EXCEPTION_HOP_LIMIT = 2;

export const ec2ImdsHopLimit: ResourceRule = {
  kind: "resource",
  name: "ec2-imds-hop-limit",
  description:
    "IMDS responses stop at the instance (hop limit 1), so containers cannot borrow the instance role; a documented exception may allow 2 for containers on a bridge network.",
  docs: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html#imds-considerations",
  scannerIds: ["CKV_AWS_341"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: [INSTANCE, LAUNCH_TEMPLATE],
  exceptionAware: true,
  check: (r, ctx) => {
    const options = obj(r.props["metadataOptions"]);
    if (str(options["httpEndpoint"]) === "disabled") {
      return [];
    }
    const hops = num(options["httpPutResponseHopLimit"]);
    if (hops !== undefined && hops <= 1) {
      return [];
    }
    const exception = ctx.exceptionFor(r);
    const allowed = exception === undefined ? 1 : Math.min(exception.maxHopLimit ?? MAX_EXCEPTION_HOP_LIMIT, MAX_EXCEPTION_HOP_LIMIT);
    if (hops !== undefined && hops <= allowed && exception !== undefined) {
      ctx.recordExemption(r, exception);
      return [];
    }
    return [
      {
        problem:
          hops === undefined
            ? "metadataOptions.httpPutResponseHopLimit is unset, so the AMI decides (Amazon Linux 2023 and EKS AMIs default to 2, which lets every container reach the instance role)"
            : `metadataOptions.httpPutResponseHopLimit is ${hops}; ${allowed === 1 ? "1 is the limit without a documented exception" : `the documented exception ("${exception?.reason ?? ""}") allows at most ${allowed}`}`,
        fix:
          allowed === 1
            ? "set httpPutResponseHopLimit: 1 and give pods AWS access through IRSA; if containers on a bridge network truly need the instance role, document an exception with maxHopLimit 2 in infra/policy/config/<stack>.json"
            : `set httpPutResponseHopLimit to ${allowed} or less`,
      },
    ];
  },
};

export const ec2NoPublicIp: ResourceRule = {
  kind: "resource",
  name: "ec2-no-public-ip",
  description: "EC2 instances get no public IP address; the test host (no NAT in test) is the documented exception.",
  docs: "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-ip-addressing.html#subnet-public-ip",
  scannerIds: ["CKV_AWS_88"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [INSTANCE, LAUNCH_TEMPLATE],
  check: (r) => {
    if (r.type === INSTANCE) {
      const value = bool(r.props["associatePublicIpAddress"]);
      return value === false
        ? []
        : [
            {
              problem:
                value === true
                  ? "associatePublicIpAddress is true"
                  : "associatePublicIpAddress is unset, so the subnet's MapPublicIpOnLaunch decides (awsx public subnets turn it on)",
              fix: "set associatePublicIpAddress: false and place the instance in a private subnet (egress through NAT, access through SSM)",
            },
          ];
    }
    const publicNics = objs(r.props["networkInterfaces"]).filter((n) => bool(n["associatePublicIpAddress"]) === true);
    return publicNics.length > 0
      ? [
          {
            problem: "a network interface of the template sets associatePublicIpAddress to true, so every instance launched from it is on the internet",
            fix: 'set associatePublicIpAddress: "false" on the template\'s network interfaces and launch into private subnets',
          },
        ]
      : [];
  },
};

export const ec2EncryptedVolumes: ResourceRule = {
  kind: "resource",
  name: "ec2-encrypted-volumes",
  description: "EBS volumes of instances, launch templates and standalone volumes are encrypted.",
  docs: "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
  scannerIds: ["CKV_AWS_8", "CKV_AWS_3"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [INSTANCE, LAUNCH_TEMPLATE, VOLUME],
  check: (r) => {
    const findings: Finding[] = [];
    if (r.type === VOLUME) {
      if (bool(r.props["encrypted"]) !== true) {
        findings.push({ problem: "encrypted is not true", fix: "set encrypted: true (and kmsKeyId for a customer-managed key)" });
      }
      return findings;
    }
    if (r.type === INSTANCE) {
      const plain: string[] = [];
      if (bool(obj(r.props["rootBlockDevice"])["encrypted"]) !== true) {
        plain.push("rootBlockDevice");
      }
      objs(r.props["ebsBlockDevices"]).forEach((d, i) => {
        if (bool(d["encrypted"]) !== true) {
          plain.push(`ebsBlockDevices[${i}] (${str(d["deviceName"]) ?? "?"})`);
        }
      });
      if (plain.length > 0) {
        findings.push({ problem: `${list(plain)} ${plain.length === 1 ? "is" : "are"} not encrypted`, fix: "set encrypted: true on every block device" });
      }
      return findings;
    }
    const mappings = objs(r.props["blockDeviceMappings"]).filter((m) => Object.keys(obj(m["ebs"])).length > 0);
    if (mappings.length === 0) {
      findings.push({
        problem: "declares no block device mappings, so the root volume's encryption is left to the AMI and the account default",
        fix: 'add a blockDeviceMappings entry for the AMI\'s root device with ebs: { encrypted: "true", volumeType: "gp3" }',
      });
    }
    const plain = mappings.filter((m) => bool(obj(m["ebs"])["encrypted"]) !== true).map((m) => str(m["deviceName"]) ?? "?");
    if (plain.length > 0) {
      findings.push({ problem: `block device(s) ${list(plain)} are not encrypted`, fix: 'set ebs.encrypted: "true" on every mapping' });
    }
    return findings;
  },
};

export const ec2Rules = [ec2Imdsv2Required, ec2ImdsHopLimit, ec2NoPublicIp, ec2EncryptedVolumes];
