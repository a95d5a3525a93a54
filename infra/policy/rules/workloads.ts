/**
 * Production invariants in the cluster: the services keep two replicas, monitoring and logging
 * run, images come from the platform's registry, and ArgoCD applications stay out of the system
 * and platform namespaces and out of privilege. Exceptions: infra/policy/config/<stack>.json.
 */
import type { Finding, PolicyResource, ResourceRule, StackRule } from "../engine";
import { at, list, num, obj, objs, str, strs } from "../values";
import { containersOf, k8sName, namespaceOf, ofTypes, podSpecOf, WORKLOAD_TYPES } from "./common";

const PROD = ["prod"] as const;
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";

/** At least two pods of every service: one node drain, AZ loss or crash never takes a service down. */
export const PROD_MIN_REPLICAS = 2;

/**
 * Namespaces no ArgoCD Application may deploy into: Kubernetes' own (kube-system, kube-public,
 * kube-node-lease, default) and the platform's (apps: the blue/green services Pulumi owns; argocd,
 * monitoring, node-exporter, logging, log-retention, log-dashboards: the platform's components).
 */
export const SYSTEM_NAMESPACES = [
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "default",
  "apps",
  "argocd",
  "monitoring",
  "node-exporter",
  "logging",
  "log-retention",
  "log-dashboards",
] as const;

const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";

function where(r: PolicyResource): Pick<PolicyResource, "type" | "name" | "urn"> {
  return { type: r.type, name: r.name, urn: r.urn };
}

function hpaOf(w: PolicyResource, resources: readonly PolicyResource[]): PolicyResource | undefined {
  return ofTypes(resources, HPA).find(
    (h) => namespaceOf(h) === namespaceOf(w) && str(at(h.props, "spec.scaleTargetRef.kind")) === "Deployment" && str(at(h.props, "spec.scaleTargetRef.name")) === k8sName(w),
  );
}

/** A parked blue/green color: 0 replicas and no HPA, runs nothing until the driver scales it up. */
function parked(w: PolicyResource, resources: readonly PolicyResource[]): boolean {
  return num(at(w.props, "spec.replicas")) === 0 && hpaOf(w, resources) === undefined;
}

/** The fewest pods a Deployment can run: its HPA's minimum (the HPA overrides spec.replicas), else spec.replicas (default 1). */
function floorReplicas(w: PolicyResource, resources: readonly PolicyResource[]): number {
  const hpa = hpaOf(w, resources);
  return hpa !== undefined ? (num(at(hpa.props, "spec.minReplicas")) ?? 1) : (num(at(w.props, "spec.replicas")) ?? 1);
}

export const k8sMinReplicas: StackRule = {
  kind: "stack",
  name: "k8s-min-replicas",
  description: `Production service Deployments run at least ${PROD_MIN_REPLICAS} replicas (spec or HPA minimum); a parked idle color (0 replicas, no HPA) runs none.`,
  docs: "https://kubernetes.io/docs/concepts/workloads/pods/disruptions/",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  settings: {
    namespaces: { type: "array", items: { type: "string", minLength: 1 }, default: ["apps"], description: "Namespaces whose Deployments serve traffic and must stay replicated." },
  },
  check: (resources, ctx) => {
    const namespaces = strs(ctx.settings["namespaces"]);
    return ofTypes(resources, DEPLOYMENT)
      .filter((d) => namespaces.includes(namespaceOf(d)) && !parked(d, resources))
      .flatMap((d): Finding[] => {
        const replicas = floorReplicas(d, resources);
        return replicas >= PROD_MIN_REPLICAS
          ? []
          : [
              {
                resource: where(d),
                problem: `runs ${replicas} replica(s) at minimum, so a node drain, an AZ outage or one crash takes the service down`,
                fix: `run at least ${PROD_MIN_REPLICAS} (platform:services[].replicas and autoscaling.minReplicas), with a PodDisruptionBudget allowing one eviction`,
              },
            ];
      });
  },
};

function helmCharts(resources: readonly PolicyResource[]): string[] {
  return ofTypes(resources, "kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart").map((r) => str(r.props["chart"]) ?? "");
}

function images(resources: readonly PolicyResource[]): Array<{ workload: PolicyResource; image: string }> {
  return ofTypes(resources, ...WORKLOAD_TYPES).flatMap((w) => containersOf(podSpecOf(w)).map((c) => ({ workload: w, image: str(c.spec["image"]) ?? "" })));
}

