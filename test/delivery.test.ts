/**
 * The delivery dashboard, its data sources, roles and alerts, over what each stack declares:
 * every panel's query names a data source the monitoring release provisions and only dimensions
 * the stack declares (the load balancer and the colors' target groups, found by the controller's
 * tags as the stack's own Ingresses, Services and controller make them); the thresholds are the
 * services' canary analysis; the alerts read series the exporter's configuration exports, under
 * the names YACE gives them; the roles trust exactly the service accounts the charts create.
 */
import { strict as assert } from "assert";
import { CLUSTER_TAG, RESOURCE_TAG, STACK_TAG } from "../automation/adapters/albRouting";
import { unwrapSecrets } from "../automation/offline/mocks";
import { kubePrometheusStackChart } from "../infra/addons/monitoringChart";
import { forwardAction } from "../infra/lib/bluegreen";
import { CANARY_DEFAULTS } from "../infra/lib/canary";
import { CONTROLLER_TAGS, kubeStateMetricsAnnotationLabel, weightPattern } from "../infra/lib/delivery";
import { ALB_NAMESPACE, promString, yaceMetricName, yaceTagLabel } from "../infra/lib/deliveryAlerts";
import { LB_VARIABLE, targetGroupVariable } from "../infra/lib/deliveryDashboard";
import { Evaluation, evaluateStack, Json, named, ofType, readStackConfig } from "./stack";

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const a = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("delivery dashboard and alerts: pure parts", () => {
  it("names the controller's tags exactly as the driver's ELBv2 reader does", () => {
    assert.deepEqual(CONTROLLER_TAGS, { cluster: CLUSTER_TAG, stack: STACK_TAG, resource: RESOURCE_TAG });
  });

  it("kube-state-metrics' label for an annotation: annotation_ + sanitized, snake-cased key", () => {
    assert.equal(kubeStateMetricsAnnotationLabel("alb.ingress.kubernetes.io/actions.student-live"), "annotation_alb_ingress_kubernetes_io_actions_student_live");
    assert.equal(kubeStateMetricsAnnotationLabel("example.com/fooBar"), "annotation_example_com_foo_bar");
  });

  it("the weight pattern reads each color's weight out of the program's forward action, at every weight", () => {
    for (const [active, canary, blue, green] of [["blue", undefined, 100, 0], ["green", undefined, 0, 100], ["blue", 25, 75, 25], ["green", 5, 5, 95]] as const) {
      const json = JSON.stringify(forwardAction("student", 8080, active, canary));
      assert.equal(new RegExp(`^${weightPattern("student", 8080, "blue")}$`).exec(json)?.[1], String(blue));
      assert.equal(new RegExp(`^${weightPattern("student", 8080, "green")}$`).exec(json)?.[1], String(green));
    }
    // Another service's action never matches (names are anchored in the JSON).
    assert.equal(new RegExp(`^${weightPattern("student", 8080, "blue")}$`).test(JSON.stringify(forwardAction("subject", 8080, "blue"))), false);
  });

  it("YACE's series and tag label names, as its Go code builds them", () => {
    // Examples from YACE v0.67.0's README and tests.
    assert.equal(yaceMetricName("AWS/EC2", "CPUUtilization", "Maximum"), "aws_ec2_cpuutilization_maximum");
    assert.equal(yaceMetricName("AWS/Glue", "glue.driver.aggregate.bytesRead", "Sum"), "aws_glue_driver_aggregate_bytes_read_sum");
    assert.equal(yaceMetricName(ALB_NAMESPACE, "RequestCount", "Sum"), "aws_applicationelb_request_count_sum");
    assert.equal(yaceMetricName(ALB_NAMESPACE, "HTTPCode_Target_5XX_Count", "Sum"), "aws_applicationelb_httpcode_target_5_xx_count_sum");
    assert.equal(yaceMetricName(ALB_NAMESPACE, "TargetResponseTime", "p99"), "aws_applicationelb_target_response_time_p99");
    assert.equal(yaceMetricName(ALB_NAMESPACE, "UnHealthyHostCount", "Maximum"), "aws_applicationelb_un_healthy_host_count_maximum");
    assert.equal(promString("Usage %"), "usage__percent");
    assert.equal(yaceTagLabel("ingress.k8s.aws/resource"), "tag_ingress_k8s_aws_resource");
    assert.equal(yaceTagLabel("kubernetes.io/service-name"), "tag_kubernetes_io_service_name");
  });
});

