/**
 * The delivery dashboard, generated: per service and color the request rate, 5xx ratio and p99
 * latency from the ALB's own CloudWatch metrics, the share of traffic each color actually got,
 * the weights the Ingress asks for, and the canary analysis thresholds drawn as lines. Pure JSON,
 * provisioned through Grafana's dashboard sidecar (infra/monitoring/deliveryDashboard.ts).
 *
 * Facts it relies on:
 * - Grafana's CloudWatch data source (Grafana 12.3.0, the grafana chart 10.2.0's appVersion):
 *   metric queries `{ queryMode: "Metrics", metricQueryType: 0 (Search), metricEditorMode: 0
 *   (Builder) | 1 (Code), namespace, metricName, dimensions, statistic, period, region, id,
 *   expression }` (public/app/plugins/datasource/cloudwatch dataquery); a Code-mode `expression`
 *   is CloudWatch metric math over the `id`s of the panel's other queries, which run while hidden
 *   when they have an id (grafana/grafana#50987, since 9.0.1); template variables of
 *   `queryType: "resourceARNs"` list the ARNs of resources with the given tags (tag:GetResources),
 *   and a variable `regex` with a capture group keeps the captured part.
 * - The target groups and the load balancer are found by the controller's tags (./delivery.ts);
 *   their CloudWatch dimension values are the ARN suffixes `targetgroup/<name>/<id>` and
 *   `app/<name>/<id>`.
 * - The requested weights come from kube-state-metrics' `kube_ingress_annotations` (labels
 *   `namespace`, `ingress` and one per allow-listed annotation: kube-state-metrics v2.17.0
 *   internal/store/ingress.go), which the monitoring release allow-lists for the services' live
 *   actions. The driver cannot post Grafana annotations (Grafana is private), so the steps show
 *   as annotations drawn from that same series: a new weight is a new series.
 */
import type { Color } from "../domain";
import { CONTROLLER_TAGS, DELIVERY_COLORS, DeliveryService, DeliveryStack, kubeStateMetricsAnnotationLabel, liveActionAnnotationKey, targetGroupResourceTag, weightPattern } from "./delivery";

/** The data sources the dashboard queries, by uid: CloudWatch (provisioned beside the chart's), and the chart's Prometheus. */
export const DASHBOARD_DATASOURCES = {
  cloudwatch: { type: "cloudwatch", uid: "cloudwatch" },
  prometheus: { type: "prometheus", uid: "prometheus" },
} as const;

export const DASHBOARD_UID = "platform-delivery";

type Panel = Record<string, unknown>;
type Target = Record<string, unknown>;

/** The dashboard variable holding the load balancer's dimension value. */
export const LB_VARIABLE = "lb";

/** The dashboard variable holding a color's target group dimension value. */
export function targetGroupVariable(service: string, color: Color): string {
  return `tg_${service.replace(/-/g, "_")}_${color}`;
}

function resourceArnsVariable(name: string, stack: DeliveryStack, resourceType: string, tags: Record<string, string[]>, regex: string): Record<string, unknown> {
  return {
    name,
    type: "query",
    hide: 2,
    refresh: 1,
    includeAll: false,
    multi: false,
    datasource: DASHBOARD_DATASOURCES.cloudwatch,
    query: { queryType: "resourceARNs", region: stack.region, resourceType, tags, refId: name },
    regex,
  };
}

/** The load balancer and every color's target group, found by the controller's tags; values are the CloudWatch dimension values. */
export function dashboardVariables(stack: DeliveryStack): Array<Record<string, unknown>> {
  const cluster = { [CONTROLLER_TAGS.cluster]: [stack.clusterName] };
  return [
    resourceArnsVariable(LB_VARIABLE, stack, "elasticloadbalancing:loadbalancer", { ...cluster, [CONTROLLER_TAGS.stack]: [stack.ingressGroup] }, "/:loadbalancer\\/(app\\/.+)$/"),
    ...stack.services.flatMap((s) =>
      DELIVERY_COLORS.map((c) =>
        resourceArnsVariable(targetGroupVariable(s.name, c), stack, "elasticloadbalancing:targetgroup", { ...cluster, [CONTROLLER_TAGS.resource]: [targetGroupResourceTag(s, c)] }, "/:(targetgroup\\/.+)$/"),
      ),
    ),
  ];
}

