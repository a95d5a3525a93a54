/**
 * Pure ArgoCD logic: the ownership guard (ArgoCD never owns what Pulumi deploys) and the
 * `Application` manifests. No Pulumi imports; tested table-driven (test/argocd.test.ts).
 */

import { privilegedValues, SYSTEM_NAMESPACES } from "../policy/rules/workloads";
import { APPS_NAMESPACE } from "./bluegreen";

/**
 * Namespaces an Application may never deploy into (Kubernetes' own and the platform's: a prune or
 * self-heal there would delete or revert what Pulumi runs), and what counts as asking for
 * privilege: one definition with the policy pack's `argocd-application-scope`.
 */
export { privilegedValues, SYSTEM_NAMESPACES };

export { APPS_NAMESPACE };

/** Namespace ArgoCD itself runs in; Applications must be created here. */
export const ARGOCD_NAMESPACE = "argocd";

/** The in-cluster API server as ArgoCD names it. */
export const IN_CLUSTER = "https://kubernetes.default.svc";

const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";
const PSA_ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version";

/** One ArgoCD Application as the stack config declares it. */
export interface ArgoCdApplicationSpec {
  /** DNS label; the Application's name. */
  readonly name: string;
  /** Git repository or Helm repository URL. */
  readonly repoURL: string;
  /** Directory in a Git repository (Helm chart, Kustomize or plain manifests). Exactly one of `path` and `chart`. */
  readonly path?: string;
  /** Chart name in a Helm repository. Exactly one of `path` and `chart`. */
  readonly chart?: string;
  /** Branch, tag or commit (Git) or chart version (Helm). */
  readonly targetRevision: string;
  /** Destination namespace (created by ArgoCD if missing). */
  readonly namespace: string;
  /** Helm values (for a chart, or a Git path holding a chart). Default: none. */
  readonly helmValues?: Readonly<Record<string, unknown>>;
}

/** A config problem, shaped like the schema's issues: path below `argocd`, message and fix. */
export interface ArgoCdProblem {
  readonly path: Array<string | number>;
  readonly message: string;
  readonly fix: string;
}

/**
 * ArgoCD must never own the blue/green services: Pulumi declares them, and the automation
 * driver flips them by changing the stack. An ArgoCD Application syncing into the same namespace
 * or under a service's name would fight Pulumi (self-heal reverting every flip, prune deleting
 * the idle color). Returns every violation; empty when the applications are safe.
 */
export function applicationOwnershipProblems(
  applications: readonly ArgoCdApplicationSpec[],
  serviceNames: readonly string[],
  appsNamespace: string = APPS_NAMESPACE,
): ArgoCdProblem[] {
  const problems: ArgoCdProblem[] = [];
  const seen = new Map<string, number>();
  applications.forEach((app, i) => {
    const at = (key: string): Array<string | number> => ["applications", i, key];
    if (app.namespace === appsNamespace) {
      problems.push({
        path: at("namespace"),
        message: `application "${app.name}" targets namespace "${appsNamespace}", where Pulumi runs the blue/green services`,
        fix: "deploy it to its own namespace; the services are declared in platform:services and flipped by the automation driver",
      });
    }
    if (serviceNames.includes(app.name)) {
      problems.push({
        path: at("name"),
        message: `application "${app.name}" has the name of a service in platform:services, which Pulumi owns`,
        fix: "rename the application, or remove the service from platform:services if ArgoCD should own it instead",
      });
    }
    if (app.namespace === ARGOCD_NAMESPACE) {
      problems.push({
        path: at("namespace"),
        message: `application "${app.name}" targets namespace "${ARGOCD_NAMESPACE}", where Pulumi runs ArgoCD itself`,
        fix: "deploy it to its own namespace",
      });
    } else if (app.namespace !== appsNamespace && app.namespace !== APPS_NAMESPACE && (SYSTEM_NAMESPACES as readonly string[]).includes(app.namespace)) {
      problems.push({
        path: at("namespace"),
        message: `application "${app.name}" targets namespace "${app.namespace}", which belongs to Kubernetes or to the platform (a prune or self-heal there deletes or reverts what runs there)`,
        fix: `deploy it to its own namespace (not ${SYSTEM_NAMESPACES.join(", ")})`,
      });
    }
    const privileged = privilegedValues(app.helmValues ?? {}, "helmValues");
    if (privileged.length > 0) {
      problems.push({
        path: at("helmValues"),
        message: `application "${app.name}" asks for privilege in its Helm values (${privileged.join(", ")}); its namespace enforces the restricted Pod Security level, so the API server would refuse those pods`,
        fix: "remove them; ArgoCD applications run unprivileged",
      });
    }
    const hasPath = app.path !== undefined && app.path !== "";
    const hasChart = app.chart !== undefined && app.chart !== "";
    if (hasPath === hasChart) {
      problems.push({
        path: at(hasPath ? "chart" : "path"),
        message: `application "${app.name}" must name exactly one of path (Git) and chart (Helm repository)`,
        fix: hasPath ? "remove chart, or remove path" : "set path to the directory in the Git repository, or chart to the chart name",
      });
    }
    const previous = seen.get(app.name);
    if (previous !== undefined) {
      problems.push({ path: at("name"), message: `"${app.name}" is already used by applications[${previous}]`, fix: "give every application a unique name" });
    } else {
      seen.set(app.name, i);
    }
  });
  return problems;
}