export const observabilityRequired: StackRule = {
  kind: "stack",
  name: "observability-required",
  description: "A production cluster runs monitoring (Prometheus, kube-prometheus-stack) and log shipping (a Fluentd or Fluent Bit agent on every node) with a log store.",
  docs: "https://docs.aws.amazon.com/eks/latest/best-practices/observability.html",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  check: (resources) => {
    const cluster = ofTypes(resources, "eks:index:Cluster", "aws:eks/cluster:Cluster")[0];
    if (cluster === undefined) {
      return [];
    }
    const findings: Finding[] = [];
    const charts = helmCharts(resources);
    if (!charts.some((c) => /(^|\/)(kube-prometheus-stack|prometheus)$/.test(c))) {
      findings.push({
        resource: where(cluster),
        problem: "the cluster has no Prometheus (no kube-prometheus-stack or prometheus Helm release), so nothing alerts when a service or a node fails",
        fix: "turn monitoring on (platform:observability.monitoring.enabled: true)",
      });
    }
    const agent =
      ofTypes(resources, "kubernetes:apps/v1:DaemonSet").some((d) => images([d]).some((i) => /fluent(d|-bit)/.test(i.image))) ||
      charts.some((c) => /(^|\/)(fluentd|fluent-bit|aws-for-fluent-bit)$/.test(c));
    const store = ofTypes(resources, "aws:opensearch/domain:Domain", "aws:elasticsearch/domain:Domain").length > 0;
    if (!agent || !store) {
      findings.push({
        resource: where(cluster),
        problem: `the cluster ships no container logs (${[!agent ? "no Fluentd/Fluent Bit DaemonSet" : "", !store ? "no OpenSearch domain" : ""].filter((x) => x !== "").join(", ")}), so a crashed pod's logs are gone with it`,
        fix: "turn logging on (platform:observability.logging.enabled: true)",
      });
    }
    return findings;
  },
};

/** The registry host of an image reference (`docker.io` when none is given, as container runtimes resolve it). */
export function registryOf(image: string): string {
  const first = image.split("/")[0];
  const hasHost = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return hasHost ? first : "docker.io";
}

const DOCKER_HUB = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];
/** A private ECR registry: `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in China). */
const PRIVATE_ECR = /^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

export const k8sImageRegistry: ResourceRule = {
  kind: "resource",
  name: "k8s-image-registry",
  description:
    "In production no workload pulls from Docker Hub (anonymous pull limits, no provenance), and the services' Deployments pull only from the platform's ECR registry.",
  docs: "https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  resourceTypes: [...WORKLOAD_TYPES],
  settings: {
    namespaces: { type: "array", items: { type: "string", minLength: 1 }, default: ["apps"], description: "Namespaces whose workloads must pull from a private ECR registry." },
    registries: {
      type: "array",
      items: { type: "string", pattern: "^\\d{12}\\.dkr\\.ecr(-fips)?\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$" },
      default: [],
      description:
        "The platform's own ECR registries (<account>.dkr.ecr.<region>.amazonaws.com). When set, those namespaces pull only from them, not from any other account's ECR; empty: any private ECR registry.",
    },
  },
  check: (r, ctx) => {
    const own = strs(ctx.settings["namespaces"]).includes(namespaceOf(r));
    return containersOf(podSpecOf(r)).flatMap((c): Finding[] => {
      const image = str(c.spec["image"]) ?? "";
      if (image === "") {
        return [];
      }
      const registry = registryOf(image);
      if (DOCKER_HUB.includes(registry)) {
        return [
          {
            problem: `${c.kind} "${c.name}" pulls "${image}" from Docker Hub`,
            fix: own
              ? "push the image to the platform's ECR repository and reference it there (<account>.dkr.ecr.<region>.amazonaws.com/<repo>)"
              : "pull it through the ECR pull-through cache (platform:registry.dockerHubCache) or from a registry the image's publisher runs",
          },
        ];
      }
      if (own && !PRIVATE_ECR.test(registry)) {
        return [
          {
            problem: `${c.kind} "${c.name}" pulls "${image}" from ${registry}, not from the platform's ECR registry`,
            fix: "release the image through the pipeline (CI pushes to ECR, `release` and `promote` pin its digest)",
          },
        ];
      }
      const registries = strs(ctx.settings["registries"]);
      if (own && registries.length > 0 && !registries.includes(registry)) {
        return [
          {
            problem: `${c.kind} "${c.name}" pulls "${image}" from ${registry}, another ECR registry than the platform's (${registries.join(", ")})`,
            fix: "release the image through the pipeline into the platform's own registry (`release` and `promote` pin its digest there)",
          },
        ];
      }
      return [];
    });
  },
};

