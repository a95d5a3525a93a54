import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceConfig } from "../config/schema";
import { COLORS } from "../domain";
import type { Color } from "../domain";
import { IrsaRole } from "../iam/irsaRole";
import { IDENTITY_ENV } from "../lib/identityHeaders";
import type { AppNamespace } from "./appNamespace";
import { colorImage, colorName, DrainTiming, drainTiming, forwardAction, idleColor, liveActionName, orderedPrefixes } from "../lib/bluegreen";

/** Label every node of a managed node group carries (infra/cluster/cluster.ts); services pin to it. */
export const NODE_GROUP_LABEL = "platform.io/node-group";
export const COLOR_LABEL = "platform.io/color";
export const NAME_LABEL = "app.kubernetes.io/name";

export interface BlueGreenServiceArgs {
  /** The service's entry of `platform:services` (validated). */
  readonly service: ServiceConfig;
  /** Namespace the service runs in; it must carry the pod-readiness-gate-inject label. */
  readonly namespace: AppNamespace;
  /** Host of the live rules, e.g. `staging.example.com` (the apex in prod). */
  readonly liveHost: string;
  /** Host that reaches the idle color only, e.g. `preview.staging.example.com`. */
  readonly previewHost: string;
  /** The IngressGroup every service of the stack shares (one ALB per stack). */
  readonly ingressGroupName: string;
  /** `group.order` of this service's Ingress (see `ingressOrder`): rules of lower orders are evaluated first. */
  readonly ingressOrder: number;
  /**
   * Group-wide ALB settings (listeners, certificate, TLS policy, attributes, WAF) put on every
   * Ingress of the group, identical everywhere so the controller never sees a conflict.
   */
  readonly ingressGroupAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
  /** Node group the pods must run on (`platform.io/node-group`), plus the taints they must tolerate. */
  readonly nodeGroup: { readonly name: string; readonly taints: ReadonlyArray<{ key: string; value?: string; effect: string }> };
  /**
   * IRSA for the service's pods: the role's inline policies (image bucket, database secret).
   * Default: no AWS access, and the service account gets no role annotation.
   */
  readonly aws?: {
    readonly oidcProviderArn: pulumi.Input<string>;
    readonly oidcProviderUrl: pulumi.Input<string>;
    readonly policies: Readonly<Record<string, pulumi.Input<string>>>;
  };
  /** Extra environment (e.g. database host, bucket name); merged over the config's `env`. Default: none. */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /** ALB deregistration delay; preStop and grace period derive from it (`drainTiming`). Default: 20 s. */
  readonly deregistrationDelaySeconds?: number;
  /** Run as this UID/GID (images must not need root). Default: 10001. */
  readonly runAsUser?: number;
}

const TAINT_EFFECTS: Record<string, string> = {
  NO_SCHEDULE: "NoSchedule",
  NO_EXECUTE: "NoExecute",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
};

/** A service's deployed state: the color the in-cluster Service selects, and each color's running image and Service. */
export interface DeployedState {
  readonly active: Color;
  /** Mid canary rollout: the share of live traffic the Ingress's forward action gives the idle color. */
  readonly canaryWeight?: number;
  readonly colors: Readonly<Record<Color, { readonly image?: string; readonly serviceName: string }>>;
}

/** The deployed state from the resources' outputs (never from config). */
function deployedState(
  active: k8s.core.v1.Service,
  services: Readonly<Record<Color, k8s.core.v1.Service>>,
  deployments: Partial<Record<Color, k8s.apps.v1.Deployment>>,
  ingress: k8s.networking.v1.Ingress,
  liveAction: string,
): pulumi.Output<DeployedState> {
  const image = (d: k8s.apps.v1.Deployment | undefined): pulumi.Output<string | undefined> =>
    d === undefined ? pulumi.output(undefined) : d.spec.template.spec.containers.apply((c) => c[0]?.image);
  const action = ingress.metadata.annotations.apply((a) => a[`alb.ingress.kubernetes.io/actions.${liveAction}`]);
  return pulumi
    .all([active.spec.selector, image(deployments.blue), image(deployments.green), services.blue.metadata.name, services.green.metadata.name, action])
    .apply(([selector, blue, green, blueName, greenName, forward]): DeployedState => ({
      active: selector[COLOR_LABEL] === "green" ? "green" : "blue",
      ...canaryShare(forward, selector[COLOR_LABEL] === "green" ? "green" : "blue", blueName, greenName),
      colors: {
        blue: { ...(blue !== undefined ? { image: blue } : {}), serviceName: blueName },
        green: { ...(green !== undefined ? { image: green } : {}), serviceName: greenName },
      },
    }));
}

