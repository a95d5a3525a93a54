/**
 * Rules about how this platform is put together (the blue/green and stack-config contracts the driver relies on): the
 * blue/green pair of every service, and the Prometheus-on-EFS trade-off.
 */
import type { Finding, PolicyResource, StackRule } from "../engine";
import { at, list, obj, objs, str } from "../values";
import { annotationsOf, k8sName, ofTypes } from "./common";

const BLUE_GREEN_SERVICE = "platform:apps:BlueGreenService";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const COLORS = ["blue", "green"] as const;

/** Service names: the BlueGreenService components, else every `<svc>-blue`/`<svc>-green` Deployment. */
function appServices(resources: readonly PolicyResource[]): string[] {
  const components = ofTypes(resources, BLUE_GREEN_SERVICE).map((c) => c.name);
  if (components.length > 0) {
    return components;
  }
  const names = ofTypes(resources, DEPLOYMENT)
    .map((d) => /^(.+)-(blue|green)$/.exec(d.name)?.[1])
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)];
}

/** The colors a Service's selector points at. */
function selectedColors(service: PolicyResource): string[] {
  return Object.values(obj(at(service.props, "spec.selector")))
    .map(str)
    .filter((v): v is string => v !== undefined && (COLORS as readonly string[]).includes(v));
}

/** Target-group weights of the Ingress's forward actions, by backend Service name. */
function forwardWeights(ingress: PolicyResource): Map<string, number> {
  const weights = new Map<string, number>();
  for (const [key, value] of Object.entries(annotationsOf(ingress))) {
    if (!key.startsWith("alb.ingress.kubernetes.io/actions.")) {
      continue;
    }
    for (const tg of objs(at(value, "ForwardConfig.TargetGroups"))) {
      const name = str(tg["ServiceName"]);
      if (name !== undefined) {
        weights.set(name, (weights.get(name) ?? 0) + (Number(tg["Weight"]) || 0));
      }
    }
  }
  return weights;
}

export const blueGreenPairs: StackRule = {
  kind: "stack",
  name: "bluegreen-both-colors",
  description:
    "Every app service has both colors' Services (each color's target group in the weighted action), exactly one active color (in-cluster Service and ALB weights agree), and a Deployment behind the active color.",
  docs: "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#actions",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  check: (resources) => {
    const findings: Finding[] = [];
    const deployments = ofTypes(resources, DEPLOYMENT);
    const services = ofTypes(resources, SERVICE);
    const ingresses = ofTypes(resources, INGRESS);
    for (const svc of appServices(resources)) {
      const stackWhere = ofTypes(resources, BLUE_GREEN_SERVICE).find((c) => c.name === svc);
      const firstDeployment = deployments.find((d) => d.name.startsWith(`${svc}-`));
      const resource = stackWhere ?? firstDeployment;
      const at = resource === undefined ? undefined : { type: resource.type, name: resource.name, urn: resource.urn };
      // The controller fails the whole IngressGroup when a Service of a two-target forward is
      // missing (v2.12.0 pkg/ingress/enhanced_backend_builder.go:240-268); the idle color's
      // Deployment may be absent (no image yet, or parked), its Service never.
      const missing = COLORS.filter((color) => !services.some((d) => d.name === `${svc}-${color}`));
      if (missing.length > 0) {
        findings.push({
          resource: at,
          problem: `service "${svc}" has no ${list(missing.map((c) => `${svc}-${c}`))} Service, so the weighted forward action names a Service that does not exist`,
          fix: "declare both colors through the BlueGreenService component",
        });
      }
      const active = services.find((s) => s.name === `${svc}-active`);
      const activeColors = active === undefined ? [] : selectedColors(active);
      if (activeColors.length !== 1) {
        findings.push({
          resource: active === undefined ? at : { type: active.type, name: active.name, urn: active.urn },
          problem:
            active === undefined
              ? `service "${svc}" has no ${svc}-active Service, so east-west traffic has no color to follow`
              : `${svc}-active selects ${activeColors.length === 0 ? "no color" : `both ${list(activeColors)}`}; exactly one color must be active`,
          fix: "select exactly one color (the service's `active` in platform:services)",
        });
        continue;
      }
      if (!deployments.some((d) => d.name === `${svc}-${activeColors[0]}`)) {
        findings.push({
          resource: at,
          problem: `service "${svc}"'s active color ${activeColors[0]} has no ${svc}-${activeColors[0]} Deployment, so live traffic would reach no pods`,
          fix: "give the active color an image and do not park it (platform:services)",
        });
      }
      const ingress = ingresses.find((i) => i.name === `${svc}-ingress`);
      if (ingress === undefined) {
        continue;
      }
      const weights = forwardWeights(ingress);
      const live = COLORS.filter((c) => (weights.get(`${svc}-${c}`) ?? 0) > 0);
      if (live.length !== 1 || live[0] !== activeColors[0]) {
        findings.push({
          resource: { type: ingress.type, name: ingress.name, urn: ingress.urn },
          problem: `the ALB forwards to ${live.length === 0 ? "no color" : list(live.map((c) => `${svc}-${c}`))} while ${svc}-active selects ${activeColors[0]}`,
          fix: "flip both together: the weighted forward action (100/0) and the -active Service's selector follow the same `active` value",
        });
      }
    }
    return findings;
  },
};

