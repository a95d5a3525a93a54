/**
 * kube-prometheus-stack's documented defaults that the program's values are judged against (its
 * PDBs and their replicas), read at the pinned chart version: a reviewed fact, re-read with every
 * chart bump (test/helmReleases.test.ts fails until `version` matches the pin in monitoring.ts).
 */
import type { ChartDefaults } from "../lib/chartPdb";

/**
 * The chart's PDB map for Prometheus and Alertmanager, with only the key the chart itself
 * defaults (`minAvailable: 1`). Its templates render `minAvailable` and `maxUnavailable` each
 * when truthy, and Helm keeps the chart's `minAvailable` next to any `maxUnavailable` the release
 * adds, so setting `maxUnavailable` renders both and the API server rejects the PDB
 * (prometheus-community/helm-charts#2977; `kubePrometheusStackChart` below).
 */
export type SingleKeyPdb = { enabled: boolean; minAvailable: number };

/** All pods but one must stay: the same budget as maxUnavailable 1, in the key the chart defaults. */
export function allButOne(replicas: number): SingleKeyPdb {
  return { enabled: replicas > 1, minAvailable: Math.max(1, replicas - 1) };
}

export const kubePrometheusStackChart = {
  chart: "kube-prometheus-stack",
  version: "79.7.1",
  reviewed: "2026-11-30",
  source:
    "prometheus-community/helm-charts tag kube-prometheus-stack-79.7.1 (7dcdc8b3), charts/kube-prometheus-stack; " +
    "subcharts grafana 10.2.0 (grafana/helm-charts tag grafana-10.2.0, e5ee6963) and kube-state-metrics 6.4.1 (same repo, tag kube-state-metrics-6.4.1)",
  values: {
    // values.yaml:388 enabled, :498-502 PDB, alertmanagerSpec :1011 replicas.
    alertmanager: {
      enabled: true,
      podDisruptionBudget: { enabled: false, minAvailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" },
      alertmanagerSpec: { replicas: 1 },
    },
    // :3370 enabled, :3634-3638 PDB, prometheusSpec :4229 replicas (:4238 shards: 1, not set here).
    prometheus: {
      enabled: true,
      podDisruptionBudget: { enabled: false, minAvailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" },
      prometheusSpec: { replicas: 1 },
    },
    // :2600 enabled, :3087-3091 PDB (the Deployment hard-codes one replica); webhook Deployment :2672-2689, off.
    prometheusOperator: {
      enabled: true,
      podDisruptionBudget: { enabled: false, minAvailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" },
      admissionWebhooks: {
        deployment: { enabled: false, replicas: 1, podDisruptionBudget: { enabled: false, minAvailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" } },
      },
    },
    // :4868 enabled false, :4885-4889 PDB, thanosRulerSpec replicas 1.
    thanosRuler: {
      enabled: false,
      podDisruptionBudget: { enabled: false, minAvailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" },
      thanosRulerSpec: { replicas: 1 },
    },
    // grafana values.yaml:49 replicas, :69 podDisruptionBudget {} (kube-prometheus-stack overrides neither).
    // kube-prometheus-stack values.yaml:1370-1376: the dashboard sidecar loads ConfigMaps labelled
    // grafana_dashboard: "1" from every namespace; :1391-1397, :1440-1445: its Prometheus data source
    // has uid `prometheus`, its Alertmanager one `alertmanager` (templates/grafana/configmaps-datasources.yaml).
    grafana: {
      enabled: true,
      replicas: 1,
      podDisruptionBudget: {},
      sidecar: {
        dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" },
        datasources: { enabled: true, defaultDatasourceEnabled: true, uid: "prometheus", alertmanager: { enabled: true, uid: "alertmanager" } },
      },
    },
    // kube-state-metrics values.yaml:38 replicas, :375 podDisruptionBudget {}; enabled by kubeStateMetrics.enabled (:2457).
    kubeStateMetrics: { enabled: true },
    "kube-state-metrics": { replicas: 1, podDisruptionBudget: {} },
    // node-exporter is a DaemonSet: its chart (4.49.1) has no PDB template.
  },
  pdbs: [
    {
      component: "alertmanager",
      values: "alertmanager.podDisruptionBudget",
      replicas: "alertmanager.alertmanagerSpec.replicas",
      template: "each-if-truthy",
      renderedWhen: "enabled",
      requires: ["alertmanager.enabled"],
      source: "templates/alertmanager/podDisruptionBudget.yaml:10-16",
    },
    {
      component: "prometheus",
      values: "prometheus.podDisruptionBudget",
      replicas: "prometheus.prometheusSpec.replicas",
      template: "each-if-truthy",
      renderedWhen: "enabled",
      requires: ["prometheus.enabled"],
      source: "templates/prometheus/podDisruptionBudget.yaml:10-16",
    },
    {
      component: "prometheus-operator",
      values: "prometheusOperator.podDisruptionBudget",
      replicas: 1,
      template: "to-yaml",
      renderedWhen: "enabled",
      requires: ["prometheusOperator.enabled"],
      source: "templates/prometheus-operator/pdb.yaml:14 (toYaml, omit enabled); deployment.yaml:19 replicas: 1",
    },
    {
      component: "prometheus-operator-webhook",
      values: "prometheusOperator.admissionWebhooks.deployment.podDisruptionBudget",
      replicas: "prometheusOperator.admissionWebhooks.deployment.replicas",
      template: "to-yaml",
      renderedWhen: "enabled",
      requires: ["prometheusOperator.admissionWebhooks.deployment.enabled"],
      source: "templates/prometheus-operator/admission-webhooks/deployment/pdb.yaml:13",
    },
    {
      component: "thanos-ruler",
      values: "thanosRuler.podDisruptionBudget",
      replicas: "thanosRuler.thanosRulerSpec.replicas",
      template: "each-if-truthy",
      renderedWhen: "enabled",
      requires: ["thanosRuler.enabled"],
      source: "templates/thanos-ruler/podDisruptionBudget.yaml:10-16",
    },
    {
      component: "grafana",
      values: "grafana.podDisruptionBudget",
      replicas: "grafana.replicas",
      template: "each-if-truthy",
      renderedWhen: "non-empty",
      requires: ["grafana.enabled"],
      source: "grafana 10.2.0 templates/poddisruptionbudget.yaml (with minAvailable, with maxUnavailable)",
    },
    {
      component: "kube-state-metrics",
      values: "kube-state-metrics.podDisruptionBudget",
      replicas: "kube-state-metrics.replicas",
      template: "to-yaml",
      renderedWhen: "non-empty",
      requires: ["kubeStateMetrics.enabled"],
      source: "kube-state-metrics 6.4.1 templates/pdb.yaml (toYaml)",
    },
  ],
} satisfies ChartDefaults;
