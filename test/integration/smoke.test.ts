// Smoke test of the integration tier: a small TypeScript Pulumi program run through the real
// Automation API (LocalWorkspace) with the CLI, this project's Node.js language host and the
// Kubernetes provider built from Go modules, against the local control plane. Every assertion
// about the cluster reads the live API server, not Pulumi's state.

import * as assert from "assert";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { bin, repoRoot } from "../../tools/tools";
import { kwokNodeAnnotation } from "./controlPlane";
import { controlPlane } from "./fixture";
import { KubeObject, waitFor } from "./kube";
import { PulumiSandbox, pulumiSandbox } from "./pulumi";

const tsconfig = JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "commonjs",
      moduleResolution: "node",
      strict: true,
      skipLibCheck: true,
      types: ["node"],
    },
  },
  null,
  2,
);

// The program under test. Its explicit Provider gets the control plane's kubeconfig as a secret.
// enableConfigMapMutable: pulumi-kubernetes v4.25.0 replaces a ConfigMap whose data changes unless
// this is set (provider/pkg/provider/diff.go forceNewProperties); with it a data change is an
// in-place update.
const program = `
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

const config = new pulumi.Config();
const provider = new k8s.Provider("local", {
  kubeconfig: config.requireSecret("kubeconfig"),
  enableConfigMapMutable: true,
});
const labels = { "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "smoke" };

const ns = new k8s.core.v1.Namespace("smoke", {
  metadata: { name: config.require("namespace"), labels: { "app.kubernetes.io/part-of": "smoke" } },
}, { provider });

const settings = new k8s.core.v1.ConfigMap("settings", {
  metadata: { namespace: ns.metadata.name, name: "settings", labels },
  data: { greeting: config.require("greeting") },
}, { provider });

const web = new k8s.apps.v1.Deployment("web", {
  metadata: { namespace: ns.metadata.name, name: "web", labels },
  spec: {
    replicas: 2,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: {
        containers: [{
          name: "web",
          image: "registry.invalid/smoke/web:1.0.0",
          ports: [{ name: "http", containerPort: 8080 }],
          envFrom: [{ configMapRef: { name: settings.metadata.name } }],
        }],
      },
    },
  },
}, { provider });

export const namespace = ns.metadata.name;
export const deployment = web.metadata.name;
`;

const policyPack = `
import * as k8s from "@pulumi/kubernetes";
import { PolicyPack, validateResourceOfType } from "@pulumi/policy";

new PolicyPack("smoke-policy", {
  policies: [{
    name: "no-greeting-configmaps",
    description: "ConfigMaps must not carry a greeting.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(k8s.core.v1.ConfigMap, (cm, _args, reportViolation) => {
      if (cm.data?.greeting !== undefined) {
        reportViolation(\`ConfigMap \${cm.metadata?.name} carries a greeting: \${cm.data.greeting}\`);
      }
    }),
  }],
});
`;

type Pod = KubeObject & {
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
};
type Deployment = KubeObject & {
  spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };
  status: { readyReplicas?: number; availableReplicas?: number };
};
type ConfigMap = KubeObject & { data?: Record<string, string> };

/** Engine output that would mean a plugin download was attempted. */
const downloadPattern = /download(ing)? (plugin|provider|resource plugin)|plugin install|installing plugin/i;