/** What the stack declares that the dashboard and alerts must agree with. */
interface Declared {
  readonly region: string;
  readonly clusterName: string;
  /** `<namespace>/<ingress>-<color Service>:<port>` of every color Service a live forward action names. */
  readonly targetGroups: ReadonlyMap<string, { service: string; color: string }>;
  readonly ingressGroups: ReadonlySet<string>;
  /** uid -> type of every data source the monitoring release provisions. */
  readonly datasources: ReadonlyMap<string, string>;
  readonly monitoringValues: Obj;
  readonly monitoringNamespace: string;
}

function declared(ev: Evaluation, stack: string): Declared {
  const config = readStackConfig(stack);
  const alb = ofType(ev, RELEASE).find((r) => r.inputs["chart"] === "aws-load-balancer-controller");
  assert.ok(alb, "the ALB controller release");
  const targetGroups = new Map<string, { service: string; color: string }>();
  const ingressGroups = new Set<string>();
  for (const ing of ofType(ev, "kubernetes:networking.k8s.io/v1:Ingress")) {
    const meta = o(ing.inputs["metadata"]);
    const annotations = o(meta["annotations"]);
    for (const [key, value] of Object.entries(annotations)) {
      const m = /^alb\.ingress\.kubernetes\.io\/actions\.(.+)-live$/.exec(key);
      if (m === null || m[1] === undefined) {
        continue;
      }
      ingressGroups.add(String(annotations["alb.ingress.kubernetes.io/group.name"]));
      for (const tg of a(o(o(JSON.parse(String(value)))["ForwardConfig"])["TargetGroups"])) {
        const name = String(o(tg)["ServiceName"]);
        const svc = ofType(ev, "kubernetes:core/v1:Service").find((s) => o(s.inputs["metadata"])["name"] === name);
        assert.ok(svc, `the forward action names Service ${name}, which the stack declares`);
        const port = o(a(o(svc.inputs["spec"])["ports"])[0])["port"];
        targetGroups.set(`${String(meta["namespace"])}/${String(meta["name"])}-${name}:${String(port)}`, { service: m[1], color: name.slice(m[1].length + 1) });
      }
    }
  }
  const monitoring = ofType(ev, RELEASE).find((r) => r.inputs["chart"] === "kube-prometheus-stack");
  assert.ok(monitoring);
  const values = o(unwrapSecrets(monitoring.inputs["values"]));
  const grafana = o(values["grafana"]);
  const chartSidecar = kubePrometheusStackChart.values.grafana.sidecar.datasources;
  const datasources = new Map<string, string>([
    [chartSidecar.uid, "prometheus"],
    [chartSidecar.alertmanager.uid, "alertmanager"],
    ...a(grafana["additionalDataSources"]).map((d) => [String(o(d)["uid"]), String(o(d)["type"])] as [string, string]),
  ]);
  return {
    region: String(config["aws:region"]),
    clusterName: String(o(unwrapSecrets(alb.inputs["values"]))["clusterName"]),
    targetGroups,
    ingressGroups,
    datasources,
    monitoringValues: values,
    monitoringNamespace: String(monitoring.inputs["namespace"]),
  };
}

function analysisOf(stack: string, service: string): typeof CANARY_DEFAULTS.analysis {
  const entry = (readStackConfig(stack)["platform:services"] as Array<Record<string, Json>>).find((s) => s["name"] === service);
  const rollout = o(entry?.["rollout"]);
  return rollout["strategy"] === "canary" ? { ...CANARY_DEFAULTS.analysis, ...(o(rollout["analysis"]) as Partial<typeof CANARY_DEFAULTS.analysis>) } : CANARY_DEFAULTS.analysis;
}