const EFS_PROVISIONER = "efs.csi.aws.com";

/** Storage classes backed by EFS: declared StorageClasses with the EFS CSI provisioner, and `efs-sc` (the name the EFS CSI driver's storage class has here). */
function efsStorageClasses(resources: readonly PolicyResource[]): Set<string> {
  const names = new Set<string>(["efs-sc"]);
  for (const sc of ofTypes(resources, "kubernetes:storage.k8s.io/v1:StorageClass")) {
    if (str(sc.props["provisioner"]) === EFS_PROVISIONER) {
      names.add(k8sName(sc) ?? sc.name);
    }
  }
  return names;
}

/** Places a Prometheus TSDB storage class can be declared. */
function prometheusStorageClasses(r: PolicyResource): string[] {
  const found: string[] = [];
  const chart = str(r.props["chart"]) ?? "";
  if ((r.type === "kubernetes:helm.sh/v3:Release" || r.type === "kubernetes:helm.sh/v4:Chart") && /prometheus/.test(chart)) {
    const values = obj(r.props["values"]);
    for (const path of ["prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName", "server.persistentVolume.storageClass"]) {
      const v = str(at(values, path));
      if (v !== undefined) {
        found.push(v);
      }
    }
  }
  if (r.type === "kubernetes:monitoring.coreos.com/v1:Prometheus") {
    const v = str(at(r.props, "spec.storage.volumeClaimTemplate.spec.storageClassName"));
    if (v !== undefined) {
      found.push(v);
    }
  }
  if (r.type === "kubernetes:core/v1:PersistentVolumeClaim" && /prometheus/.test(k8sName(r) ?? r.name)) {
    const v = str(at(r.props, "spec.storageClassName"));
    if (v !== undefined) {
      found.push(v);
    }
  }
  return found;
}

export const prometheusOnEfs: StackRule = {
  kind: "stack",
  name: "prometheus-tsdb-on-efs",
  description:
    "Reports Prometheus' TSDB on EFS: kept because metrics must survive the loss of a pod or AZ, but Prometheus does not support non-POSIX file systems such as NFS. Advisory by design.",
  docs: "https://prometheus.io/docs/prometheus/latest/storage/#operational-aspects",
  scannerIds: [],
  enforcementLevel: "advisory",
  severity: "low",
  check: (resources) => {
    const efs = efsStorageClasses(resources);
    return resources
      .filter((r) => prometheusStorageClasses(r).some((c) => efs.has(c)))
      .map((r) => ({
        resource: { type: r.type, name: r.name, urn: r.urn },
        problem: `Prometheus' TSDB is on the EFS storage class ${list(prometheusStorageClasses(r).filter((c) => efs.has(c)))}; NFS can corrupt or lose the TSDB (locking, fsync and mmap semantics) and is slower to compact`,
        fix: "accept it knowingly (the README's trade-off), or switch Prometheus to gp3 (EBS) in the stack config and rely on remote write or Thanos for AZ loss",
      }));
  },
};

export const platformRules = [blueGreenPairs, prometheusOnEfs];
