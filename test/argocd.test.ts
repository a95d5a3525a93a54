import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { validateObject } from "../automation/offline/k8sSchema";
import type { State } from "../automation/offline/mocks";
import * as k8s from "@pulumi/kubernetes";
import { ArgoCd } from "../infra/addons/argocd";
import { declare, Evaluation, named, obj, ofType, optionsOf } from "./stack";
import {
  applicationManifest,
  applicationOwnershipProblems,
  ArgoCdApplicationSpec,
  argoCdProblems,
  ArgoCdSettings,
  IN_CLUSTER,
} from "../infra/lib/argocd";

const T = {
  release: "kubernetes:helm.sh/v3:Release",
  namespace: "kubernetes:core/v1:Namespace",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  application: "kubernetes:argoproj.io/v1alpha1:Application",
  password: "random:index/randomPassword:RandomPassword",
} as const;
const ALB = "alb.ingress.kubernetes.io";
/** The mock's generated admin password (automation/offline/mocks.ts), to scan for leaks. */
const PLAIN_PASSWORD = "mock-password-argocd-admin-password-Zq7";


/** The Pulumi wire format marks a secret value with this signature key. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function unwrapSecret(v: unknown): { secret: boolean; value: State } {
  const o = obj(v);
  return o[SECRET_SIG] === SECRET_VALUE ? { secret: true, value: obj(o["value"]) } : { secret: false, value: o };
}

const college: ArgoCdApplicationSpec = {
  name: "college-student-chart",
  repoURL: "https://github.com/mwsun0303/College_Student_Chart",
  path: ".",
  targetRevision: "main",
  namespace: "college",
};
const podinfo: ArgoCdApplicationSpec = {
  name: "podinfo",
  repoURL: "https://stefanprodan.github.io/podinfo",
  chart: "podinfo",
  targetRevision: "6.7.1",
  namespace: "podinfo",
  helmValues: { replicaCount: 3 },
};

describe("ArgoCD ownership guard (pure)", () => {
  const services = ["student", "subject"];
  const cases: Array<{ name: string; app: ArgoCdApplicationSpec; problems: Array<[string, RegExp]> }> = [
    { name: "a Git path into its own namespace", app: college, problems: [] },
    { name: "a Helm chart into its own namespace", app: podinfo, problems: [] },
    {
      name: "the services' namespace",
      app: { ...college, namespace: "apps" },
      problems: [["applications.0.namespace", /targets namespace "apps", where Pulumi runs the blue\/green services/]],
    },
    {
      name: "a service's name",
      app: { ...college, name: "student" },
      problems: [["applications.0.name", /has the name of a service in platform:services/]],
    },
    {
      name: "a service's name in the services' namespace",
      app: { ...college, name: "subject", namespace: "apps" },
      problems: [
        ["applications.0.namespace", /targets namespace "apps"/],
        ["applications.0.name", /has the name of a service/],
      ],
    },
    {
      name: "ArgoCD's own namespace",
      app: { ...college, namespace: "argocd" },
      problems: [["applications.0.namespace", /where Pulumi runs ArgoCD itself/]],
    },
    {
      name: "both path and chart",
      app: { ...college, chart: "college" },
      problems: [["applications.0.chart", /exactly one of path \(Git\) and chart/]],
    },
    {
      name: "neither path nor chart",
      app: { ...college, path: undefined },
      problems: [["applications.0.path", /exactly one of path \(Git\) and chart/]],
    },
  ];
  for (const c of cases) {
    it(`${c.problems.length === 0 ? "accepts" : "rejects"} an application for ${c.name}`, () => {
      const problems = applicationOwnershipProblems([c.app], services);
      assert.deepEqual(
        problems.map((p) => p.path.join(".")),
        c.problems.map(([at]) => at),
      );
      problems.forEach((p, i) => assert.match(p.message, c.problems[i][1]));
      for (const p of problems) {
        assert.ok(p.fix.length > 0, "every problem says how to fix it");
      }
    });
  }

  it("rejects two applications with one name", () => {
    const problems = applicationOwnershipProblems([college, { ...college, namespace: "college-2" }], services);
    assert.deepEqual(
      problems.map((p) => [p.path.join("."), p.message]),
      [["applications.1.name", '"college-student-chart" is already used by applications[0]']],
    );
  });

  it("refuses Kubernetes' and the platform's namespaces, and Helm values asking for privilege", () => {
    for (const namespace of ["kube-system", "kube-public", "default", "monitoring", "logging", "log-retention", "node-exporter"]) {
      const problems = applicationOwnershipProblems([{ ...college, namespace }], services);
      assert.deepEqual(problems.map((p) => p.path.join(".")), ["applications.0.namespace"], namespace);
      assert.match(problems[0].message, new RegExp(`targets namespace "${namespace}", which belongs to Kubernetes or to the platform`));
    }
    const privileged = applicationOwnershipProblems([{ ...college, helmValues: { podSecurityContext: {}, containers: [{ securityContext: { privileged: true } }], hostPID: true } }], services);
    assert.deepEqual(privileged.map((p) => p.path.join(".")), ["applications.0.helmValues"]);
    assert.match(privileged[0].message, /asks for privilege in its Helm values \(helmValues\.containers\[0\]\.securityContext\.privileged, helmValues\.hostPID\)/);
    assert.deepEqual(applicationOwnershipProblems([{ ...college, helmValues: { privileged: false, replicaCount: 3 } }], services), []);
  });

  it("the Application's namespace enforces the restricted Pod Security level", () => {
    const manifest = applicationManifest(college);
    assert.deepEqual((manifest.spec["syncPolicy"] as Record<string, unknown>)["managedNamespaceMetadata"], {
      labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" },
    });
  });

  it("guards a custom services namespace", () => {
    assert.equal(applicationOwnershipProblems([{ ...college, namespace: "web" }], services, "web").length, 1);
    assert.equal(applicationOwnershipProblems([{ ...college, namespace: "apps" }], services, "web").length, 0);
  });

  const settingsCases: Array<{ name: string; settings: Partial<ArgoCdSettings>; problems: Array<[string, RegExp]> }> = [
    { name: "a private server", settings: {}, problems: [] },
    { name: "an exposed server for an office range", settings: { exposed: true, allowedCidrs: ["203.0.113.0/24"] }, problems: [] },
    { name: "an exposed server for nobody", settings: { exposed: true, allowedCidrs: [] }, problems: [["allowedCidrs", /is empty while exposed is true/]] },
    { name: "applications while ArgoCD is off", settings: { enabled: false, applications: [college] }, problems: [["applications", /argocd\.enabled is false/]] },
  ];
  for (const c of settingsCases) {
    it(`${c.problems.length === 0 ? "accepts" : "rejects"} ${c.name}`, () => {
      const settings: ArgoCdSettings = { enabled: true, exposed: false, allowedCidrs: [], applications: [], ...c.settings };
      const problems = argoCdProblems(settings, services);
      assert.deepEqual(
        problems.map((p) => p.path.join(".")),
        c.problems.map(([at]) => at),
      );
      problems.forEach((p, i) => assert.match(p.message, c.problems[i][1]));
    });
  }
});

describe("ArgoCD Application manifests (pure)", () => {
  for (const app of [college, podinfo]) {
    it(`${app.name}: automated sync with prune and self-heal, CreateNamespace, default project, in-cluster destination`, () => {
      const m = applicationManifest(app);
      assert.equal(m.apiVersion, "argoproj.io/v1alpha1");
      assert.equal(m.kind, "Application");
      assert.deepEqual(m.metadata.name, app.name);
      assert.equal(m.metadata.namespace, "argocd");
      assert.deepEqual(m.metadata.finalizers, ["resources-finalizer.argocd.argoproj.io"]);
      const spec = obj(m.spec);
      assert.equal(spec["project"], "default");
      assert.deepEqual(spec["destination"], { server: IN_CLUSTER, namespace: app.namespace });
      const sync = obj(spec["syncPolicy"]);
      assert.deepEqual(sync["automated"], { prune: true, selfHeal: true });
      assert.deepEqual(sync["syncOptions"], ["CreateNamespace=true"]);
    });

    it(`${app.name}: validates against the Application CRD schema`, () => {
      const m = applicationManifest(app);
      assert.doesNotThrow(() => validateObject("kubernetes:argoproj.io/v1alpha1:Application", app.name, { ...m }));
    });
  }

  it("sources a Git path as path and a Helm repository chart as chart, with values as valuesObject", () => {
    assert.deepEqual(obj(applicationManifest(college).spec)["source"], {
      repoURL: "https://github.com/mwsun0303/College_Student_Chart",
      targetRevision: "main",
      path: ".",
    });
    assert.deepEqual(obj(applicationManifest(podinfo).spec)["source"], {
      repoURL: "https://stefanprodan.github.io/podinfo",
      targetRevision: "6.7.1",
      chart: "podinfo",
      helm: { valuesObject: { replicaCount: 3 } },
    });
  });
});

interface ArgoRun {
  readonly ev: Evaluation;
}

/** Declares ArgoCd on a bare k8s provider (the component with explicit args, not a stack's wiring). */
async function evaluateArgoCd(props: {
  highAvailability?: boolean;
  applications?: ArgoCdApplicationSpec[];
  serviceNames?: string[];
  expose?: boolean;
}): Promise<ArgoRun> {
  const ev = await declare(() => {
    const provider = new k8s.Provider("prod-k8s", { kubeconfig: "{}" });
    const argocd = new ArgoCd(
      "argocd",
      {
        provider,
        highAvailability: props.highAvailability,
        applications: props.applications,
        serviceNames: props.serviceNames,
        expose:
          props.expose === true
            ? {
                host: "argocd.karina-univ.com",
                allowedCidrs: ["203.0.113.0/24", "198.51.100.0/24"],
                ingressGroupName: "prod",
                ingressGroupAnnotations: { [`${ALB}/scheme`]: "internet-facing", [`${ALB}/certificate-arn`]: pulumi.output("arn:aws:acm:cert") },
                ingressOrder: 900,
              }
            : undefined,
      },
    );
    return {
      adminPassword: argocd.adminPassword,
      adminPasswordIsSecret: pulumi.output(pulumi.isSecret(argocd.adminPassword)),
      namespace: argocd.namespace,
      ...(argocd.url !== undefined ? { url: argocd.url } : {}),
    };
  });
  return { ev };
}

