/**
 * Alerts for the same 5xx and latency thresholds a canary is judged by, pure: the configuration
 * of the CloudWatch exporter that brings the ALB's per-target-group metrics into Prometheus
 * (YACE), and the PrometheusRule that alerts on them; Alertmanager routes them to Discord like
 * every other alert of the stack.
 *
 * Why an exporter and a PrometheusRule, not Grafana-managed alerts on the CloudWatch data source:
 * a color's target group is known only by the controller's tags (its name ends in a hash of the
 * Service's UID, ./delivery.ts), and Grafana alert queries take no template variables, so a
 * Grafana rule cannot name the target group; YACE discovers resources by tag (tag:GetResources)
 * and puts the tag on every series (`exportedTagsOnMetrics`). It also keeps alerting on the path
 * every other alert takes (Prometheus -> Alertmanager -> Discord), with no second Alertmanager
 * route to maintain, and off the single Grafana pod.
 *
 * YACE facts (yet-another-cloudwatch-exporter v0.67.0, which chart 0.47.0 runs):
 * - metric names are `aws_<namespace>_<metric>_<statistic>` with each part converted by
 *   `PromString` (lower case, `_` before an upper-case letter that follows a lower-case letter or a
 *   digit, separators to `_`): pkg/promutil/migrate.go BuildMetricName, prometheus.go
 *   PromStringToBuilder; `yaceMetricName` below is the same conversion;
 * - tags become `tag_<key>` labels with `.`, `/`, `-` (and other separators) as `_`
 *   (prometheus.go sanitize, migrate.go createPrometheusLabels);
 * - AWS/ApplicationELB discovers `elasticloadbalancing:loadbalancer/app` and
 *   `elasticloadbalancing:targetgroup`; a metric with TargetGroup and LoadBalancer dimensions is
 *   associated with its target group (pkg/config/services.go, pkg/job/maxdimassociator: the
 *   target-group mapping comes first), so its series carries the target group's tags;
 * - `searchTags` values are regular expressions, all of which must match; `nilToZero` reports 0
 *   instead of NaN when CloudWatch has no datapoint (docs/configuration.md).
 */
import type { Color } from "../domain";
import { CONTROLLER_TAGS, DELIVERY_COLORS, DeliveryService, DeliveryStack, targetGroupResourceTag } from "./delivery";

export const ALB_NAMESPACE = "AWS/ApplicationELB";
/** The exporter's window: one 5-minute sum per scrape, ending 2 minutes ago (ALB datapoints arrive within about a minute). */
export const EXPORTER_PERIOD_SECONDS = 300;
export const EXPORTER_DELAY_SECONDS = 120;

/** PromString of YACE v0.67.0 (pkg/promutil/prometheus.go PromStringToBuilder). */
export function promString(text: string): string {
  let out = "";
  let prev = "";
  for (const c of text) {
    if (" ,\t/\\.-:=@<>()“".includes(c)) {
      out += "_";
    } else if (c === "%") {
      out += "_percent";
    } else {
      const upper = c !== c.toLowerCase() && c === c.toUpperCase();
      if (upper && (/[a-z]/.test(prev) || /[0-9]/.test(prev))) {
        out += "_";
      }
      out += c.toLowerCase();
    }
    prev = c;
  }
  return out;
}

