/**
 * Kubernetes workloads declared through the Kubernetes provider (Helm charts are opaque here; the
 * real pack also sees the objects of `helm.sh/v4` Charts and ConfigFiles as separate resources).
 */
import type { Finding, PolicyResource, ResourceRule, RuleContext, StackRule } from "../engine";
import { bool, list, num, obj, objs, str, strs } from "../values";
import { containersOf, k8sName, namespaceOf, ofTypes, podLabelsOf, podSpecOf, selectorMatches, WORKLOAD_TYPES } from "./common";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
/**
 * Workloads whose containers run until replaced, which probes are for. Jobs and CronJobs are
 * exempt from `k8s-probes-set` on purpose: a run-to-completion container serves no traffic for a
 * readiness probe to gate, and a liveness probe could only kill a slow but healthy run; the
 * Job's `activeDeadlineSeconds` and `backoffLimit` bound a hung or failing one instead (see the
 * ISM retention Job, infra/logging/retention.ts). Every other Pod Security, resources and
 * image rule still applies to them (`WORKLOAD_TYPES`).
 */
const LONG_RUNNING = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"];

const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

interface PrivilegedNamespace {
  readonly namespace: string;
  readonly reason: string;
}

function privilegedNamespaces(ctx: RuleContext): PrivilegedNamespace[] {
  return objs(ctx.settings["privilegedNamespaces"]).map((p) => ({ namespace: str(p["namespace"]) ?? "", reason: str(p["reason"]) ?? "" }));
}

/** The restricted profile's container-level requirements, as a list of what a container misses. */
function restrictedProblems(pod: Readonly<Record<string, unknown>>, container: Readonly<Record<string, unknown>>): string[] {
  const podSc = obj(pod["securityContext"]);
  const sc = obj(container["securityContext"]);
  const problems: string[] = [];
  const runAsNonRoot = bool(sc["runAsNonRoot"]) ?? bool(podSc["runAsNonRoot"]);
  if (runAsNonRoot !== true) {
    problems.push("runAsNonRoot is not true");
  }
  if ((num(sc["runAsUser"]) ?? num(podSc["runAsUser"])) === 0) {
    problems.push("runAsUser is 0 (root)");
  }
  if (bool(sc["allowPrivilegeEscalation"]) !== false) {
    problems.push("allowPrivilegeEscalation is not false");
  }
  if (bool(sc["privileged"]) === true) {
    problems.push("privileged is true");
  }
  const capabilities = obj(sc["capabilities"]);
  if (!strs(capabilities["drop"]).includes("ALL")) {
    problems.push("capabilities.drop does not include ALL");
  }
  const added = strs(capabilities["add"]).filter((c) => c !== "NET_BIND_SERVICE");
  if (added.length > 0) {
    problems.push(`capabilities.add has ${list(added)}`);
  }
  const seccomp = str(obj(sc["seccompProfile"])["type"]) ?? str(obj(podSc["seccompProfile"])["type"]);
  if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
    problems.push(`seccompProfile.type is ${seccomp ?? "unset"} (RuntimeDefault required)`);
  }
  return problems;
}