/** The parts of `platform:argocd` the cross-field rules look at. */
export interface ArgoCdSettings {
  readonly enabled: boolean;
  readonly exposed: boolean;
  readonly allowedCidrs: readonly string[];
  readonly applications: readonly ArgoCdApplicationSpec[];
}

/**
 * Every cross-field problem of `platform:argocd`: the ownership guard above, plus exposure rules
 * (an exposed server must be limited to listed networks; the config schema judges what the list
 * covers, infra/config/schema/gitops.ts).
 */
export function argoCdProblems(settings: ArgoCdSettings, serviceNames: readonly string[], appsNamespace: string = APPS_NAMESPACE): ArgoCdProblem[] {
  const problems = applicationOwnershipProblems(settings.applications, serviceNames, appsNamespace);
  if (settings.exposed && settings.allowedCidrs.length === 0) {
    problems.push({
      path: ["allowedCidrs"],
      message: "is empty while exposed is true; the ArgoCD UI and API would answer nobody",
      fix: "list the office/VPN egress ranges allowed to reach ArgoCD, or set exposed to false and use kubectl port-forward",
    });
  }
  if (!settings.enabled && settings.applications.length > 0) {
    problems.push({
      path: ["applications"],
      message: `declares ${settings.applications.length} application(s) but argocd.enabled is false`,
      fix: "turn argocd.enabled on, or remove the applications",
    });
  }
  return problems;
}

/** An `Application` object as the Kubernetes API takes it. */
export interface ApplicationManifest {
  readonly apiVersion: "argoproj.io/v1alpha1";
  readonly kind: "Application";
  readonly metadata: { name: string; namespace: string; labels: Record<string, string>; finalizers: string[] };
  readonly spec: Record<string, unknown>;
}

/** The `Application` object (argoproj.io/v1alpha1) for one spec: automated sync with prune and self-heal. */
export function applicationManifest(app: ArgoCdApplicationSpec, argocdNamespace: string = ARGOCD_NAMESPACE): ApplicationManifest {
  const source: Record<string, unknown> = {
    repoURL: app.repoURL,
    targetRevision: app.targetRevision,
    ...(app.chart !== undefined && app.chart !== "" ? { chart: app.chart } : { path: app.path }),
    ...(app.helmValues !== undefined ? { helm: { valuesObject: app.helmValues } } : {}),
  };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name: app.name,
      namespace: argocdNamespace,
      labels: { "app.kubernetes.io/managed-by": "pulumi" },
      // Deleting the Application (removing it from config) deletes what it deployed, matching
      // `prune: true`; without the finalizer the workloads would be orphaned, still running.
      finalizers: ["resources-finalizer.argocd.argoproj.io"],
    },
    spec: {
      project: "default",
      source,
      destination: { server: IN_CLUSTER, namespace: app.namespace },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        syncOptions: ["CreateNamespace=true"],
        // The namespace ArgoCD creates enforces the restricted Pod Security level, so nothing the
        // application syncs runs privileged or with host access (the API server refuses such pods).
        // Argo CD applies them with CreateNamespace=true: the Application CRD of the pinned chart
        // (argo-cd 8.3.9, Argo CD v3.1.5, templates/crds/crd-application.yaml) describes
        // spec.syncPolicy.managedNamespaceMetadata as "metadata in the given namespace (if CreateNamespace=true)".
        managedNamespaceMetadata: { labels: { [PSA_ENFORCE]: "restricted", [PSA_ENFORCE_VERSION]: "latest" } },
        // Transient failures (a webhook not ready yet, an API throttle) retry with backoff instead
        // of leaving the Application failed until the next commit.
        retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } },
      },
    },
  };
}
