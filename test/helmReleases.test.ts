/**
 * Every Helm release the stacks declare, judged with its chart's documented defaults (the
 * reviewed, dated `chartDefaults` next to each add-on's pin) merged with the values the program
 * passes, the way Helm merges them: no PodDisruptionBudget renders both keys or allows no
 * eviction, every replicated workload has one, and the settings whose chart default is wrong for
 * this platform are overridden. A chart bump without re-reading the chart fails here.
 */
import { strict as assert } from "assert";
import { defaults as argocd } from "../infra/addons/argocd";
import { defaults as albController } from "../infra/addons/awsLoadBalancerController";
import { defaults as autoscaler } from "../infra/addons/clusterAutoscaler";
import { defaults as cloudwatchExporter } from "../infra/addons/cloudwatchExporter";
import { defaults as metricsServer } from "../infra/addons/metricsServer";
import { defaults as monitoring } from "../infra/addons/monitoring";
import { ChartDefaults, effectivePdb, mergeValues, pdbProblems, Values, valueAt } from "../infra/lib/chartPdb";
import { DeclaredResource, unwrapSecrets } from "../automation/offline/mocks";
import { Cluster } from "../infra/cluster/cluster";
import { Monitoring } from "../infra/addons/monitoring";
import { declare, Evaluation, named, ofType, shippedStack, STACKS } from "./stack";

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Each add-on's pin and the chart facts stated beside it. A new add-on's chart must be listed here. */
const ADDONS: ReadonlyArray<{ readonly version: string; readonly chartDefaults: ChartDefaults }> = [monitoring, argocd, albController, autoscaler, metricsServer, cloudwatchExporter];
const CHARTS = new Map(ADDONS.map((a) => [a.chartDefaults.chart, a.chartDefaults]));

function chartOf(r: DeclaredResource): ChartDefaults {
  const name = String(r.inputs["chart"]);
  const facts = CHARTS.get(name);
  assert.ok(facts !== undefined, `${r.name} installs chart "${name}", which states no chartDefaults: read its values.yaml and PDB templates at the pin and add them`);
  return facts;
}

const valuesOf = (r: DeclaredResource): Values => unwrapSecrets(r.inputs["values"] ?? {}) as Values;

describe("Helm releases: chart defaults stated at the pinned versions", () => {
  it("each add-on's chartDefaults are for the chart version it pins, with a review date and a source", () => {
    for (const addon of ADDONS) {
      const facts = addon.chartDefaults;
      assert.equal(facts.version, addon.version, `${facts.chart}: pinned ${addon.version}, facts read at ${facts.version}; re-read the chart and update chartDefaults`);
      assert.match(facts.reviewed, /^\d{4}-\d{2}-\d{2}$/, facts.chart);
      assert.ok(facts.source.length > 0 && facts.pdbs.every((p) => p.source.length > 0), facts.chart);
    }
  });

  for (const stack of STACKS) {
    it(`${stack}: every release's chart states its defaults at the release's version`, async () => {
      const ev = await shippedStack(stack);
      for (const r of ofType(ev, RELEASE)) {
        const facts = chartOf(r);
        assert.equal(r.inputs["version"], facts.version, `${r.name}: installs ${facts.chart} ${String(r.inputs["version"])}, facts read at ${facts.version}`);
      }
    });
  }
});

describe("Helm releases: effective PodDisruptionBudgets", () => {
  for (const stack of STACKS) {
    it(`${stack}: no release renders a PDB with both keys, an unsatisfiable budget, or a replicated workload without one`, async () => {
      const ev = await shippedStack(stack);
      const problems = ofType(ev, RELEASE).flatMap((r) => pdbProblems(chartOf(r), valuesOf(r)).map((p) => `${r.name}: ${p}`));
      assert.deepEqual(problems, []);
    });
  }

  it("prod: Alertmanager (2 replicas) gets a one-key budget that still allows one eviction", async () => {
    const release = named(await shippedStack("prod"), RELEASE, "prod-monitoring-release");
    const alertmanager = monitoring.chartDefaults.pdbs.find((p) => p.component === "alertmanager");
    assert.ok(alertmanager);
    const e = effectivePdb(alertmanager, mergeValues(monitoring.chartDefaults.values, valuesOf(release)));
    assert.deepEqual(e, { component: "alertmanager", replicas: 2, rendered: true, minAvailable: 1 });
  });

  it("prod: ArgoCD's HA redis-ha and HAProxy (3 replicas each) get PDBs", async () => {
    const release = named(await shippedStack("prod"), RELEASE, "prod-argocd-release");
    const merged = mergeValues(argocd.chartDefaults.values, valuesOf(release));
    for (const component of ["redis-ha", "redis-ha-haproxy"]) {
      const pdb = argocd.chartDefaults.pdbs.find((p) => p.component === component);
      assert.ok(pdb, component);
      assert.deepEqual(effectivePdb(pdb, merged), { component, replicas: 3, rendered: true, maxUnavailable: 1 });
    }
  });

  it("Monitoring with several Prometheus and Alertmanager replicas still renders one key each", async () => {
    const ev: Evaluation = await declare(() => {
      const cluster = new Cluster("pdb", { vpcId: "vpc-1", privateSubnetIds: ["subnet-a", "subnet-c"], publicSubnetIds: ["subnet-pa", "subnet-pc"], version: "1.35" });
      new Monitoring("pdb-monitoring", {
        cluster,
        storageClassName: "efs-sc",
        retentionDays: 15,
        prometheusVolumeGi: 50,
        alertmanagerVolumeGi: 5,
        grafanaVolumeGi: 5,
        prometheusReplicas: 2,
        alertmanagerReplicas: 3,
      });
      return {};
    }, "staging");
    const release = named(ev, RELEASE, "pdb-monitoring-release");
    assert.deepEqual(pdbProblems(monitoring.chartDefaults, valuesOf(release)), []);
    const merged = mergeValues(monitoring.chartDefaults.values, valuesOf(release));
    const budgets = monitoring.chartDefaults.pdbs
      .filter((p) => p.component === "prometheus" || p.component === "alertmanager")
      .map((p) => effectivePdb(p, merged));
    assert.deepEqual(budgets, [
      { component: "alertmanager", replicas: 3, rendered: true, minAvailable: 2 },
      { component: "prometheus", replicas: 2, rendered: true, minAvailable: 1 },
    ]);
  });
});

describe("Helm releases: chart defaults the platform overrides", () => {
  for (const stack of ["staging", "prod"] as const) {
    it(`${stack}: the load balancer controller's pod webhook fails closed (effective failurePolicy Fail, over the chart's Ignore)`, async () => {
      const release = named(await shippedStack(stack), RELEASE, `${stack}-aws-load-balancer-controller-release`);
      assert.equal(valueAt(albController.chartDefaults.values, "podMutatorWebhookConfig.failurePolicy"), "Ignore", "the chart default this overrides");
      const merged = mergeValues(albController.chartDefaults.values, valuesOf(release));
      assert.equal(valueAt(merged, "podMutatorWebhookConfig.failurePolicy"), "Fail");
      // Failing closed is only tolerable with a standby replica and a budget keeping one up.
      const controller = albController.chartDefaults.pdbs[0];
      assert.deepEqual(effectivePdb(controller, merged), { component: "controller", replicas: 2, rendered: true, maxUnavailable: 1 });
    });
  }
});
