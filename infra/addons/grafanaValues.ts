/**
 * Grafana's values in kube-prometheus-stack (its grafana subchart 10.2.0): private, admin
 * credentials from a Secret, its database on the shared volume, and the CloudWatch data source
 * with its role's permissions. Pure; the Monitoring component (./monitoring.ts) passes them on.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ResourceRequirements } from "./clusterAutoscaler";

type Values = Record<string, unknown>;

/** The restricted profile, set explicitly so a chart bump cannot loosen it. */
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

export const podSecurityContext = (uid: number, gid: number): Values => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: gid,
  fsGroup: gid,
  seccompProfile: { type: "RuntimeDefault" },
});

/** What Grafana's values are made of (the Monitoring add-on's settings). */
export interface GrafanaSettings {
  readonly storageClassName: pulumi.Input<string>;
  readonly grafanaVolumeGi: number;
  readonly grafanaResources: ResourceRequirements;
  readonly grafanaImage?: { readonly registry: string; readonly repository: string };
  readonly cloudWatchRegion?: string;
}

/**
 * The CloudWatch data source, beside the chart's own Prometheus and Alertmanager ones: the chart
 * renders `grafana.additionalDataSources` into its datasource ConfigMap, which the Grafana sidecar
 * provisions (kube-prometheus-stack 79.7.1 templates/grafana/configmaps-datasources.yaml; the list
 * goes through `tpl`, so no value may contain `{{`). `authType: default` is the AWS SDK's default
 * chain, which takes the IRSA web identity token.
 */
export const CLOUDWATCH_DATASOURCE = { name: "CloudWatch", uid: "cloudwatch", type: "cloudwatch" } as const;

/** Grafana: private (port-forward), admin credentials from a Secret, its SQLite database on the shared volume. */
export function grafanaValues(p: GrafanaSettings, grafanaSecretName: pulumi.Output<string>, cloudWatchRoleArn: pulumi.Output<string> | undefined): Values {
  const cloudWatch =
    cloudWatchRoleArn !== undefined && p.cloudWatchRegion !== undefined
      ? {
          // Grafana's pods run as the chart's `grafana` service account (fullnameOverride), which the role trusts.
          serviceAccount: { create: true, annotations: { "eks.amazonaws.com/role-arn": cloudWatchRoleArn } },
          additionalDataSources: [{ ...CLOUDWATCH_DATASOURCE, access: "proxy", editable: false, jsonData: { authType: "default", defaultRegion: p.cloudWatchRegion } }],
        }
      : {};
  return {
    ...cloudWatch,
    // `grafana` instead of `<release>-grafana`: the port-forward command stays short and stable.
    fullnameOverride: "grafana",
    admin: { existingSecret: grafanaSecretName, userKey: "admin-user", passwordKey: "admin-password" },
    // Not exposed: reached with `kubectl port-forward` only (Grafana stays private).
    service: { type: "ClusterIP" },
    ingress: { enabled: false },
    persistence: {
      enabled: true,
      type: "pvc",
      storageClassName: p.storageClassName,
      accessModes: ["ReadWriteOnce"],
      size: `${p.grafanaVolumeGi}Gi`,
    },
    ...(p.grafanaImage !== undefined ? { image: { registry: p.grafanaImage.registry, repository: p.grafanaImage.repository } } : {}),
    // The chown init container runs as root (not allowed here), and is pointless on EFS: the
    // access point already presents every file as its own uid/gid.
    initChownData: { enabled: false },
    // One pod on the SQLite database at a time.
    deploymentStrategy: { type: "Recreate" },
    resources: p.grafanaResources,
    securityContext: podSecurityContext(472, 472),
    // Grafana writes plugins, sessions and temp files outside its volume: a writable root.
    containerSecurityContext: { ...RESTRICTED_CONTAINER, readOnlyRootFilesystem: false },
    testFramework: { enabled: false },
  };
}

/** The CloudWatch data source's permissions (see `Monitoring.grafanaCloudWatchRole`). */
export function grafanaCloudWatchPolicy(): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadAlbMetrics", Effect: "Allow", Action: ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"], Resource: "*" },
      { Sid: "FindAlbResourcesByTag", Effect: "Allow", Action: ["tag:GetResources"], Resource: "*" },
    ],
  };
}