/**
 * The idle color's share of the live forward action (the Ingress annotation as the cluster has
 * it), when it is strictly between 0 and 100: a canary rollout in progress.
 */
function canaryShare(forward: string | undefined, active: Color, blueName: string, greenName: string): { canaryWeight?: number } {
  if (forward === undefined) {
    return {};
  }
  let groups: Array<{ ServiceName?: string; Weight?: number }> = [];
  try {
    groups = (JSON.parse(forward) as { ForwardConfig?: { TargetGroups?: Array<{ ServiceName?: string; Weight?: number }> } }).ForwardConfig?.TargetGroups ?? [];
  } catch {
    // Not the program's forward action (edited out of band): no canary to report.
  }
  const idleName = active === "blue" ? greenName : blueName;
  const weight = groups.find((g) => g.ServiceName === idleName)?.Weight ?? 0;
  return weight > 0 && weight < 100 ? { canaryWeight: weight } : {};
}

/** What a color's pods are built from. */
interface PodParams {
  readonly svc: ServiceConfig;
  readonly args: BlueGreenServiceArgs;
  readonly timing: DrainTiming;
  readonly uid: number;
  readonly env: k8s.types.input.core.v1.EnvVar[];
  readonly serviceAccountName: pulumi.Input<string>;
  /** Whether the pods get the IRSA token (the service has AWS permissions). */
  readonly awsIdentity: boolean;
}

/** The pod spec of one color: restricted profile, probes, drain timing, zone spread, node group. */
function colorPodSpec({ svc, args, timing, uid, env, serviceAccountName, awsIdentity }: PodParams, color: Color, image: string): k8s.types.input.core.v1.PodSpec {
  return {
    serviceAccountName,
    automountServiceAccountToken: awsIdentity,
    terminationGracePeriodSeconds: timing.terminationGracePeriodSeconds,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: uid,
      fsGroup: uid,
      seccompProfile: { type: "RuntimeDefault" },
    },
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: [args.nodeGroup.name] }] }],
        },
      },
    },
    tolerations: args.nodeGroup.taints.map((t) => ({
      key: t.key,
      operator: t.value !== undefined ? "Equal" : "Exists",
      ...(t.value !== undefined ? { value: t.value } : {}),
      effect: TAINT_EFFECTS[t.effect] ?? t.effect,
    })),
    // ScheduleAnyway: a managed node group is one ASG over both AZs, so the autoscaler cannot
    // add a node in a chosen zone; DoNotSchedule could leave pods pending on enrolment day.
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { [NAME_LABEL]: svc.name, [COLOR_LABEL]: color } },
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { [NAME_LABEL]: svc.name, [COLOR_LABEL]: color } },
      },
    ],
    containers: [
      {
        name: svc.name,
        image,
        ports: [{ name: "http", containerPort: svc.port, protocol: "TCP" }],
        // Who this pod is, for the service to echo in its identity headers (the driver's live
        // gate checks them after a switch); config refuses an env that sets these names.
        env: [...env, { name: IDENTITY_ENV.color, value: color }, { name: IDENTITY_ENV.image, value: image }],
        resources: {
          requests: { cpu: svc.resources.cpu, memory: svc.resources.memory },
          limits: { cpu: svc.resources.cpuLimit, memory: svc.resources.memoryLimit },
        },
        // Readiness asks the app (its health endpoint may check the database); liveness only
        // asks whether the process accepts connections, so a database outage makes pods
        // unready instead of restarting every pod of the service at once.
        startupProbe: { httpGet: { path: svc.healthPath, port: "http" }, periodSeconds: 5, failureThreshold: 36 },
        readinessProbe: { httpGet: { path: svc.healthPath, port: "http" }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
        livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 6 },
        lifecycle: {
          // Native sleep action (Kubernetes >= 1.30): works in distroless images without `sh`.
          preStop: { sleep: { seconds: timing.preStopSleepSeconds } },
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
      },
    ],
    volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
  };
}