export const k8sPodSecurityRestricted: ResourceRule = {
  kind: "resource",
  name: "k8s-pod-security-restricted",
  description:
    "Workloads outside the documented privileged namespaces meet the restricted Pod Security profile, and only those namespaces may be labelled privileged.",
  docs: "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
  scannerIds: ["CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_31", "CKV_K8S_37"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: [...WORKLOAD_TYPES, NAMESPACE],
  settings: {
    privilegedNamespaces: {
      type: "array",
      description: "Namespaces whose pods may be privileged (e.g. node agents needing hostPath), each with its reason.",
      default: [{ namespace: "kube-system", reason: "EKS's own node agents (aws-node, kube-proxy) run here with host access" }],
      items: {
        type: "object",
        properties: { namespace: { type: "string", minLength: 1 }, reason: { type: "string", minLength: 20 } },
        required: ["namespace", "reason"],
      },
    },
  },
  check: (r, ctx) => {
    const allowed = privilegedNamespaces(ctx);
    if (r.type === NAMESPACE) {
      const name = k8sName(r) ?? r.name;
      const level = str(obj(obj(r.props["metadata"])["labels"])[ENFORCE_LABEL]);
      if (allowed.some((a) => a.namespace === name) || level === "restricted") {
        return [];
      }
      return [
        {
          problem:
            level === undefined
              ? `namespace "${name}" has no ${ENFORCE_LABEL} label, so Pod Security Admission enforces nothing there (the cluster default is privileged)`
              : `namespace "${name}" enforces the ${level} Pod Security level but is not a documented privileged namespace`,
          fix: `label it ${ENFORCE_LABEL}: restricted, or list it with its reason under privilegedNamespaces of k8s-pod-security-restricted in infra/policy/config/<stack>.json`,
        },
      ];
    }
    const namespace = namespaceOf(r);
    if (allowed.some((a) => a.namespace === namespace)) {
      return [];
    }
    const pod = podSpecOf(r);
    const findings: Finding[] = [];
    const hostAccess = ["hostNetwork", "hostPID", "hostIPC"].filter((k) => bool(pod[k]) === true);
    const hostPaths = objs(pod["volumes"])
      .filter((v) => v["hostPath"] !== undefined)
      .map((v) => str(v["name"]) ?? "?");
    if (hostAccess.length > 0 || hostPaths.length > 0) {
      findings.push({
        problem: `the pod uses ${list([...hostAccess, ...hostPaths.map((v) => `hostPath volume ${v}`)])} in namespace "${namespace}"`,
        fix: `remove host access, or run the workload in a documented privileged namespace (privilegedNamespaces in infra/policy/config/<stack>.json)`,
      });
    }
    for (const c of containersOf(pod)) {
      const problems = restrictedProblems(pod, c.spec);
      if (problems.length > 0) {
        findings.push({
          problem: `${c.kind} "${c.name}" in namespace "${namespace}": ${list(problems)}`,
          fix: 'set securityContext { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } } on the container (or the pod for runAsNonRoot and seccomp)',
        });
      }
    }
    return findings;
  },
};

export const k8sResources: ResourceRule = {
  kind: "resource",
  name: "k8s-resources-set",
  description: "Every container declares CPU and memory requests and limits.",
  docs: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
  scannerIds: ["CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: [...WORKLOAD_TYPES],
  check: (r) =>
    containersOf(podSpecOf(r))
      .filter((c) => c.kind !== "ephemeralContainer")
      .flatMap((c) => {
        const resources = obj(c.spec["resources"]);
        const missing = (["requests", "limits"] as const).flatMap((kind) =>
          ["cpu", "memory"].filter((res) => obj(resources[kind])[res] === undefined).map((res) => `${kind}.${res}`),
        );
        return missing.length > 0
          ? [
              {
                problem: `${c.kind} "${c.name}" has no ${list(missing)}`,
                fix: "set resources.requests (what the scheduler reserves, what the HPA measures against) and resources.limits (what stops a leak from starving the node)",
              },
            ]
          : [];
      }),
};

export const k8sProbes: ResourceRule = {
  kind: "resource",
  name: "k8s-probes-set",
  description: "Every long-running container (Deployment, StatefulSet, DaemonSet; not Job or CronJob) has a readiness and a liveness probe.",
  docs: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
  scannerIds: ["CKV_K8S_8", "CKV_K8S_9"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: LONG_RUNNING,
  check: (r) =>
    containersOf(podSpecOf(r))
      .filter((c) => c.kind === "container")
      .flatMap((c) => {
        const missing = ["readinessProbe", "livenessProbe"].filter((p) => c.spec[p] === undefined);
        return missing.length > 0
          ? [
              {
                problem: `container "${c.name}" has no ${list(missing)}`,
                fix: "add a readinessProbe (gates traffic and rollouts) and a different, cheaper livenessProbe (restarts a hung process)",
              },
            ]
          : [];
      }),
};

/** Whether an image reference is pinned: a digest, or a tag other than `latest`. */
export function imagePinning(image: string): "digest" | "tag" | "latest" | "untagged" {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) {
    return "digest";
  }
  const lastSlash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon <= lastSlash) {
    return "untagged";
  }
  return image.slice(colon + 1) === "latest" ? "latest" : "tag";
}

export const k8sImagePinned: ResourceRule = {
  kind: "resource",
  name: "k8s-image-pinned",
  description: "Outside test, container images are pinned by tag or digest, never `:latest` or untagged.",
  docs: "https://kubernetes.io/docs/concepts/containers/images/#image-names",
  scannerIds: ["CKV_K8S_14", "CKV_K8S_43"],
  enforcementLevel: "mandatory",
  severity: "medium",
  environments: ["staging", "prod"],
  resourceTypes: [...WORKLOAD_TYPES],
  check: (r) => {
    // A parked color with no image yet runs no pods; it gets an image before it can serve.
    const parked = num(obj(r.props["spec"])["replicas"]) === 0;
    return containersOf(podSpecOf(r)).flatMap((c) => {
      const image = str(c.spec["image"]) ?? "";
      if (image === "" && parked) {
        return [];
      }
      const pinning = imagePinning(image);
      return pinning === "latest" || pinning === "untagged"
        ? [
            {
              problem: `${c.kind} "${c.name}" uses ${image === "" ? "no image" : `"${image}"`}${pinning === "untagged" && image !== "" ? " (no tag means :latest)" : ""}, so what runs changes without a change to the stack`,
              fix: "use <registry>/<repo>:<version> or, better, <registry>/<repo>@sha256:<digest> (promotion pins digests)",
            },
          ]
        : [];
    });
  },
};

/** Replicas the workload runs with at least: the spec, or the HPA's minimum when one targets it. */
function minimumReplicas(w: PolicyResource, resources: readonly PolicyResource[]): number {
  const spec = num(obj(w.props["spec"])["replicas"]);
  const hpa = ofTypes(resources, HPA).find((h) => {
    const target = obj(obj(h.props["spec"])["scaleTargetRef"]);
    return namespaceOf(h) === namespaceOf(w) && str(target["kind"]) === str(w.props["kind"]) && str(target["name"]) === k8sName(w);
  });
  const hpaMin = hpa === undefined ? undefined : (num(obj(hpa.props["spec"])["minReplicas"]) ?? 1);
  return Math.max(spec ?? (hpaMin === undefined ? 1 : 0), hpaMin ?? 0);
}

export const k8sPdb: StackRule = {
  kind: "stack",
  name: "k8s-pdb-for-replicated",
  description: "Every Deployment or StatefulSet with more than one replica has a PodDisruptionBudget that selects its pods and still allows evictions.",
  docs: "https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "medium",
  check: (resources) => {
    const findings: Finding[] = [];
    const pdbs = ofTypes(resources, PDB);
    for (const w of ofTypes(resources, "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")) {
      const replicas = minimumReplicas(w, resources);
      if (replicas <= 1) {
        continue;
      }
      const resource = { type: w.type, name: w.name, urn: w.urn };
      const labels = podLabelsOf(w);
      const matching = pdbs.filter((p) => namespaceOf(p) === namespaceOf(w) && selectorMatches(obj(p.props["spec"])["selector"], labels));
      if (matching.length === 0) {
        findings.push({
          resource,
          problem: `runs ${replicas} replicas but no PodDisruptionBudget in namespace "${namespaceOf(w)}" selects its pods, so a node drain may evict them all at once`,
          fix: "declare a policy/v1 PodDisruptionBudget with maxUnavailable: 1 and the Deployment's pod selector",
        });
        continue;
      }
      for (const p of matching) {
        const spec = obj(p.props["spec"]);
        const maxUnavailable = num(spec["maxUnavailable"]);
        const minAvailable = num(spec["minAvailable"]);
        if (maxUnavailable === 0 || (minAvailable !== undefined && minAvailable >= replicas)) {
          findings.push({
            resource,
            problem: `its PodDisruptionBudget "${k8sName(p) ?? p.name}" (${maxUnavailable === 0 ? "maxUnavailable 0" : `minAvailable ${minAvailable} of ${replicas}`}) allows no eviction, so node upgrades hang`,
            fix: "use maxUnavailable: 1 (or a percentage)",
          });
        }
      }
    }
    return findings;
  },
};

export const kubernetesRules = [k8sPodSecurityRestricted, k8sResources, k8sProbes, k8sImagePinned, k8sPdb];
