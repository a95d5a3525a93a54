import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** A chart pinned to one version of its official repository, installed under a fixed release name. */
export interface PinnedChart {
  readonly chart: string;
  /** Exact chart version: an unpinned chart would change what a stack declares without a diff here. */
  readonly version: string;
  /** The chart's official repository URL. */
  readonly repository: string;
  /** Helm release name; fixed, because the chart's object names derive from it. */
  readonly release: string;
}

/** Release settings beyond the chart, values and namespace. */
export type ReleaseExtras = Omit<k8s.helm.v3.ReleaseArgs, "name" | "chart" | "version" | "repositoryOpts" | "namespace" | "values">;

/**
 * The one way add-ons install a Helm chart: the pinned chart from its official repository, a
 * fixed release name, and a bounded release history (Helm keeps every revision as a Secret in the
 * namespace otherwise). The Release is named `${name}-release`.
 */
export function pinnedRelease(
  name: string,
  chart: PinnedChart,
  namespace: pulumi.Input<string>,
  values: pulumi.Input<Record<string, unknown>>,
  opts: pulumi.CustomResourceOptions,
  extras: ReleaseExtras = {},
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    `${name}-release`,
    {
      name: chart.release,
      chart: chart.chart,
      version: chart.version,
      repositoryOpts: { repo: chart.repository },
      namespace,
      values,
      maxHistory: 10,
      ...extras,
    },
    opts,
  );
}
