/**
 * What the delivery dashboard and alerts are about, pure: each blue/green service's two colors
 * behind the stack's ALB, how the AWS Load Balancer Controller labels their AWS resources, and
 * the Ingress annotation that holds the live weights. Shared by the dashboard (./deliveryDashboard.ts)
 * and the alerts (./deliveryAlerts.ts); tested in test/delivery.test.ts.
 *
 * Controller facts (aws-load-balancer-controller v2.12.0, the version chart 1.12.0 installs):
 * every load balancer and target group it creates carries `elbv2.k8s.aws/cluster` = the cluster
 * name and `ingress.k8s.aws/stack` = the IngressGroup (pkg/deploy/tracking/provider.go); each
 * target group also `ingress.k8s.aws/resource` = `<namespace>/<ingress>-<service>:<port>`
 * (pkg/ingress/model_build_target_group.go buildTargetGroupResourceID). Its target group *names*
 * end in a hash of the Service's UID, so nothing but these tags tells a color's group apart before
 * it exists. The driver's ELBv2 reader finds them the same way (automation/adapters/albRouting.ts).
 */
import type { Color } from "../domain";
import { COLORS } from "../domain";
import { colorName, forwardAction, liveActionName } from "./bluegreen";
import type { CanaryAnalysis } from "./canary";

export const CONTROLLER_TAGS = {
  cluster: "elbv2.k8s.aws/cluster",
  stack: "ingress.k8s.aws/stack",
  resource: "ingress.k8s.aws/resource",
} as const;

/** One service as the dashboard and the alerts see it. */
export interface DeliveryService {
  readonly name: string;
  /** The colors' Service port (the controller's target group resource id names it). */
  readonly port: number;
  /** Namespace of its Ingress and Services. */
  readonly namespace: string;
  /** The thresholds a canary of this service is judged by (its own, or the defaults for a blue/green service). */
  readonly analysis: CanaryAnalysis;
  /** Whether its rollout is canary (the dashboard says so; the thresholds are the same either way). */
  readonly canary: boolean;
}

/** The stack the dashboard and the alerts describe. */
export interface DeliveryStack {
  readonly environment: string;
  readonly region: string;
  /** The EKS cluster's name (the controller's `--cluster-name`). */
  readonly clusterName: string;
  /** The IngressGroup every Ingress of the stack joins (one ALB). */
  readonly ingressGroup: string;
  readonly services: readonly DeliveryService[];
}

/** `ingress.k8s.aws/resource` of a color's target group: its Ingress is named after the service (infra/apps/blueGreenService.ts). */
export function targetGroupResourceTag(s: Pick<DeliveryService, "name" | "namespace" | "port">, color: Color): string {
  return `${s.namespace}/${s.name}-${colorName(s.name, color)}:${s.port}`;
}

/** The live forward action's annotation key (`alb.ingress.kubernetes.io/actions.<service>-live`). */
export function liveActionAnnotationKey(service: string): string {
  return `alb.ingress.kubernetes.io/actions.${liveActionName(service)}`;
}

/**
 * The Prometheus label kube-state-metrics turns an annotation into: `annotation_` plus the key with
 * every character outside [a-zA-Z0-9_] replaced by `_`, then snake-cased (kube-state-metrics v2.17.0
 * internal/store/utils.go `labelName`, `SanitizeLabelName`, `toSnakeCase`; the chart 6.4.1 that
 * kube-prometheus-stack 79.7.1 installs runs 2.17.0).
 */
export function kubeStateMetricsAnnotationLabel(key: string): string {
  const sanitized = key.replace(/[^a-zA-Z0-9_]/g, "_");
  return `annotation_${sanitized.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * An anchored regular expression (RE2 and JavaScript alike) that captures `color`'s weight from the
 * live forward action's JSON as the program renders it (`forwardAction`): derived from a rendering,
 * so it follows the program's key order and spelling.
 */
export function weightPattern(service: string, port: number, color: Color): string {
  const probe = 37;
  const rendered = JSON.stringify(forwardAction(service, port, "blue", probe));
  const weight = color === "blue" ? 100 - probe : probe;
  const entry = JSON.stringify({ ServiceName: colorName(service, color), ServicePort: String(port), Weight: weight });
  if (!rendered.includes(entry)) {
    throw new Error(`the forward action of ${service} no longer renders ${entry}: update weightPattern`);
  }
  const [before, after] = entry.split(`"Weight":${weight}`);
  return `.*${escapeRegExp(`${before ?? ""}"Weight":`)}([0-9]+)${escapeRegExp(after ?? "")}.*`;
}

/** The colors in the order every panel and rule lists them. */
export const DELIVERY_COLORS: readonly Color[] = COLORS;