/** One CloudWatch series of one color's target group. */
function metric(stack: DeliveryStack, s: DeliveryService, color: Color, refId: string, metricName: string, statistic: string, opts: { readonly id?: string; readonly hide?: boolean } = {}): Target {
  return {
    refId,
    datasource: DASHBOARD_DATASOURCES.cloudwatch,
    queryMode: "Metrics",
    metricQueryType: 0,
    metricEditorMode: 0,
    region: stack.region,
    namespace: "AWS/ApplicationELB",
    metricName,
    statistic,
    period: "60",
    matchExact: true,
    dimensions: { LoadBalancer: `$${LB_VARIABLE}`, TargetGroup: `$${targetGroupVariable(s.name, color)}` },
    id: opts.id ?? "",
    label: color,
    ...(opts.hide === true ? { hide: true } : {}),
  };
}

/** CloudWatch metric math over the panel's hidden, id'd series. */
function expression(stack: DeliveryStack, refId: string, expr: string, label: string): Target {
  return { refId, datasource: DASHBOARD_DATASOURCES.cloudwatch, queryMode: "Metrics", metricQueryType: 0, metricEditorMode: 1, region: stack.region, namespace: "", id: "", expression: expr, label };
}

/** Threshold lines: green below `max`, red above, drawn as a line on the graph. */
function thresholdLine(max: number): Record<string, unknown> {
  return { mode: "absolute", steps: [{ color: "green", value: null }, { color: "red", value: max }] };
}

function timeseries(title: string, description: string, targets: Target[], unit: string, gridPos: Record<string, number>, max?: number): Panel {
  return {
    type: "timeseries",
    title,
    description,
    datasource: DASHBOARD_DATASOURCES.cloudwatch,
    gridPos,
    targets,
    fieldConfig: {
      defaults: {
        unit,
        ...(max !== undefined ? { thresholds: thresholdLine(max), custom: { thresholdsStyle: { mode: "line" } } } : { custom: { thresholdsStyle: { mode: "off" } } }),
      },
      overrides: DELIVERY_COLORS.map((c) => ({ matcher: { id: "byName", options: c }, properties: [{ id: "color", value: { mode: "fixed", fixedColor: c } }] })),
    },
    options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
  };
}

/**
 * The weights the service's Ingress asks for, from kube-state-metrics: `label_replace` copies each
 * color's weight out of the annotation's JSON into a label of its own (PromQL backtick strings are
 * raw, so the pattern goes to RE2 as written).
 */
export function requestedWeightsQuery(s: DeliveryService): string {
  const label = kubeStateMetricsAnnotationLabel(liveActionAnnotationKey(s.name));
  let expr = `kube_ingress_annotations{namespace="${s.namespace}",ingress="${s.name}"}`;
  for (const c of DELIVERY_COLORS) {
    expr = `label_replace(${expr}, "${c}", "$1", "${label}", \`${weightPattern(s.name, s.port, c)}\`)`;
  }
  return expr;
}