/**
 * One service as a blue/green pair behind the stack's ALB: both colors registered, the listener
 * rule weighted 100/0 to the active one (see README "Blue/green").
 *
 * Both colors always run and stay registered in their own target groups; the live rules forward
 * to both with weights 100/0 and the preview host reaches the idle color. A flip changes only
 * this service's Ingress (weights, preview backend) and the `<svc>-active` Service's selector,
 * so it is one small update and the previous color keeps running for an instant rollback.
 *
 * A color without an image yet (the idle one before its first promotion) has its Service, and so
 * its target group in the weighted forward action, but no Deployment, HPA or PDB until it gets
 * one; the active color must have an image (config validation, and this component refuses it).
 */
export class BlueGreenService extends pulumi.ComponentResource {
  readonly active: Color;
  readonly timing: DrainTiming;
  /** The colors' Deployments; a color without an image has none. */
  readonly deployments: Partial<Record<Color, k8s.apps.v1.Deployment>>;
  readonly ingress: k8s.networking.v1.Ingress;
  readonly activeService: k8s.core.v1.Service;
  /** The service's name (`platform:services[].name`). */
  readonly serviceName: string;
  /** Kubernetes name of the in-cluster Service that follows the active color. */
  readonly clusterServiceName: string;
  /**
   * What the cluster runs, read from the resources' own outputs rather than from config: after a
   * targeted update the untargeted Deployments keep their state's outputs, so this keeps
   * reporting the images they really run (the stack outputs are re-registered by every update).
   */
  readonly deployed: pulumi.Output<DeployedState>;
  readonly serviceAccountName: string;
  /** Name of the namespace the service's objects are in. */
  readonly namespace: string;

