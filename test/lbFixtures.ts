/**
 * Kubernetes objects of blue/green services as the API server returns them, built with the same
 * pure helpers infra/apps/blueGreenService.ts uses (forwardAction, orderedPrefixes, colorName,
 * liveActionName; albGroupAnnotations for the group-wide ones). test/lbModel.test.ts checks
 * that they equal what the real program declares for the prod stack, so the double and the
 * adapter are tested on the program's shapes, not on a copy that could drift.
 */
import type { Color } from "../infra/config/schema";
import { colorName, forwardAction, idleColor, liveActionName, orderedPrefixes } from "../infra/lib/bluegreen";
import { albGroupAnnotations, loadBalancerAttributes } from "../infra/lib/edge";
import type { Pod } from "./integration/lbDouble/double";
import type { Ingress, Service } from "./integration/lbDouble/model";
import type { Evaluation } from "./stack";

export const NS = "apps";
export const LIVE_HOST = "karina-univ.com";
export const PREVIEW_HOST = "preview.karina-univ.com";
export const GROUP = "prod";
export const CLUSTER = "prod-cluster";
export const REGION = "ap-northeast-2";

export interface FixtureService {
  readonly name: string;
  readonly port: number;
  readonly healthPath: string;
  readonly paths: readonly string[];
  readonly active: Color;
  /** `group.order` (infra/lib/bluegreen.ts ingressOrder gives multiples of 10). */
  readonly order: number;
  readonly images: Readonly<Record<Color, string>>;
}

export const STUDENT: FixtureService = {
  name: "student",
  port: 8080,
  healthPath: "/actuator/health",
  paths: ["/", "/student", "/admin"],
  active: "blue",
  order: 20,
  images: { blue: "registry.local/student:1.4.0", green: "registry.local/student:1.5.0" },
};

export const SUBJECT: FixtureService = {
  name: "subject",
  port: 8080,
  // Served under its /sugang context path, as the shipped subject service (the ALB forwards paths unchanged).
  healthPath: "/sugang/actuator/health",
  paths: ["/sugang"],
  active: "blue",
  order: 10,
  images: { blue: "registry.local/subject:2.0.0", green: "registry.local/subject:2.1.0" },
};

/** The group-wide annotations as infra/edge.ts computes them, with plain strings. */
export function groupAnnotations(certificateArn = "arn:aws:acm:ap-northeast-2:123456789012:certificate/fixture"): Record<string, string> {
  return albGroupAnnotations<string>({
    certificateArn,
    attributes: loadBalancerAttributes({ accessLogBucket: "fixture-alb-logs", accessLogPrefix: "prod", deletionProtection: true, idleTimeoutSeconds: 60 }),
    webAclArn: undefined,
  }) as Record<string, string>;
}

function labels(svc: FixtureService, color?: Color): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/name": svc.name,
    "app.kubernetes.io/part-of": "platform",
    ...(color !== undefined ? { "platform.io/color": color } : {}),
  };
}

/** The service's Ingress, as BlueGreenService declares it (metadata and spec only). */
export function serviceIngress(svc: FixtureService, group: Record<string, string> = groupAnnotations(), active: Color = svc.active): Ingress {
  const live = liveActionName(svc.name);
  const prefixes = orderedPrefixes(svc.paths);
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: svc.name,
      namespace: NS,
      labels: labels(svc),
      annotations: {
        ...group,
        "alb.ingress.kubernetes.io/group.name": GROUP,
        "alb.ingress.kubernetes.io/group.order": String(svc.order),
        [`alb.ingress.kubernetes.io/actions.${live}`]: JSON.stringify(forwardAction(svc.name, svc.port, active)),
      },
    },
    spec: {
      ingressClassName: "alb",
      rules: [
        {
          host: LIVE_HOST,
          http: { paths: prefixes.map((p) => ({ path: p, pathType: "Prefix", backend: { service: { name: live, port: { name: "use-annotation" } } } })) },
        },
        {
          host: PREVIEW_HOST,
          http: { paths: prefixes.map((p) => ({ path: p, pathType: "Prefix", backend: { service: { name: colorName(svc.name, idleColor(active)), port: { number: svc.port } } } })) },
        },
      ],
    },
  };
}

/** The flipped Ingress: only the live action's weights and the preview backend change. */
export function flipped(svc: FixtureService, to: Color, group: Record<string, string> = groupAnnotations()): Ingress {
  return serviceIngress(svc, group, to);
}

/** The two color Services, as BlueGreenService declares them. */
export function colorServices(svc: FixtureService): Service[] {
  return (["blue", "green"] as const).map((color) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: colorName(svc.name, color),
      namespace: NS,
      labels: labels(svc, color),
      annotations: {
        "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10",
        "alb.ingress.kubernetes.io/healthcheck-path": svc.healthPath,
        "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
        "alb.ingress.kubernetes.io/success-codes": "200-399",
        "alb.ingress.kubernetes.io/target-group-attributes": "deregistration_delay.timeout_seconds=20",
        "alb.ingress.kubernetes.io/unhealthy-threshold-count": "2",
      },
    },
    spec: {
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": svc.name, "platform.io/color": color },
      ports: [{ name: "http", port: svc.port, protocol: "TCP", targetPort: "http" }],
    },
  }));
}

/** Ready pods of one color, as a Deployment of BlueGreenService would get them (kwok makes them Ready). */
export function colorPods(svc: FixtureService, color: Color, replicas: number, image = svc.images[color]): Pod[] {
  return Array.from({ length: replicas }, (_, i) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `${colorName(svc.name, color)}-${i}`, namespace: NS, labels: labels(svc, color) },
    spec: { containers: [{ name: svc.name, image, ports: [{ name: "http", containerPort: svc.port }] }] },
    status: { podIP: `10.0.${color === "blue" ? 1 : 2}.${i + 10}`, conditions: [{ type: "Ready", status: "True" }] },
  }));
}

/**
 * The Ingresses and Services a program evaluation declared (test/stack.ts), as the API server
 * would return them after creation (a uid added; everything else as declared).
 */
export function declaredObjects(ev: Evaluation): { ingresses: Ingress[]; services: Service[] } {
  const asApi = <T>(inputs: Record<string, unknown>): T => {
    const metadata = inputs["metadata"] as { name: string; namespace?: string };
    return { ...inputs, metadata: { ...metadata, uid: `uid-${metadata.namespace ?? ""}-${metadata.name}` } } as T;
  };
  return {
    ingresses: ev.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress").map((r) => asApi<Ingress>(r.inputs)),
    services: ev.resources.filter((r) => r.type === "kubernetes:core/v1:Service").map((r) => asApi<Service>(r.inputs)),
  };
}
