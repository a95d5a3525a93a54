/**
 * `CanaryMetrics` over CloudWatch: the ALB's own per-target-group metrics (`AWS/ApplicationELB`)
 * for both colors of a service, in one GetMetricData call (paginated) per analysis window.
 *
 * Facts this relies on:
 * - Wire protocol: @aws-sdk/client-cloudwatch 3.1142.0 speaks AWS JSON 1.0 (`AwsJson1_0Protocol`,
 *   target prefix `GraniteServiceVersion20100801`, `x-amzn-query-mode: true` because the service
 *   is awsQuery-compatible; dist-cjs/index.js:2030-2038), timestamps as epoch seconds
 *   (@aws-sdk/core protocols JsonCodec default format 7). test/automation/cloudwatch.test.ts
 *   answers it from a loopback endpoint in exactly that format.
 * - Dimensions: RequestCount, HTTPCode_Target_5XX_Count, TargetResponseTime and
 *   UnHealthyHostCount are published per `TargetGroup, LoadBalancer` (the ARN suffixes
 *   `targetgroup/<name>/<id>` and `app/<name>/<id>`); HTTPCode_ELB_5XX_Count only per
 *   `LoadBalancer` (and zone), so it cannot be attributed to a color and is not read
 *   (`ColorWindow.elb5xx` stays undefined). Source: Elastic Load Balancing User Guide for
 *   Application Load Balancers, "CloudWatch metrics for your Application Load Balancer".
 * - ELB publishes a metric only when it has a non-zero value or traffic flows (same page): an
 *   absent datapoint is 0 requests / 0 errors, and an absent latency or host count is "unknown".
 * - TargetResponseTime is in seconds; the port reports milliseconds.
 */
import {
  CloudWatchClient,
  CloudWatchClientConfig,
  GetMetricDataCommand,
  MetricDataQuery,
  MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import type { Color } from "../../infra/domain";
import { COLORS } from "../../infra/domain";
import { METRIC_PERIOD_SECONDS } from "../../infra/lib/canary";
import { CanaryMetrics, ColorWindow, MetricsWindowQuery } from "../ports";

export const NAMESPACE = "AWS/ApplicationELB";

/** The four series read per color, with the statistic each is aggregated by. */
export const SERIES = [
  { key: "requests", metric: "RequestCount", stat: "Sum" },
  { key: "errors", metric: "HTTPCode_Target_5XX_Count", stat: "Sum" },
  { key: "p99", metric: "TargetResponseTime", stat: "p99" },
  { key: "unhealthy", metric: "UnHealthyHostCount", stat: "Maximum" },
] as const;

type SeriesKey = (typeof SERIES)[number]["key"];

/**
 * The CloudWatch dimension value of a load balancer or target group: its ARN after `loadbalancer/`
 * (`app/<name>/<id>`) or after the resource type's colon (`targetgroup/<name>/<id>`). Throws on
 * anything else: a wrong dimension value silently returns no data, which would read as no traffic.
 */
export function dimensionOf(arn: string, kind: "loadbalancer" | "targetgroup"): string {
  const m = kind === "loadbalancer" ? /^arn:aws[\w-]*:elasticloadbalancing:[^:]*:\d*:loadbalancer\/(app\/[^/]+\/[^/]+)$/.exec(arn) : /^arn:aws[\w-]*:elasticloadbalancing:[^:]*:\d*:(targetgroup\/[^/]+\/[^/]+)$/.exec(arn);
  if (m === null || m[1] === undefined) {
    throw new Error(`not an Application Load Balancer ${kind} ARN: ${arn}`);
  }
  return m[1];
}

/** The window as CloudWatch is asked for it: whole minutes around [from, to), one period spanning all of it. */
export function alignedWindow(from: number, to: number): { readonly start: Date; readonly end: Date; readonly periodSeconds: number } {
  const minute = METRIC_PERIOD_SECONDS * 1000;
  const start = Math.floor(from / minute) * minute;
  const end = Math.max(start + minute, Math.ceil(to / minute) * minute);
  return { start: new Date(start), end: new Date(end), periodSeconds: (end - start) / 1000 };
}

/** Query ids are `<series>_<color>` (CloudWatch ids start with a lower-case letter). */
export function queryId(key: SeriesKey, color: Color): string {
  return `${key}_${color}`;
}

/** The eight metric queries of one window: four series for each color's target group. Pure. */
export function metricQueries(query: Pick<MetricsWindowQuery, "loadBalancerArn" | "targetGroupArns">, periodSeconds: number): MetricDataQuery[] {
  const loadBalancer = dimensionOf(query.loadBalancerArn, "loadbalancer");
  return COLORS.flatMap((color) =>
    SERIES.map(
      (s): MetricDataQuery => ({
        Id: queryId(s.key, color),
        Label: `${s.metric} ${color}`,
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: NAMESPACE,
            MetricName: s.metric,
            Dimensions: [
              { Name: "TargetGroup", Value: dimensionOf(query.targetGroupArns[color], "targetgroup") },
              { Name: "LoadBalancer", Value: loadBalancer },
            ],
          },
          Period: periodSeconds,
          Stat: s.stat,
        },
      }),
    ),
  );
}