  constructor(name: string, args: BlueGreenServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:apps:BlueGreenService", name, {}, opts);
    const svc = args.service;
    const active = svc.active;
    const idle = idleColor(active);
    const timing = drainTiming(args.deregistrationDelaySeconds ?? 20);
    const uid = args.runAsUser ?? 10001;
    const labels = { [NAME_LABEL]: svc.name, "app.kubernetes.io/part-of": "platform", "app.kubernetes.io/managed-by": "pulumi" };
    if (colorImage(svc[active]) === undefined) {
      // The config check refuses this first; a direct caller gets the same answer, because the
      // in-cluster Service and the live weights would point at a color with no pods.
      throw new pulumi.ResourceError(
        `service "${svc.name}": the active color ${active} has no image; set ${active}.image, or make the color that has one active`,
        this,
      );
    }

    if (svc.canaryWeight !== undefined && (colorImage(svc[idle]) === undefined || svc[idle].parked === true)) {
      // Same rule as the config check: a canary weight would send live traffic to a color with no pods.
      throw new pulumi.ResourceError(`service "${svc.name}": canaryWeight ${svc.canaryWeight} sends traffic to ${idle}, which has no image or is parked`, this);
    }

    let roleArn: pulumi.Output<string> | undefined;
    if (args.aws !== undefined) {
      roleArn = new IrsaRole(
        `${name}-irsa`,
        {
          oidcProviderArn: args.aws.oidcProviderArn,
          oidcProviderUrl: args.aws.oidcProviderUrl,
          namespace: args.namespace.plainName,
          serviceAccount: svc.name,
          inlinePolicies: args.aws.policies,
          description: `Pods of service ${svc.name}`,
        },
        { parent: this },
      ).roleArn;
    }
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: {
          name: svc.name,
          namespace: args.namespace.name,
          labels,
          annotations: roleArn !== undefined ? { "eks.amazonaws.com/role-arn": roleArn } : {},
        },
        // Pods get a projected IRSA token through the webhook; the legacy auto-mounted API token is not needed.
        automountServiceAccountToken: false,
      },
      { parent: this },
    );

    const env = Object.entries({ ...svc.env, ...(args.env ?? {}) })
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([envName, value]) => ({ name: envName, value }));

    const pods: PodParams = { svc, args, timing, uid, env, serviceAccountName: serviceAccount.metadata.name, awsIdentity: roleArn !== undefined };
    const deployments: Partial<Record<Color, k8s.apps.v1.Deployment>> = {};
    const colorServices = {} as Record<Color, k8s.core.v1.Service>;
    for (const color of COLORS) {
      const declared = this.declareColor(name, color, pods, labels);
      colorServices[color] = declared.service;
      if (declared.deployment !== undefined) {
        deployments[color] = declared.deployment;
      }
    }

    this.serviceName = svc.name;
    this.clusterServiceName = svc.name;
    this.activeService = new k8s.core.v1.Service(
      `${name}-active`,
      {
        metadata: { name: svc.name, namespace: args.namespace.name, labels },
        spec: {
          type: "ClusterIP",
          selector: { [NAME_LABEL]: svc.name, [COLOR_LABEL]: active },
          ports: [{ name: "http", port: svc.port, targetPort: "http", protocol: "TCP" }],
        },
      },
      { parent: this },
    );

    this.ingress = this.declareIngress(name, args, labels, idle);

    this.active = active;
    this.timing = timing;
    this.deployments = deployments;
    this.deployed = deployedState(this.activeService, colorServices, deployments, this.ingress, liveActionName(svc.name));
    this.serviceAccountName = svc.name;
    this.namespace = args.namespace.plainName;
    this.registerOutputs({ active, clusterServiceName: this.clusterServiceName });
  }

  /**
   * One color: its own Service (its target group's backend), and once it has an image its
   * Deployment, a PDB and, unless parked, an HPA. Returns the Deployment, if any.
   */
  private declareColor(
    name: string,
    color: Color,
    pods: PodParams,
    labels: Record<string, string>,
  ): { readonly service: k8s.core.v1.Service; readonly deployment?: k8s.apps.v1.Deployment } {
    const { svc, args, timing } = pods;
    const colorLabels = { ...labels, [COLOR_LABEL]: color };
    // Each color has its own Service with a stable selector, so its pods get the readiness
    // gate injected at creation and its target group always holds healthy targets. Declared
    // whether or not the color has an image: the live forward action names both colors'
    // Services, and the controller fails the whole IngressGroup's model when a Service of a
    // multi-target forward is missing (v2.12.0 pkg/ingress/enhanced_backend_builder.go:240-268
    // tolerates a missing Service only for a single-target forward).
    const service = new k8s.core.v1.Service(
      `${name}-${color}`,
      {
        metadata: {
          name: colorName(svc.name, color),
          namespace: args.namespace.name,
          labels: colorLabels,
          annotations: {
            "alb.ingress.kubernetes.io/healthcheck-path": svc.healthPath,
            "alb.ingress.kubernetes.io/success-codes": "200-399",
            "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10",
            "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
            "alb.ingress.kubernetes.io/unhealthy-threshold-count": "2",
            "alb.ingress.kubernetes.io/target-group-attributes": `deregistration_delay.timeout_seconds=${timing.deregistrationDelaySeconds}`,
          },
        },
        spec: {
          type: "ClusterIP",
          selector: { [NAME_LABEL]: svc.name, [COLOR_LABEL]: color },
          ports: [{ name: "http", port: svc.port, targetPort: "http", protocol: "TCP" }],
        },
      },
      { parent: this },
    );
    const image = colorImage(svc[color]);
    // No image yet: nothing to run (the API server rejects `image: ""`). Parked (the color's own
    // flag, not `idle`, so a flip never scales anything): nothing runs either. Deployment, PDB
    // and HPA appear, under these same logical names, with the `up` that gives the color an image
    // or unparks it; the Service, and so the target group in the weighted action, stays.
    return image === undefined || svc[color].parked === true ? { service } : { service, deployment: this.declareWorkload(name, color, image, pods, colorLabels) };
  }

  /** A color's Deployment, its PDB and its HPA. */
  private declareWorkload(name: string, color: Color, image: string, pods: PodParams, colorLabels: Record<string, string>): k8s.apps.v1.Deployment {
    const { svc, args } = pods;
    const selector = { matchLabels: { [NAME_LABEL]: svc.name, [COLOR_LABEL]: color } };
    const metadata = { name: colorName(svc.name, color), namespace: args.namespace.name, labels: colorLabels };
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-${color}`,
      {
        metadata,
        spec: {
          // The HPA minimum, applied when the Deployment is created; from then on the HPA owns it.
          replicas: svc.autoscaling.minReplicas,
          revisionHistoryLimit: 5,
          selector,
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
          template: { metadata: { labels: colorLabels }, spec: colorPodSpec(pods, color, image) },
        },
      },
      {
        parent: this,
        // The HPA scales through /scale as kube-controller-manager, which then owns spec.replicas.
        // pulumi-kubernetes 4.25.0 applies server-side without force, so sending a different
        // replicas (a re-staged image into a color the HPA scaled out) fails with "Apply failed
        // with 1 conflict: conflict with \"kube-controller-manager\" with subresource \"scale\"
        // ... .spec.replicas" (pkg/await/await.go:700-716; pulumi/pulumi-kubernetes#2491). With
        // ignoreChanges the provider drops the field when another manager owns it and sends the
        // live value when it owns it (await.go:622-695), so an update never resets a scale-out.
        // Omitting replicas instead would release the field and reset it to 1 when nobody else
        // owns it (server-side apply semantics). Parking deletes the Deployment, so no update
        // ever has to scale one to 0 against the HPA's ownership.
        ignoreChanges: ["spec.replicas"],
      },
    );
    new k8s.policy.v1.PodDisruptionBudget(`${name}-${color}`, { metadata, spec: { maxUnavailable: 1, selector } }, { parent: this });
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-${color}`,
      {
        metadata,
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
          minReplicas: svc.autoscaling.minReplicas,
          maxReplicas: svc.autoscaling.maxReplicas,
          metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: svc.autoscaling.targetCpuUtilization } } },
          ],
          behavior: {
            // Enrolment-day bursts: scale up immediately, scale down slowly.
            scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
            scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 20, periodSeconds: 60 }] },
          },
        },
      },
      { parent: this },
    );
    return deployment;
  }

  /**
   * The service's own Ingress in the stack's IngressGroup: the live host forwards to both colors
   * weighted by `active` (one ALB action), the preview host to the idle color's Service.
   */
  private declareIngress(name: string, args: BlueGreenServiceArgs, labels: Record<string, string>, idle: Color): k8s.networking.v1.Ingress {
    const svc = args.service;
    const active = svc.active;
    const prefixes = orderedPrefixes(svc.paths);
    const live = liveActionName(svc.name);
    return new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: {
          name: svc.name,
          namespace: args.namespace.name,
          labels,
          annotations: {
            ...args.ingressGroupAnnotations,
            "alb.ingress.kubernetes.io/group.name": args.ingressGroupName,
            "alb.ingress.kubernetes.io/group.order": String(args.ingressOrder),
            // During a canary step (`canaryWeight`) only these weights differ; the preview rule below
            // and the in-cluster Service keep following `active` until the final switch.
            [`alb.ingress.kubernetes.io/actions.${live}`]: JSON.stringify(forwardAction(svc.name, svc.port, active, svc.canaryWeight)),
          },
        },
        spec: {
          ingressClassName: "alb",
          rules: [
            {
              host: args.liveHost,
              http: {
                paths: prefixes.map((p) => ({
                  path: p,
                  pathType: "Prefix",
                  backend: { service: { name: live, port: { name: "use-annotation" } } },
                })),
              },
            },
            {
              host: args.previewHost,
              http: {
                paths: prefixes.map((p) => ({
                  path: p,
                  pathType: "Prefix",
                  backend: { service: { name: colorName(svc.name, idle), port: { number: svc.port } } },
                })),
              },
            },
          ],
        },
      },
      { parent: this },
    );
  }
}