describe("integration smoke: Automation API on the local control plane", function () {
  const namespace = "smoke";
  let sandbox: PulumiSandbox;
  let stack: Stack;
  let workDir: string;
  const output: string[] = [];
  const events: EngineEvent[] = [];
  const collect = {
    onOutput: (s: string) => output.push(s),
    onEvent: (e: EngineEvent) => events.push(e),
  };

  before(async function () {
    const cp = controlPlane();
    sandbox = await pulumiSandbox();
    assert.strictEqual(sandbox.command.version?.format(), "3.276.0", "the built CLI reports the pinned version");
    workDir = sandbox.project("smoke", {
      "Pulumi.yaml": "name: smoke\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
      "package.json": JSON.stringify({ name: "smoke", version: "0.0.0", private: true, main: "index.ts" }),
      "tsconfig.json": tsconfig,
      "index.ts": program,
    });
    stack = await LocalWorkspace.createStack(
      { stackName: "local", workDir },
      { pulumiCommand: sandbox.command, envVars: sandbox.envVars },
    );
    await stack.setAllConfig({
      kubeconfig: { value: cp.kubeconfigContent, secret: true },
      namespace: { value: namespace },
      greeting: { value: "hello" },
    });
  });

  after(async function () {
    // Best effort: leave nothing in the cluster or on disk even when a test failed half-way.
    if (stack) {
      try {
        const deployed = await stack.exportStack();
        if ((deployed.deployment as { resources?: unknown[] }).resources?.length) await stack.destroy();
      } catch (err) {
        console.error(`[smoke] cleanup destroy failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    sandbox?.cleanup();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") {
      console.error(`[smoke] engine output of the failed test:\n${output.join("")}`);
    }
  });

  it("up creates the Namespace, ConfigMap and Deployment; the pods run Ready on kwok nodes", async function () {
    const kube = controlPlane().kube;
    const result = await stack.up({ ...collect });
    assert.strictEqual(result.summary.result, "succeeded");
    assert.deepStrictEqual(result.summary.resourceChanges, { create: 5 }, "stack, provider, namespace, configmap, deployment");
    assert.strictEqual(result.outputs.namespace.value, namespace);

    const ns = await kube.get(`/api/v1/namespaces/${namespace}`);
    assert.strictEqual(ns.metadata?.labels?.["app.kubernetes.io/part-of"], "smoke");

    const cm = await kube.get<ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/settings`);
    assert.deepStrictEqual(cm.data, { greeting: "hello" });

    const dep = await kube.get<Deployment>(`/apis/apps/v1/namespaces/${namespace}/deployments/web`);
    assert.strictEqual(dep.spec.replicas, 2);
    assert.deepStrictEqual(
      dep.spec.template.spec.containers.map((c) => [c.name, c.image]),
      [["web", "registry.invalid/smoke/web:1.0.0"]],
    );
    // The provider's await logic returned only once the Deployment was available; the API server
    // must agree.
    assert.strictEqual(dep.status.readyReplicas, 2);
    assert.strictEqual(dep.status.availableReplicas, 2);

    const selector = encodeURIComponent("app.kubernetes.io/name=web,app.kubernetes.io/part-of=smoke");
    const pods = await kube.list<Pod>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${selector}`);
    assert.strictEqual(pods.items.length, 2);
    const nodes = controlPlane().nodes;
    for (const pod of pods.items) {
      assert.strictEqual(pod.status.phase, "Running", `${pod.metadata?.name} phase`);
      assert.ok(
        pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        `${pod.metadata?.name} is Ready`,
      );
      assert.ok(pod.spec.nodeName && nodes.includes(pod.spec.nodeName), `${pod.metadata?.name} runs on a kwok node`);
      const node = await kube.get(`/api/v1/nodes/${pod.spec.nodeName}`);
      assert.strictEqual((node.metadata as { annotations?: Record<string, string> }).annotations?.[kwokNodeAnnotation], "fake");
    }
  });

  it("preview right after up expects no changes", async function () {
    const result = await stack.preview({ expectNoChanges: true, ...collect });
    assert.deepStrictEqual(result.changeSummary, { same: 5 });
  });

  it("a ConfigMap change is one in-place update", async function () {
    const kube = controlPlane().kube;
    const before = await kube.get<ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/settings`);
    await stack.setConfig("greeting", { value: "hello again" });
    const result = await stack.up({ ...collect });
    assert.deepStrictEqual(result.summary.resourceChanges, { same: 4, update: 1 });
    const after = await kube.get<ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/settings`);
    assert.deepStrictEqual(after.data, { greeting: "hello again" });
    assert.strictEqual(after.metadata?.uid, before.metadata?.uid, "updated in place, not replaced");
  });

  it("a Node.js policy pack runs through the language host's RunPlugin and reports the ConfigMap", async function () {
    const packDir = sandbox.project("policy", {
      "PulumiPolicy.yaml": "runtime: nodejs\ndescription: Smoke-test policy pack.\n",
      "package.json": JSON.stringify({ name: "smoke-policy", version: "0.0.1", private: true, main: "index.ts" }),
      "tsconfig.json": tsconfig,
      "index.ts": policyPack,
    });
    const seen: EngineEvent[] = [];
    await stack.preview({ policyPacks: [packDir], onEvent: (e) => seen.push(e), onOutput: collect.onOutput });
    const violations = seen.flatMap((e) => (e.policyEvent ? [e.policyEvent] : []));
    assert.deepStrictEqual(
      violations.map((v) => [v.policyPackName, v.policyName, v.resourceUrn?.split("::").pop(), v.enforcementLevel]),
      // The engine reports the pack's own level; automation/events.d.ts at 3.276.0 types the field as
      // "warning" | "mandatory", but the value is the policy's enforcement level.
      [["smoke-policy", "no-greeting-configmaps", "settings", "advisory"]],
    );
    assert.match(violations[0].message, /ConfigMap settings carries a greeting: hello again/);
  });

  it("destroy removes everything from the API server", async function () {
    const kube = controlPlane().kube;
    const result = await stack.destroy({ ...collect });
    assert.deepStrictEqual(result.summary.resourceChanges, { delete: 5 });
    // Namespace deletion is asynchronous (the namespace controller empties it first).
    await waitFor(
      `namespace ${namespace} to be gone`,
      async (why) => {
        const ns = await kube.find(`/api/v1/namespaces/${namespace}`);
        if (ns) why(`still present: ${JSON.stringify((ns as { status?: unknown }).status)}`);
        return ns === undefined ? true : undefined;
      },
      120_000,
    );
    const pods = await kube.list(`/api/v1/pods?labelSelector=${encodeURIComponent("app.kubernetes.io/part-of=smoke")}`);
    assert.strictEqual(pods.items.length, 0);
  });

  it("no plugin was downloaded: the engine used the built binaries only", function () {
    assert.deepStrictEqual(sandbox.downloadedPlugins(), []);
    const all = output.join("");
    assert.doesNotMatch(all, downloadPattern);
    for (const e of events) {
      const msg = e.diagnosticEvent?.message ?? "";
      assert.doesNotMatch(msg, downloadPattern);
    }
    // The engine names an ambient provider it loads (sdk/v3 go/common/workspace/plugins.go).
    assert.ok(
      all.includes(`using pulumi-resource-kubernetes from $PATH at ${bin("pulumi-resource-kubernetes")}`),
      "the provider is the one npm run tools built",
    );
  });

  it("a program that throws fails the preview with its own message, once", async function () {
    // @pulumi/pulumi 3.276.0 cmd/run reports an uncaught error itself and exits with 32; the host
    // then answers bail, and the engine adds no "Program exited with non-zero exit code" of its own.
    const failingDir = sandbox.project("failing", {
      "Pulumi.yaml": "name: failing\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
      "package.json": JSON.stringify({ name: "failing", version: "0.0.0", private: true, main: "index.ts" }),
      "tsconfig.json": tsconfig,
      "index.ts": 'throw new Error("the smoke program refuses to run");\n',
    });
    const failing = await LocalWorkspace.createStack(
      { stackName: "failing", workDir: failingDir },
      { pulumiCommand: sandbox.command, envVars: sandbox.envVars },
    );
    const err = await failing.preview().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error, "the preview must fail");
    assert.match(err.message, /the smoke program refuses to run/);
    assert.doesNotMatch(err.message, /Program exited with non-zero exit code/);
  });

  it("pulumi about goes through the project's own language host", function () {
    // About, GetPluginInfo, GetRequiredPackages and GetProgramDependencies of the host. No stack is
    // selected, so no program runs.
    interface About {
      plugins: { name: string; version: string; kind: string }[];
      runtime: Record<string, string>;
      dependencies: { name: string; version: string }[] | null;
    }
    const about = (cwd: string) =>
      JSON.parse(
        execFileSync(sandbox.command.command, ["about", "--json"], {
          cwd,
          env: { ...process.env, ...sandbox.envVars },
          encoding: "utf8",
        }),
      ) as About;
    const plugins = (a: About) => a.plugins.map((p) => `${p.kind}:${p.name}@${p.version}`);

    // The smoke project: its program directory holds node_modules, where the host finds
    // @pulumi/kubernetes's plugin.
    const smoke = about(workDir);
    assert.ok(plugins(smoke).includes("language:nodejs@3.276.0+platform"), plugins(smoke).join(", "));
    assert.ok(plugins(smoke).includes("resource:kubernetes@4.25.0"), plugins(smoke).join(", "));
    assert.strictEqual(smoke.runtime.languageHost, "platform's own (tools/pulumi-language-nodejs)");
    assert.strictEqual(smoke.runtime.executable, execFileSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).trim());
    const typescript = JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules/typescript/package.json"), "utf8")) as {
      version: string;
    };
    assert.strictEqual(smoke.runtime.typescriptVersion, typescript.version);

    // This repository: Pulumi.yaml's main is infra/index.ts, so the engine's program directory is
    // infra/, below which there is no node_modules. Like Pulumi's host (which also searches only
    // below the program directory), the host then reports no plugins, and the engine resolves each
    // provider when the program registers it.
    const repo = about(repoRoot);
    assert.deepStrictEqual(plugins(repo), ["language:nodejs@3.276.0+platform"]);
    const dep = (name: string) => repo.dependencies?.find((d) => d.name === name)?.version;
    assert.strictEqual(dep("@pulumi/pulumi"), "3.276.0", "from package-lock.json");
    assert.strictEqual(dep("@pulumi/kubernetes"), "4.25.0", "from package-lock.json");
  });
});
