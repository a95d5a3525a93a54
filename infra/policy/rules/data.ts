/**
 * Registries, file systems and keys: ECR repositories, EFS file systems, KMS keys.
 */
import type { ResourceRule } from "../engine";
import { at, bool, str } from "../values";

export const ecrImmutableTags: ResourceRule = {
  kind: "resource",
  name: "ecr-immutable-tags",
  description: "ECR repositories make image tags immutable, so a tag always names the image that was tested.",
  docs: "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",
  scannerIds: ["CKV_AWS_51"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: ["aws:ecr/repository:Repository"],
  check: (r) => {
    // IMMUTABLE_WITH_EXCLUSION lets listed tag patterns be overwritten again: not accepted.
    const mutability = str(r.props["imageTagMutability"]) ?? "MUTABLE";
    return mutability === "IMMUTABLE"
      ? []
      : [
          {
            problem: `imageTagMutability is ${mutability}, so pushing the same tag again silently replaces what staging verified and prod will pull`,
            fix: 'set imageTagMutability: "IMMUTABLE" and release by new tags or digests',
          },
        ];
  },
};

export const ecrScanOnPush: ResourceRule = {
  kind: "resource",
  name: "ecr-scan-on-push",
  description: "ECR repositories scan every image for known vulnerabilities when it is pushed.",
  docs: "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html",
  scannerIds: ["CKV_AWS_163"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: ["aws:ecr/repository:Repository"],
  check: (r) =>
    bool(at(r.props["imageScanningConfiguration"], "scanOnPush")) === true
      ? []
      : [{ problem: "imageScanningConfiguration.scanOnPush is not true", fix: "set imageScanningConfiguration: { scanOnPush: true } (or enable enhanced scanning for the registry)" }],
};

export const efsEncrypted: ResourceRule = {
  kind: "resource",
  name: "efs-encrypted",
  description: "EFS file systems are encrypted at rest.",
  docs: "https://docs.aws.amazon.com/efs/latest/ug/encryption.html",
  scannerIds: ["CKV_AWS_42"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: ["aws:efs/fileSystem:FileSystem"],
  check: (r) =>
    bool(r.props["encrypted"]) === true
      ? []
      : [
          {
            problem: "encrypted is not true; encryption at rest can only be chosen when the file system is created",
            fix: "set encrypted: true and kmsKeyId to a customer-managed key (replaces the file system: migrate the data first)",
          },
        ],
};

export const kmsKeyRotation: ResourceRule = {
  kind: "resource",
  name: "kms-key-rotation",
  description: "Symmetric customer-managed KMS keys rotate their key material every year.",
  docs: "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
  scannerIds: ["CKV_AWS_7"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: ["aws:kms/key:Key"],
  check: (r) => {
    // Automatic rotation exists only for symmetric encryption keys.
    const spec = str(r.props["customerMasterKeySpec"]) ?? str(r.props["keySpec"]) ?? "SYMMETRIC_DEFAULT";
    const usage = str(r.props["keyUsage"]) ?? "ENCRYPT_DECRYPT";
    if (spec !== "SYMMETRIC_DEFAULT" || usage !== "ENCRYPT_DECRYPT") {
      return [];
    }
    return bool(r.props["enableKeyRotation"]) === true
      ? []
      : [{ problem: "enableKeyRotation is not true", fix: "set enableKeyRotation: true (old key material stays available to decrypt)" }];
  },
};

export const dataRules = [ecrImmutableTags, ecrScanOnPush, efsEncrypted, kmsKeyRotation];