/**
 * Keys of Helm values that ask for privilege, at any depth, as dotted paths: `privileged`, host
 * namespaces and privilege escalation set to true (or "true", which a chart's template renders
 * as the same YAML boolean), a `hostPath` volume, and `capabilities.add` beyond NET_BIND_SERVICE.
 * The last two are what the restricted Pod Security level refuses besides (k8s.io/pod-security-admission
 * v0.35.4 policy/check_capabilities_restricted.go: "may only add NET_BIND_SERVICE";
 * check_hostPathVolumes.go: spec.volumes[*].hostPath must be unset).
 */
export function privilegedValues(value: unknown, path: string): string[] {
  const found: string[] = [];
  for (const [k, v] of Object.entries(obj(value))) {
    const at = path === "" ? k : `${path}.${k}`;
    const truthy = v === true || (typeof v === "string" && v.trim().toLowerCase() === "true");
    if (["privileged", "hostNetwork", "hostPID", "hostIPC", "allowPrivilegeEscalation"].includes(k) && truthy) {
      found.push(at);
    } else if (k === "hostPath" && v !== null && v !== undefined && v !== false && v !== "") {
      found.push(at);
    } else if (k === "add" && path.endsWith("capabilities") && Array.isArray(v) && v.some((c) => String(c).toUpperCase().replace(/^CAP_/, "") !== "NET_BIND_SERVICE")) {
      found.push(at);
    } else if (v !== null && typeof v === "object") {
      found.push(...(Array.isArray(v) ? v.flatMap((x, i) => privilegedValues(x, `${at}[${i}]`)) : privilegedValues(v, at)));
    }
  }
  return found;
}

export const argocdApplicationScope: ResourceRule = {
  kind: "resource",
  name: "argocd-application-scope",
  description:
    "ArgoCD Applications deploy into the in-cluster API server, never into a system or platform namespace, into namespaces that enforce the restricted Pod Security level, and ask for no privilege.",
  docs: "https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/#namespace-metadata",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "critical",
  resourceTypes: [APPLICATION],
  check: (r) => {
    const spec = obj(r.props["spec"]);
    const namespace = str(at(spec, "destination.namespace")) ?? "";
    const findings: Finding[] = [];
    if ((SYSTEM_NAMESPACES as readonly string[]).includes(namespace) || namespace === "") {
      findings.push({
        problem: `deploys into ${namespace === "" ? "no namespace (the manifests' own, kube-system included)" : `namespace "${namespace}"`}, which belongs to Kubernetes or to the platform; a prune or self-heal there deletes or reverts what Pulumi runs`,
        fix: `give the application a namespace of its own (not ${list([...SYSTEM_NAMESPACES])})`,
      });
    }
    const server = str(at(spec, "destination.server"));
    if (server !== undefined && server !== "https://kubernetes.default.svc") {
      findings.push({ problem: `deploys to ${server}, another cluster than its own`, fix: "deploy to https://kubernetes.default.svc" });
    }
    const enforce = str(obj(at(spec, "syncPolicy.managedNamespaceMetadata.labels"))[PSA_ENFORCE]);
    if (enforce !== "restricted") {
      findings.push({
        problem: `the namespace it creates is not labelled ${PSA_ENFORCE}: restricted (${enforce ?? "no label: the cluster default, privileged"}), so its pods may run privileged or with host access`,
        fix: `set syncPolicy.managedNamespaceMetadata.labels["${PSA_ENFORCE}"] = "restricted" (with CreateNamespace=true)`,
      });
    }
    const asked = objs([at(spec, "source.helm.valuesObject")]).flatMap((v) => privilegedValues(v, "helm.valuesObject"));
    if (asked.length > 0) {
      findings.push({ problem: `its Helm values ask for privilege (${list(asked)})`, fix: "remove them; the namespace enforces the restricted Pod Security level and the API server would refuse such pods" });
    }
    return findings;
  },
};

export const workloadRules = [k8sMinReplicas, observabilityRequired, k8sImageRegistry, argocdApplicationScope];