for (const stack of ["staging", "prod"] as const) {
  describe(`delivery dashboard and alerts (${stack})`, () => {
    let ev: Evaluation;
    let d: Declared;
    let dashboard: Obj;
    before(async () => {
      ev = await evaluateStack(stack);
      d = declared(ev, stack);
      const cm = named(ev, "kubernetes:core/v1:ConfigMap", `${stack}-delivery-dashboard`);
      dashboard = o(JSON.parse(String(Object.values(o(cm.inputs["data"]))[0])));
    });

    it("is a ConfigMap the chart's dashboard sidecar loads (its label and value at the pinned chart), in the monitoring namespace", () => {
      const cm = named(ev, "kubernetes:core/v1:ConfigMap", `${stack}-delivery-dashboard`);
      const sidecar = kubePrometheusStackChart.values.grafana.sidecar.dashboards;
      assert.deepEqual(o(cm.inputs["metadata"])["labels"], { [sidecar.label]: sidecar.labelValue });
      assert.equal(o(cm.inputs["metadata"])["namespace"], d.monitoringNamespace);
      assert.equal(Object.keys(o(cm.inputs["data"])).length, 1);
    });

    it("every panel and query names a data source the monitoring release provisions, of that type", () => {
      const panels = a(dashboard["panels"]).map(o).filter((p) => p["type"] !== "row");
      assert.ok(panels.length > 0);
      const refs = [...panels.map((p) => p["datasource"]), ...panels.flatMap((p) => a(p["targets"]).map((t) => o(t)["datasource"])), ...a(o(dashboard["annotations"])["list"]).map((x) => o(x)["datasource"]), ...a(o(dashboard["templating"])["list"]).map((x) => o(x)["datasource"])];
      for (const ref of refs.map(o)) {
        assert.equal(d.datasources.get(String(ref["uid"])), ref["type"], `data source ${JSON.stringify(ref)} is not provisioned (provisioned: ${JSON.stringify([...d.datasources])})`);
      }
    });

    it("every CloudWatch query reads only the stack's load balancer and its colors' target groups, through variables found by the controller's tags", () => {
      const variables = new Map(a(o(dashboard["templating"])["list"]).map((v) => [String(o(v)["name"]), o(v)] as const));
      const lb = o(variables.get(LB_VARIABLE)?.["query"]);
      assert.deepEqual([lb["queryType"], lb["region"], lb["resourceType"]], ["resourceARNs", d.region, "elasticloadbalancing:loadbalancer"]);
      assert.deepEqual(lb["tags"], { [CLUSTER_TAG]: [d.clusterName], [STACK_TAG]: [...d.ingressGroups] });
      const covered = new Set<string>();
      for (const [name, v] of variables) {
        if (name === LB_VARIABLE) {
          continue;
        }
        const q = o(v["query"]);
        const tags = o(q["tags"]);
        const resource = String(a(tags[RESOURCE_TAG])[0]);
        const tg = d.targetGroups.get(resource);
        assert.ok(tg !== undefined, `variable ${name} looks for target group ${resource}, which no declared forward action has`);
        assert.equal(name, targetGroupVariable(tg.service, tg.color === "green" ? "green" : "blue"));
        assert.deepEqual(tags, { [CLUSTER_TAG]: [d.clusterName], [RESOURCE_TAG]: [resource] }, "scoped to this cluster: another stack's groups carry the same resource tag");
        assert.deepEqual([q["queryType"], q["region"], q["resourceType"], v["regex"]], ["resourceARNs", d.region, "elasticloadbalancing:targetgroup", "/:(targetgroup\\/.+)$/"]);
        covered.add(resource);
      }
      assert.deepEqual([...covered].sort(), [...d.targetGroups.keys()].sort(), "every color of every service has its variable");
      for (const p of a(dashboard["panels"]).map(o)) {
        const targets = a(p["targets"]).map(o);
        const ids = new Set(targets.map((t) => String(t["id"] ?? "")).filter((id) => id !== ""));
        for (const t of targets.filter((x) => o(x["datasource"])["type"] === "cloudwatch")) {
          assert.equal(t["region"], d.region);
          if (t["metricEditorMode"] === 1) {
            const refs = String(t["expression"]).match(/[a-z][a-zA-Z0-9_]*(?=\b)/g)?.filter((w) => w !== "FILL") ?? [];
            assert.ok(refs.length > 0 && refs.every((r) => ids.has(r)), `${String(p["title"])}: ${String(t["expression"])} names only this panel's ids (${[...ids].join(", ")})`);
            continue;
          }
          assert.equal(t["namespace"], "AWS/ApplicationELB");
          const dims = o(t["dimensions"]);
          assert.deepEqual(Object.keys(dims).sort(), ["LoadBalancer", "TargetGroup"]);
          assert.equal(dims["LoadBalancer"], `$${LB_VARIABLE}`);
          const tgVar = String(dims["TargetGroup"]).slice(1);
          assert.ok(variables.has(tgVar), `${String(p["title"])} reads $${tgVar}, which is not a variable`);
          assert.equal(t["label"], tgVar.slice(tgVar.lastIndexOf("_") + 1), "each series is labelled with its color");
        }
      }
    });

    it("draws each service's canary thresholds as lines: 5xx ratio in percent, p99 in seconds", () => {
      for (const service of new Set([...d.targetGroups.values()].map((t) => t.service))) {
        const analysis = analysisOf(stack, service);
        const panel = (suffix: string): Obj => o(a(dashboard["panels"]).map(o).find((p) => p["title"] === `${service}: ${suffix}`));
        const line = (p: Obj): unknown => [o(o(o(p["fieldConfig"])["defaults"])["custom"])["thresholdsStyle"], a(o(o(o(p["fieldConfig"])["defaults"])["thresholds"])["steps"]).map((s) => o(s)["value"])];
        assert.deepEqual(line(panel("5xx ratio")), [{ mode: "line" }, [null, analysis.max5xxRatio * 100]]);
        assert.deepEqual(line(panel("p99 latency")), [{ mode: "line" }, [null, analysis.maxP99Ms / 1000]]);
      }
    });

    it("reads the weights from the annotations kube-state-metrics is told to export, and the pattern reads the declared ones", () => {
      const allow = a(o(d.monitoringValues["kube-state-metrics"])["metricAnnotationsAllowList"]);
      const services = [...new Set([...d.targetGroups.values()].map((t) => t.service))];
      const configured = (readStackConfig(stack)["platform:services"] as Array<Record<string, Json>>).map((x) => String(x["name"]));
      assert.deepEqual([...services].sort(), [...configured].sort());
      assert.deepEqual(allow, [`ingresses=[${configured.map((s) => `alb.ingress.kubernetes.io/actions.${s}-live`).join(",")}]`]);
      for (const service of services) {
        const stat = o(a(dashboard["panels"]).map(o).find((p) => p["title"] === `${service}: weights asked for`));
        const expr = String(o(a(stat["targets"])[0])["expr"]);
        assert.ok(expr.includes(`"${kubeStateMetricsAnnotationLabel(`alb.ingress.kubernetes.io/actions.${service}-live`)}"`), expr);
        const ingress = named(ev, "kubernetes:networking.k8s.io/v1:Ingress", `${service}-ingress`);
        const action = String(o(o(ingress.inputs["metadata"])["annotations"])[`alb.ingress.kubernetes.io/actions.${service}-live`]);
        const declaredWeights = a(o(o(JSON.parse(action))["ForwardConfig"])["TargetGroups"]).map((t) => String(o(t)["Weight"]));
        const patterns = [...expr.matchAll(/`([^`]+)`/g)].map((m) => new RegExp(`^${m[1] ?? ""}$`));
        assert.deepEqual(patterns.map((re) => re.exec(action)?.[1]), declaredWeights);
      }
    });

    it("alerts on the same thresholds, on series the exporter exports, for exactly the declared target groups", () => {
      const exporter = named(ev, RELEASE, `${stack}-delivery-exporter-release`);
      const values = o(unwrapSecrets(exporter.inputs["values"]));
      // The exporter's config as YACE reads it (the chart writes it verbatim into config.yml).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const config = o((require("yaml") as { parse: (t: string) => unknown }).parse(String(values["config"])));
      const job = o(a(o(config["discovery"])["jobs"])[0]);
      // searchTags values are regular expressions (YACE compiles them): each matches exactly the declared value.
      const tags = a(job["searchTags"]).map(o);
      assert.deepEqual(tags.map((t) => t["key"]), [CLUSTER_TAG, STACK_TAG]);
      for (const [t, value] of [[tags[0], d.clusterName], [tags[1], [...d.ingressGroups][0] ?? ""]] as const) {
        const re = new RegExp(String(t?.["value"]));
        assert.deepEqual([re.test(value), re.test(`${value}-other`), re.test(`other-${value}`)], [true, false, false], String(t?.["value"]));
      }
      assert.deepEqual(o(o(config["discovery"])["exportedTagsOnMetrics"]), { [ALB_NAMESPACE]: [RESOURCE_TAG] });
      const exported = new Set(a(job["metrics"]).flatMap((m) => a(o(m)["statistics"]).map((s) => yaceMetricName(String(job["type"]), String(o(m)["name"]), String(s)))));
      const rule = named(ev, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", `${stack}-delivery-alerts`);
      const rules = a(o(a(o(rule.inputs["spec"])["groups"])[0])["rules"]).map(o);
      const seen = new Set<string>();
      for (const r of rules) {
        const expr = String(r["expr"]);
        const read = expr.match(/\baws_[a-z0-9_]+(?=\{)/g) ?? [];
        assert.ok(read.length >= 2, `${expr} reads a series and the request count`);
        for (const series of read) {
          assert.ok(exported.has(series), `${String(r["alert"])} reads ${series}, which the exporter does not export (${[...exported].join(", ")})`);
        }
        const resources = [...expr.matchAll(new RegExp(`${yaceTagLabel(RESOURCE_TAG)}="([^"]+)"`, "g"))].map((m) => m[1] ?? "");
        assert.ok(resources.length > 0 && new Set(resources).size === 1, expr);
        const tg = d.targetGroups.get(resources[0] ?? "");
        assert.ok(tg !== undefined, `${String(r["alert"])} watches ${resources[0] ?? ""}, which no declared forward action has`);
        const labels = o(r["labels"]);
        assert.deepEqual([labels["service"], labels["color"], labels["namespace"]], [tg.service, tg.color, "apps"]);
        const analysis = analysisOf(stack, tg.service);
        const threshold = r["alert"] === "DeliveryHigh5xxRatio" ? `> ${analysis.max5xxRatio})` : `> ${analysis.maxP99Ms})`;
        assert.ok(expr.includes(threshold) && expr.includes(`>= ${analysis.minRequests})`), expr);
        seen.add(`${String(r["alert"])} ${resources[0] ?? ""}`);
      }
      assert.equal(seen.size, d.targetGroups.size * 2, "a 5xx and a latency alert per color of every service");
      assert.deepEqual(rule.inputs["metadata"], { name: "platform-delivery", namespace: d.monitoringNamespace });
    });

    it("gives Grafana and the exporter their own roles, trusted by exactly the service accounts their charts create, with read-only metrics permissions", () => {
      const doc = (v: unknown): Obj => o(typeof v === "string" ? JSON.parse(v) : v);
      const trust = (role: string): unknown => o(o(a(doc(named(ev, "aws:iam/role:Role", role).inputs["assumeRolePolicy"])["Statement"])[0])["Condition"])["StringEquals"];
      const subjects = (role: string): unknown => Object.entries(o(trust(role))).find(([k]) => k.endsWith(":sub"))?.[1];
      assert.deepEqual(subjects(`${stack}-monitoring-grafana-cloudwatch-role`), [`system:serviceaccount:${d.monitoringNamespace}:${String(o(d.monitoringValues["grafana"])["fullnameOverride"])}`]);
      assert.deepEqual(subjects(`${stack}-delivery-exporter-irsa-role`), [`system:serviceaccount:${d.monitoringNamespace}:${String(o(unwrapSecrets(named(ev, RELEASE, `${stack}-delivery-exporter-release`).inputs["values"]))["fullnameOverride"])}`]);
      const actions = (policy: string): string[] => a(doc(named(ev, "aws:iam/rolePolicy:RolePolicy", policy).inputs["policy"])["Statement"]).flatMap((s) => a(o(s)["Action"]).map(String)).sort();
      assert.deepEqual(actions(`${stack}-monitoring-grafana-cloudwatch-cloudwatch`), ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "tag:GetResources"]);
      assert.deepEqual(actions(`${stack}-delivery-exporter-irsa-cloudwatch`), ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "tag:GetResources"]);
      const grafana = o(d.monitoringValues["grafana"]);
      assert.match(String(o(o(grafana["serviceAccount"])["annotations"])["eks.amazonaws.com/role-arn"]), new RegExp(`role/${stack}-monitoring-grafana-cloudwatch-role$`));
      assert.deepEqual(o(a(grafana["additionalDataSources"])[0])["jsonData"], { authType: "default", defaultRegion: d.region });
    });
  });
}