/** The series name YACE exports for `metric` with `statistic` (pkg/promutil/migrate.go BuildMetricName). */
export function yaceMetricName(namespace: string, metric: string, statistic: string): string {
  const ns = promString(namespace.replace(/^\//, "").toLowerCase());
  const prefix = ns.startsWith("aws") ? ns : `aws_${ns}`;
  let name = promString(metric);
  let skip = 0;
  for (const part of ns.split("_")) {
    if (name.slice(skip).startsWith(part)) {
      skip = part.length;
    }
  }
  name = name.slice(skip).replace(/^_/, "");
  return `${prefix}_${name}_${promString(statistic)}`;
}

/** The label YACE puts a resource tag in (pkg/promutil/prometheus.go sanitize). */
export function yaceTagLabel(key: string): string {
  return `tag_${key.replace(/[ ,\t/\\.\-:=@<>()]/g, "_")}`;
}

/** The series the alerts read, as YACE exports them. */
export const SERIES = {
  requests: { metric: "RequestCount", statistic: "Sum" },
  errors: { metric: "HTTPCode_Target_5XX_Count", statistic: "Sum" },
  p99: { metric: "TargetResponseTime", statistic: "p99" },
} as const;

function anchored(value: string): string {
  return `^${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}

/** The exporter's configuration (YAML as a JSON-compatible object): the stack's ALB and target groups, the alerts' series. */
export function exporterConfig(stack: DeliveryStack): Record<string, unknown> {
  return {
    apiVersion: "v1alpha1",
    "sts-region": stack.region,
    discovery: {
      exportedTagsOnMetrics: { [ALB_NAMESPACE]: [CONTROLLER_TAGS.resource] },
      jobs: [
        {
          type: ALB_NAMESPACE,
          regions: [stack.region],
          // Only this stack's load balancer and target groups: the controller tags both with the cluster and the IngressGroup.
          searchTags: [
            { key: CONTROLLER_TAGS.cluster, value: anchored(stack.clusterName) },
            { key: CONTROLLER_TAGS.stack, value: anchored(stack.ingressGroup) },
          ],
          period: EXPORTER_PERIOD_SECONDS,
          length: EXPORTER_PERIOD_SECONDS,
          delay: EXPORTER_DELAY_SECONDS,
          metrics: [
            { name: SERIES.requests.metric, statistics: [SERIES.requests.statistic], nilToZero: true },
            { name: SERIES.errors.metric, statistics: [SERIES.errors.statistic], nilToZero: true },
            { name: SERIES.p99.metric, statistics: [SERIES.p99.statistic] },
          ],
        },
      ],
    },
  };
}

function selector(s: DeliveryService, color: Color): string {
  return `{${yaceTagLabel(CONTROLLER_TAGS.resource)}="${targetGroupResourceTag(s, color)}"}`;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * Per service and color: the 5xx ratio above `max5xxRatio` and the p99 above `maxP99Ms`, each only
 * with at least `minRequests` requests in the exporter's 5-minute window (the canary's own bound on
 * evidence), for two windows in a row.
 */
export function deliveryAlertRules(stack: DeliveryStack): AlertRule[] {
  const requests = yaceMetricName(ALB_NAMESPACE, SERIES.requests.metric, SERIES.requests.statistic);
  const errors = yaceMetricName(ALB_NAMESPACE, SERIES.errors.metric, SERIES.errors.statistic);
  const p99 = yaceMetricName(ALB_NAMESPACE, SERIES.p99.metric, SERIES.p99.statistic);
  return stack.services.flatMap((s) =>
    DELIVERY_COLORS.flatMap((c): AlertRule[] => {
      const sel = selector(s, c);
      const enough = `sum(${requests}${sel}) >= ${s.analysis.minRequests}`;
      const labels = { severity: "warning", namespace: s.namespace, service: s.name, color: c, environment: stack.environment };
      return [
        {
          alert: "DeliveryHigh5xxRatio",
          expr: `(sum(${errors}${sel}) / sum(${requests}${sel}) > ${s.analysis.max5xxRatio}) and on() (${enough})`,
          for: "10m",
          labels,
          annotations: {
            summary: `${s.name} ${c}: 5xx ratio above ${s.analysis.max5xxRatio * 100}% in ${stack.environment}`,
            description: `${s.name}'s ${c} target group answered {{ $value | humanizePercentage }} of its requests with 5xx over 5 minutes (threshold ${s.analysis.max5xxRatio * 100}%, the canary analysis'). \`npm run platform -- status ${stack.environment}\` shows which color serves; \`rollback\` returns traffic to the other.`,
          },
        },
        {
          alert: "DeliveryHighP99Latency",
          expr: `(max(${p99}${sel}) * 1000 > ${s.analysis.maxP99Ms}) and on() (${enough})`,
          for: "10m",
          labels,
          annotations: {
            summary: `${s.name} ${c}: p99 above ${s.analysis.maxP99Ms} ms in ${stack.environment}`,
            description: `${s.name}'s ${c} target group answered with a p99 of {{ $value | humanize }} ms over 5 minutes (threshold ${s.analysis.maxP99Ms} ms, the canary analysis').`,
          },
        },
      ];
    }),
  );
}