function servicePanels(stack: DeliveryStack, s: DeliveryService, y: number): Panel[] {
  const a = s.analysis;
  const rollout = s.canary ? "canary" : "blue/green (these are the thresholds a `flip --steps` canary would be judged by)";
  const ids = (metricName: string, statistic: string, key: string): Target[] =>
    DELIVERY_COLORS.map((c, i) => metric(stack, s, c, `${key}${i}`, metricName, statistic, { id: `${key}_${c}`, hide: true }));
  const row: Panel = { type: "row", title: `${s.name} (${s.canary ? "canary" : "blue/green"})`, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] };
  const w = 6;
  const at = (i: number): Record<string, number> => ({ h: 8, w, x: i * w, y: y + 1 });
  return [
    row,
    timeseries(
      `${s.name}: requests per minute`,
      "RequestCount (Sum, 1 minute) of each color's target group, as the ALB counted them.",
      DELIVERY_COLORS.map((c, i) => metric(stack, s, c, `R${i}`, "RequestCount", "Sum")),
      "short",
      at(0),
    ),
    timeseries(
      `${s.name}: 5xx ratio`,
      `HTTPCode_Target_5XX_Count / RequestCount per color, percent. The line is the analysis threshold (max5xxRatio ${a.max5xxRatio}); rollout: ${rollout}.`,
      [...ids("RequestCount", "Sum", "requests"), ...ids("HTTPCode_Target_5XX_Count", "Sum", "errors"), ...DELIVERY_COLORS.map((c, i) => expression(stack, `E${i}`, `100 * FILL(errors_${c}, 0) / requests_${c}`, c))],
      "percent",
      at(1),
      a.max5xxRatio * 100,
    ),
    timeseries(
      `${s.name}: p99 latency`,
      `TargetResponseTime p99 per color. The line is the analysis threshold (maxP99Ms ${a.maxP99Ms}); a canary also fails above ${a.maxP99Ratio}x the stable color's p99.`,
      DELIVERY_COLORS.map((c, i) => metric(stack, s, c, `L${i}`, "TargetResponseTime", "p99")),
      "s",
      at(2),
      a.maxP99Ms / 1000,
    ),
    timeseries(
      `${s.name}: traffic share`,
      "The share of requests each color actually got (RequestCount per color over both): the weights as the ALB applied them, visible a minute later.",
      [...ids("RequestCount", "Sum", "share"), ...DELIVERY_COLORS.map((c, i) => expression(stack, `S${i}`, `100 * FILL(share_${c}, 0) / (FILL(share_blue, 0) + FILL(share_green, 0))`, c))],
      "percent",
      at(3),
    ),
    {
      type: "stat",
      title: `${s.name}: weights asked for`,
      description: `The live forward action of Ingress ${s.namespace}/${s.name} now (kube-state-metrics); the load balancer applies it after the controller reconciles.`,
      datasource: DASHBOARD_DATASOURCES.prometheus,
      gridPos: { h: 3, w: 24, x: 0, y: y + 9 },
      targets: [{ refId: "W", datasource: DASHBOARD_DATASOURCES.prometheus, expr: requestedWeightsQuery(s), instant: true, legendFormat: "blue {{blue}} / green {{green}}" }],
      options: { textMode: "name", colorMode: "none", graphMode: "none", reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false } },
    },
  ];
}

/** Each change of the requested weights, as an annotation on every panel. */
function weightAnnotations(stack: DeliveryStack): Array<Record<string, unknown>> {
  return stack.services.map((s) => ({
    name: `${s.name} weights`,
    enable: true,
    iconColor: "purple",
    datasource: DASHBOARD_DATASOURCES.prometheus,
    expr: requestedWeightsQuery(s),
    step: "60s",
    titleFormat: `${s.name} weights`,
    textFormat: "blue {{blue}} / green {{green}}",
    useValueForTime: false,
  }));
}

/** The whole dashboard for one stack. */
export function deliveryDashboard(stack: DeliveryStack): Record<string, unknown> {
  const rowHeight = 12;
  return {
    uid: DASHBOARD_UID,
    title: `Delivery (${stack.environment})`,
    description: "Blue/green and canary rollouts: per service and color, from the ALB's CloudWatch metrics; thresholds are the canary analysis'.",
    tags: ["platform", "delivery", stack.environment],
    editable: false,
    schemaVersion: 39,
    time: { from: "now-3h", to: "now" },
    refresh: "1m",
    templating: { list: dashboardVariables(stack) },
    annotations: { list: weightAnnotations(stack) },
    panels: stack.services.flatMap((s, i) => servicePanels(stack, s, i * rowHeight)),
  };
}