describe("ArgoCd component", () => {
  let ha: ArgoRun;
  let single: ArgoRun;
  before(async () => {
    ha = await evaluateArgoCd({ highAvailability: true, applications: [college, podinfo], serviceNames: ["student", "subject"] });
    single = await evaluateArgoCd({});
  });
  /** The release's values, unwrapped from the secret envelope the mocks receive them in. */
  const values = (run: ArgoRun): State => unwrapSecret(named(run.ev, T.release, "argocd-release").inputs["values"]).value;

  it("installs the pinned official argo-cd chart into argocd", () => {
    const r = named(ha.ev, T.release, "argocd-release");
    assert.equal(r.inputs["chart"], "argo-cd");
    assert.equal(r.inputs["version"], "8.3.9");
    assert.deepEqual(r.inputs["repositoryOpts"], { repo: "https://argoproj.github.io/argo-helm" });
    assert.equal(r.inputs["namespace"], "argocd");
    assert.equal(r.inputs["name"], "argocd");
    assert.match(String(r.provider), /::prod-k8s::/);
  });

  it("creates the argocd namespace with the restricted Pod Security level", () => {
    const ns = obj(named(ha.ev, T.namespace, "argocd-namespace-ns").inputs["metadata"]);
    assert.equal(ns["name"], "argocd");
    const labels = obj(ns["labels"]);
    for (const mode of ["enforce", "warn", "audit"]) {
      assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted", mode);
    }
    assert.equal(labels["elbv2.k8s.aws/pod-readiness-gate-inject"], undefined, "no ALB targets it while not exposed");
    assert.deepEqual(optionsOf(ha.ev, T.release, "argocd-release").dependsOn, ["platform:apps:AppNamespace::argocd-namespace"], "the release waits for its namespace");
  });

  it("runs HA in prod: redis-ha, two replicas with PDBs of server, repo-server and ApplicationSet controller", () => {
    const v = values(ha);
    const redis = obj(v["redis-ha"]);
    assert.equal(redis["enabled"], true);
    assert.equal(redis["hardAntiAffinity"], false, "3 Redis pods must fit 2 nodes");
    assert.equal(obj(redis["haproxy"])["hardAntiAffinity"], false);
    for (const component of ["server", "repoServer", "applicationSet"]) {
      const c = obj(v[component]);
      assert.equal(c["replicas"], 2, component);
      assert.deepEqual(c["pdb"], { enabled: true, maxUnavailable: 1 }, component);
    }
    assert.deepEqual(v["controller"], { replicas: 1 });
  });

  it("runs one replica of everything and no redis-ha without HA", () => {
    const v = values(single);
    assert.equal(obj(v["redis-ha"])["enabled"], false);
    for (const component of ["server", "repoServer", "applicationSet"]) {
      assert.equal(obj(v[component])["replicas"], 1, component);
      assert.deepEqual(obj(v[component])["pdb"], { enabled: false }, component);
    }
  });

  it("keeps the server private (ClusterIP, own TLS) and Dex off unless exposed", () => {
    const v = values(ha);
    assert.deepEqual(obj(v["server"])["service"], { type: "ClusterIP" });
    assert.equal(obj(obj(v["configs"])["params"])["server.insecure"], false);
    assert.deepEqual(v["dex"], { enabled: false });
    assert.equal(ofType(ha.ev, T.ingress).length, 0);
    assert.equal(ha.ev.outputs["url"], undefined);
  });

  it("passes only the bcrypt hash of the admin password to the chart, and the plain text nowhere", () => {
    assert.equal(unwrapSecret(named(ha.ev, T.release, "argocd-release").inputs["values"]).secret, true, "the Helm values holding the hash are secret");
    const secret = obj(obj(values(ha)["configs"])["secret"]);
    assert.match(String(secret["argocdServerAdminPassword"]), /^\$2a\$10\$/);
    const password = named(ha.ev, T.password, "argocd-admin-password").inputs;
    assert.equal(password["length"], 32);
    for (const r of ha.ev.resources) {
      assert.ok(!JSON.stringify(r.inputs).includes(PLAIN_PASSWORD), `${r.type} ${r.name} carries the plain admin password`);
    }
  });

  it("exports the plain admin password only as a secret output", () => {
    assert.equal(ha.ev.outputs["adminPassword"], PLAIN_PASSWORD);
    assert.equal(ha.ev.outputs["adminPasswordIsSecret"], true);
  });

  it("declares one Application per configured application, synced automatically with prune, self-heal and CreateNamespace", () => {
    const apps = ofType(ha.ev, T.application);
    assert.deepEqual(apps.map((a) => a.name), ["argocd-app-college-student-chart", "argocd-app-podinfo"]);
    for (const a of apps) {
      const spec = obj(a.inputs["spec"]);
      const sync = obj(spec["syncPolicy"]);
      assert.deepEqual(sync["automated"], { prune: true, selfHeal: true });
      assert.deepEqual(sync["syncOptions"], ["CreateNamespace=true"]);
      assert.equal(obj(a.inputs["metadata"])["namespace"], "argocd");
      assert.match(String(a.provider), /::prod-k8s::/);
      assert.deepEqual(optionsOf(ha.ev, T.application, a.name).dependsOn, [`${T.release}::argocd-release`], `${a.name} depends on the release (the chart installs the CRD)`);
    }
  });

  it("refuses an Application that would own a blue/green service", async () => {
    await assert.rejects(
      evaluateArgoCd({ applications: [{ ...college, name: "student" }], serviceNames: ["student", "subject"] }),
      /ArgoCD applications rejected:\n {2}- application "student" has the name of a service/,
    );
    await assert.rejects(
      evaluateArgoCd({ applications: [{ ...college, namespace: "apps" }], serviceNames: ["student", "subject"] }),
      /targets namespace "apps", where Pulumi runs the blue\/green services/,
    );
  });

  describe("exposed", () => {
    let exposed: ArgoRun;
    before(async () => {
      exposed = await evaluateArgoCd({ expose: true });
    });

    it("serves argocd.<host> through the stack's IngressGroup with the group-wide annotations", () => {
      const ingress = named(exposed.ev, T.ingress, "argocd-ingress").inputs;
      const meta = obj(ingress["metadata"]);
      assert.equal(meta["namespace"], "argocd");
      const a = obj(meta["annotations"]);
      assert.equal(a[`${ALB}/group.name`], "prod");
      assert.equal(a[`${ALB}/group.order`], "900");
      assert.equal(a[`${ALB}/scheme`], "internet-facing");
      assert.equal(a[`${ALB}/certificate-arn`], "arn:aws:acm:cert");
      assert.equal(a[`${ALB}/healthcheck-path`], "/healthz");
      const spec = obj(ingress["spec"]);
      assert.equal(spec["ingressClassName"], "alb");
      assert.deepEqual(spec["rules"], [
        {
          host: "argocd.karina-univ.com",
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "argocd-server", port: { name: "http" } } } }] },
        },
      ]);
      assert.equal(exposed.ev.outputs["url"], "https://argocd.karina-univ.com");
    });

    it("admits only the allowed CIDRs with a source-ip rule condition, not the group-wide inbound-cidrs", () => {
      const a = obj(obj(named(exposed.ev, T.ingress, "argocd-ingress").inputs["metadata"])["annotations"]);
      assert.deepEqual(JSON.parse(String(a[`${ALB}/conditions.argocd-server`])), [
        { field: "source-ip", sourceIpConfig: { values: ["203.0.113.0/24", "198.51.100.0/24"] } },
      ]);
      assert.equal(a[`${ALB}/inbound-cidrs`], undefined);
    });

    it("lets the ALB terminate TLS (server.insecure) and labels the namespace for readiness gates", () => {
      const v = values(exposed);
      assert.equal(obj(obj(v["configs"])["params"])["server.insecure"], true);
      assert.equal(obj(v["global"])["domain"], "argocd.karina-univ.com");
      const labels = obj(obj(named(exposed.ev, T.namespace, "argocd-namespace-ns").inputs["metadata"])["labels"]);
      assert.equal(labels["elbv2.k8s.aws/pod-readiness-gate-inject"], "enabled");
    });
  });
});