/**
 * Both colors' windows from the results (all pages). Counts are summed over the datapoints; the
 * p99 and the unhealthy-host count take the largest datapoint (a window of several periods has
 * no exact combined percentile: the largest is the conservative bound). Non-finite values are
 * dropped. A series whose status is not Complete was cut short (CloudWatch's limits): the window
 * is then not judged at all. Pure.
 */
export function windowsOf(results: readonly MetricDataResult[]): Record<Color, ColorWindow> {
  const values = new Map<string, number[]>();
  for (const r of results) {
    if (r.Id === undefined) {
      continue;
    }
    if (r.StatusCode !== undefined && r.StatusCode !== "Complete") {
      throw new Error(`CloudWatch returned ${r.Id} as ${r.StatusCode}: the window's data is incomplete`);
    }
    const list = values.get(r.Id) ?? [];
    list.push(...(r.Values ?? []).filter((v) => Number.isFinite(v)));
    values.set(r.Id, list);
  }
  const sum = (id: string): number => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
  const max = (id: string): number | undefined => {
    const list = values.get(id) ?? [];
    return list.length === 0 ? undefined : Math.max(...list);
  };
  const out = {} as Record<Color, ColorWindow>;
  for (const color of COLORS) {
    const p99Seconds = max(queryId("p99", color));
    const unhealthy = max(queryId("unhealthy", color));
    out[color] = {
      requests: sum(queryId("requests", color)),
      target5xx: sum(queryId("errors", color)),
      ...(p99Seconds !== undefined ? { p99Ms: p99Seconds * 1000 } : {}),
      ...(unhealthy !== undefined ? { unhealthyHosts: unhealthy } : {}),
    };
  }
  return out;
}

/** `CanaryMetrics` over the AWS SDK v3 CloudWatch client (credentials from the default chain). */
export class CloudWatchCanaryMetrics implements CanaryMetrics {
  private readonly clients = new Map<string, CloudWatchClient>();

  /** `clientConfig` is for endpoint overrides (VPC endpoints, the loopback test) and credentials. */
  constructor(
    private readonly clientConfig: Omit<CloudWatchClientConfig, "region"> = {},
    private readonly defaultRegion = "ap-northeast-2",
  ) {}

  private client(region: string): CloudWatchClient {
    let c = this.clients.get(region);
    if (c === undefined) {
      c = new CloudWatchClient({ ...this.clientConfig, region });
      this.clients.set(region, c);
    }
    return c;
  }

  async window(query: MetricsWindowQuery, signal: AbortSignal): Promise<Record<Color, ColorWindow>> {
    const region = query.region ?? this.defaultRegion;
    const client = this.client(region);
    const { start, end, periodSeconds } = alignedWindow(query.from, query.to);
    const queries = metricQueries(query, periodSeconds);
    const results: MetricDataResult[] = [];
    let token: string | undefined;
    do {
      try {
        const page = await client.send(
          new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: "TimestampAscending", NextToken: token }),
          { abortSignal: signal },
        );
        results.push(...(page.MetricDataResults ?? []));
        token = page.NextToken;
      } catch (err) {
        if (signal.aborted) {
          throw signal.reason;
        }
        const e = err as { name?: string; message?: string };
        throw new Error(`CloudWatch GetMetricData for ${query.service} in ${region} failed: ${e.name ?? "Error"}: ${e.message ?? String(err)}`);
      }
    } while (token !== undefined && token !== "");
    return windowsOf(results);
  }
}