describe("delivery dashboard and alerts: switches", () => {
  const deliveryTypes = (ev: Evaluation): string[] =>
    ev.resources.filter((r) => r.name.includes("delivery") || r.name.includes("grafana-cloudwatch")).map((r) => `${r.type}::${r.name}`);

  it("observability.monitoring.delivery: false declares none of it, and no data source or allow-list", async () => {
    const ev = await evaluateStack("staging", (c) => {
      const obs = o((c["platform:observability"] ??= {}));
      obs["monitoring"] = { ...o(obs["monitoring"]), delivery: false } as Json;
    });
    assert.deepEqual(deliveryTypes(ev), []);
    const values = o(unwrapSecrets(ofType(ev, RELEASE).find((r) => r.inputs["chart"] === "kube-prometheus-stack")?.inputs["values"]));
    assert.equal(o(values["grafana"])["additionalDataSources"], undefined);
    assert.equal(o(values["kube-state-metrics"])["metricAnnotationsAllowList"], undefined);
  });

  it("the test host (no cluster) has none of it", async () => {
    assert.deepEqual(deliveryTypes(await evaluateStack("test")), []);
  });

  it("a canary service's own thresholds reach the dashboard and the alerts", async () => {
    const ev = await evaluateStack("staging", (c) => {
      const services = c["platform:services"] as Array<Record<string, Json>>;
      (services[0] as Record<string, Json>)["rollout"] = { strategy: "canary", analysis: { max5xxRatio: 0.002, maxP99Ms: 750, minRequests: 40 } };
    });
    const rule = named(ev, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "staging-delivery-alerts");
    const exprs = a(o(a(o(rule.inputs["spec"])["groups"])[0])["rules"]).map((r) => String(o(r)["expr"])).filter((e) => e.includes("student-student-green"));
    assert.ok(exprs.some((e) => e.includes("> 0.002)") && e.includes(">= 40)")));
    assert.ok(exprs.some((e) => e.includes("> 750)")));
    const cm = named(ev, "kubernetes:core/v1:ConfigMap", "staging-delivery-dashboard");
    const dash = o(JSON.parse(String(Object.values(o(cm.inputs["data"]))[0])));
    const row = a(dash["panels"]).map(o).find((p) => p["type"] === "row" && String(p["title"]).startsWith("student"));
    assert.equal(row?.["title"], "student (canary)");
  });
});
