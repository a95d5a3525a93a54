/**
 * EKS clusters: the `eks:index:Cluster` component's inputs (what the program declares, and all
 * the offline runner sees of a multi-language component) and the `aws:eks/cluster:Cluster` it
 * creates (what the real pack also sees during `pulumi preview`). Both must pass.
 */
import { opennessOfTexts } from "../cidr";
import type { Finding, PolicyResource, ResourceRule } from "../engine";
import { at, bool, list, obj, str, strs } from "../values";

const COMPONENT = "eks:index:Cluster";
const CLUSTER = "aws:eks/cluster:Cluster";

export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/**
 * Kubernetes minor versions EKS runs (standard or extended support). A list rather than a minimum,
 * so a typo ("1.3", "1.330") or a version EKS has not released fails in preview instead of in the
 * CreateCluster call, and a version EKS has retired fails before AWS force-upgrades the control
 * plane. Versions past standard support bill the extended-support surcharge (several times the
 * standard hourly price), so keep clusters near the top of the list. Review it when EKS releases or
 * retires a version (the calendar is on the docs page of the rule) and bump clusters one minor at a
 * time: the control plane cannot skip versions.
 */
// As of 2026-11: 1.31's extended support ends 2026-11-26; 1.32 and 1.33 are in extended support;
// 1.34 (standard until 2026-12-02) and 1.35 (until 2027-03-27) in standard support.
export const EKS_SUPPORTED_VERSIONS = ["1.32", "1.33", "1.34", "1.35"] as const;

interface ClusterView {
  readonly logTypes: string[];
  readonly secretsKeyArn?: string;
  readonly secretsEncrypted: boolean;
  readonly publicEndpoint: boolean;
  readonly publicCidrs?: string[];
  readonly version?: string;
}

function view(r: PolicyResource): ClusterView {
  const p = r.props;
  if (r.type === COMPONENT) {
    const key = str(p["encryptionConfigKeyArn"]);
    return {
      logTypes: strs(p["enabledClusterLogTypes"]),
      secretsKeyArn: key,
      secretsEncrypted: key !== undefined && key !== "",
      // The component and EKS both default the public endpoint to on.
      publicEndpoint: bool(p["endpointPublicAccess"]) !== false,
      publicCidrs: p["publicAccessCidrs"] === undefined ? undefined : strs(p["publicAccessCidrs"]),
      version: str(p["version"]),
    };
  }
  const encryption = obj(p["encryptionConfig"]);
  const vpc = obj(p["vpcConfig"]);
  const key = str(at(encryption, "provider.keyArn"));
  return {
    logTypes: strs(p["enabledClusterLogTypes"]),
    secretsKeyArn: key,
    secretsEncrypted: key !== undefined && key !== "" && strs(encryption["resources"]).includes("secrets"),
    publicEndpoint: bool(vpc["endpointPublicAccess"]) !== false,
    publicCidrs: vpc["publicAccessCidrs"] === undefined ? undefined : strs(vpc["publicAccessCidrs"]),
    version: str(p["version"]),
  };
}

export const eksControlPlaneLogging: ResourceRule = {
  kind: "resource",
  name: "eks-control-plane-logging",
  description: "EKS clusters send all five control plane log types to CloudWatch Logs.",
  docs: "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
  scannerIds: ["CKV_AWS_37"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: [COMPONENT, CLUSTER],
  check: (r) => {
    const missing = EKS_LOG_TYPES.filter((t) => !view(r).logTypes.includes(t));
    return missing.length > 0
      ? [
          {
            problem: `enabledClusterLogTypes misses ${list(missing)}${missing.includes("audit") ? "; without the audit log nobody can tell who did what through the Kubernetes API" : ""}`,
            fix: `set enabledClusterLogTypes to ${list([...EKS_LOG_TYPES])} (and pre-create /aws/eks/<cluster>/cluster with a retention)`,
          },
        ]
      : [];
  },
};

export const eksSecretsEncryption: ResourceRule = {
  kind: "resource",
  name: "eks-secrets-encryption",
  description: "EKS clusters envelope-encrypt Kubernetes secrets with a KMS key.",
  docs: "https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html",
  scannerIds: ["CKV_AWS_58"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [COMPONENT, CLUSTER],
  check: (r) =>
    view(r).secretsEncrypted
      ? []
      : [
          {
            problem: "secrets are not envelope-encrypted with a KMS key, so anyone who reads etcd backups reads every secret",
            fix:
              r.type === COMPONENT
                ? "set encryptionConfigKeyArn to a customer-managed KMS key with rotation on"
                : 'set encryptionConfig: { provider: { keyArn: <kms key arn> }, resources: ["secrets"] }',
          },
        ],
};

export const eksEndpointRestricted: ResourceRule = {
  kind: "resource",
  name: "eks-endpoint-restricted",
  description: "The EKS API endpoint is private, or public only to listed CIDRs that together cover less than half of the internet.",
  docs: "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
  scannerIds: ["CKV_AWS_38", "CKV_AWS_39"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [COMPONENT, CLUSTER],
  check: (r) => {
    const v = view(r);
    if (!v.publicEndpoint) {
      return [];
    }
    const findings: Finding[] = [];
    if (v.publicCidrs === undefined || v.publicCidrs.length === 0) {
      findings.push({
        problem: "the public endpoint is on with no publicAccessCidrs, which EKS treats as 0.0.0.0/0",
        fix: "turn the public endpoint off (platform:cluster.publicAccessCidrs: []) or list the office/VPN/CI egress CIDRs",
      });
    } else {
      // Judged by what the list covers together: 0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0.
      const open = opennessOfTexts(v.publicCidrs);
      if (open.level !== "restricted") {
        findings.push({
          problem: `publicAccessCidrs ${list(v.publicCidrs)} opens the Kubernetes API to ${open.level === "world" ? "the whole internet" : "half of the internet or more"} (${open.detail ?? ""})`,
          fix: "list only the office/VPN/CI egress CIDRs in platform:cluster.publicAccessCidrs, or leave it empty for a private endpoint",
        });
      }
    }
    return findings;
  },
};

export const eksSupportedVersion: ResourceRule = {
  kind: "resource",
  name: "eks-supported-version",
  description: `EKS clusters run a Kubernetes version EKS supports (${EKS_SUPPORTED_VERSIONS.join(", ")}).`,
  docs: "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
  scannerIds: ["CKV_AWS_339"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: [COMPONENT, CLUSTER],
  check: (r) => {
    const version = view(r).version;
    if (version !== undefined && (EKS_SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
      return [];
    }
    return [
      {
        problem:
          version === undefined
            ? "version is unset, so EKS picks its current default and the cluster's version is not reviewable in code"
            : `version "${version}" is not one EKS supports (${list([...EKS_SUPPORTED_VERSIONS])})`,
        fix: `set version (platform:cluster.version) to one of ${list([...EKS_SUPPORTED_VERSIONS])}, upgrading one minor version at a time; if EKS released a newer version, add it to EKS_SUPPORTED_VERSIONS in infra/policy/rules/eks.ts`,
      },
    ];
  },
};

export const eksRules = [eksControlPlaneLogging, eksSecretsEncryption, eksEndpointRestricted, eksSupportedVersion];
