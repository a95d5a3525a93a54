/**
 * Every probe of every workload the stacks declare targets an endpoint its image serves: each
 * pinned image states what it serves beside its pin (`defaults.imageFacts`), the apps' images
 * through `platform:services` (port, healthPath), and an image without stated facts fails even
 * without probes. Helm values probes are judged against the chart's `probeFacts`.
 */
import { strict as assert } from "assert";
import { defaults as argocd } from "../infra/addons/argocd";
import { defaults as albController } from "../infra/addons/awsLoadBalancerController";
import { defaults as autoscaler } from "../infra/addons/clusterAutoscaler";
import { defaults as cloudwatchExporter } from "../infra/addons/cloudwatchExporter";
import { defaults as metricsServer } from "../infra/addons/metricsServer";
import { defaults as monitoring } from "../infra/addons/monitoring";
import type { ChartDefaults } from "../infra/lib/chartPdb";
import { containerProbeProblems, ImageProbeFacts, PROBE_KINDS, ProbedContainer, serviceImageFacts, valuesProbes } from "../infra/lib/probes";
import { defaults as dashboards } from "../infra/logging/dashboards";
import { defaults as fluentd } from "../infra/logging/fluentd";
import { fluentdPipeline, MONITOR_PORT } from "../infra/logging/fluentdPipeline";
import { defaults as retention } from "../infra/logging/retention";
import { cacheRegistryOf, viaDockerHubCache } from "../infra/lib/images";
import { DeclaredResource, unwrapSecrets } from "../automation/offline/mocks";
import { Evaluation, evaluateStack, Json, ofType, readStackConfig, shippedStack, StackConfig, STACKS } from "./stack";

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const a = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** Every image a component pins, with the facts stated beside the pin. A new pinned image must be listed here. */
const PINNED: ReadonlyMap<string, ImageProbeFacts> = new Map([
  [dashboards.image, dashboards.imageFacts],
  [retention.image, retention.imageFacts],
  [retention.proxyImage, dashboards.imageFacts],
  [fluentd.image, fluentd.imageFacts],
]);
const CHARTS = new Map<string, ChartDefaults>([monitoring, argocd, albController, autoscaler, metricsServer, cloudwatchExporter].map((c) => [c.chartDefaults.chart, c.chartDefaults]));

/** The pinned images plus the apps' images, whose facts their service's config states. */
function imageFacts(config: StackConfig): Map<string, ImageProbeFacts> {
  const table = new Map(PINNED);
  for (const s of (config["platform:services"] ?? []) as Array<{ name: string; port: number; healthPath: string; blue?: { image?: string }; green?: { image?: string } }>) {
    for (const image of [s.blue?.image, s.green?.image]) {
      if (image !== undefined && image !== "") {
        table.set(image, serviceImageFacts(s));
      }
    }
  }
  return table;
}

const WORKLOADS: Record<string, (inputs: Obj) => Obj> = {
  "kubernetes:apps/v1:Deployment": (i) => o(o(o(i["spec"])["template"])["spec"]),
  "kubernetes:apps/v1:DaemonSet": (i) => o(o(o(i["spec"])["template"])["spec"]),
  "kubernetes:apps/v1:StatefulSet": (i) => o(o(o(i["spec"])["template"])["spec"]),
  "kubernetes:apps/v1:ReplicaSet": (i) => o(o(o(i["spec"])["template"])["spec"]),
  "kubernetes:batch/v1:Job": (i) => o(o(o(i["spec"])["template"])["spec"]),
  "kubernetes:batch/v1:CronJob": (i) => o(o(o(o(o(i["spec"])["jobTemplate"])["spec"])["template"])["spec"]),
  "kubernetes:core/v1:Pod": (i) => o(i["spec"]),
};

interface Walk {
  readonly problems: string[];
  /** `<workload>/<container> <probe kind>` of every probe checked. */
  readonly checked: string[];
}

function walkWorkloads(ev: Evaluation, facts: ReadonlyMap<string, ImageProbeFacts>): Walk {
  const problems: string[] = [];
  const checked: string[] = [];
  for (const r of ev.resources.filter((x) => WORKLOADS[x.type] !== undefined)) {
    const pod = WORKLOADS[r.type](unwrapSecrets(r.inputs) as Obj);
    for (const c of [...a(pod["initContainers"]), ...a(pod["containers"])]) {
      const container = c as unknown as ProbedContainer;
      problems.push(...containerProbeProblems(`${r.type.split(":")[2]} ${r.name}`, container, facts.get(container.image)));
      checked.push(...PROBE_KINDS.filter((k) => c[k] !== undefined).map((k) => `${r.name}/${container.name} ${k}`));
    }
  }
  return { problems, checked };
}

function walkReleases(ev: Evaluation): Walk {
  const problems: string[] = [];
  const checked: string[] = [];
  for (const r of ofType(ev, "kubernetes:helm.sh/v3:Release")) {
    const chart = CHARTS.get(String(r.inputs["chart"]));
    assert.ok(chart !== undefined, `${r.name}: chart ${String(r.inputs["chart"])} states no chartDefaults`);
    problems.push(...releaseProbeProblems(r, chart));
    checked.push(...valuesProbes(unwrapSecrets(r.inputs["values"])).map((p) => `${r.name} ${p.path}`));
  }
  return { problems, checked };
}

/** Probes a release sets in its values, judged against the chart workload's stated image facts. */
function releaseProbeProblems(r: Pick<DeclaredResource, "name" | "inputs">, chart: ChartDefaults): string[] {
  return valuesProbes(unwrapSecrets(r.inputs["values"])).flatMap(({ path, probe }) => {
    const workload = Object.keys(chart.probeFacts ?? {})
      .filter((key) => path.startsWith(`${key}.`))
      .sort((x, y) => y.length - x.length)[0];
    const facts = workload !== undefined ? chart.probeFacts?.[workload] : undefined;
    if (workload === undefined || facts === undefined) {
      return [`${r.name} values ${path}: ${chart.chart} ${chart.version} states no probeFacts for the workload it belongs to; read what its image serves and add it`];
    }
    const kind = path.split(".").pop() ?? "";
    const container: ProbedContainer = {
      name: workload,
      image: facts.image,
      ports: Object.entries(facts.namedPorts ?? {}).map(([name, containerPort]) => ({ name, containerPort })),
    };
    return containerProbeProblems(`${r.name} values`, { ...container, [kind]: probe }, facts);
  });
}

/** The stack file with Prometheus and Dashboards exposed, so every optional workload is declared. */
function everythingOn(config: StackConfig): void {
  const obs = (config["platform:observability"] ?? {}) as { [key: string]: { [key: string]: Json } };
  obs["monitoring"] = { ...(obs["monitoring"] ?? {}), allowedCidrs: ["198.51.100.0/24"] };
  obs["logging"] = { ...(obs["logging"] ?? {}), dashboardsCidrs: ["198.51.100.0/24"] };
  config["platform:observability"] = obs;
}

describe("probes target what each image serves", () => {
  for (const stack of STACKS) {
    it(`${stack}: every container's image states its facts and every probe hits an endpoint it serves`, async () => {
      const ev = await shippedStack(stack);
      const { problems, checked } = walkWorkloads(ev, imageFacts(readStackConfig(stack)));
      assert.deepEqual(problems, []);
      if (stack !== "test") {
        assert.ok(checked.some((c) => c.startsWith("student-blue/")), `app probes checked: ${checked.join(", ")}`);
        assert.ok(checked.some((c) => c.includes("sigv4-proxy startupProbe")), `the retention sidecar's probe checked: ${checked.join(", ")}`);
      }
    });
  }

  for (const stack of ["staging", "prod"] as const) {
    it(`${stack} with Prometheus and Dashboards exposed: the Dashboards proxy's probes too`, async () => {
      const config = readStackConfig(stack);
      everythingOn(config);
      const ev = await evaluateStack(stack, everythingOn);
      const { problems, checked } = walkWorkloads(ev, imageFacts(config));
      assert.deepEqual(problems, []);
      assert.ok(checked.some((c) => c.startsWith(`${stack}-log-dashboards-deployment/proxy readinessProbe`)), checked.join(", "));
    });

    it(`${stack}: probes set in Helm values (if any) hit what the chart's images serve`, async () => {
      const { problems } = walkReleases(await shippedStack(stack));
      assert.deepEqual(problems, []);
    });
  }

  it("prod through the Docker Hub pull-through cache: the cached images are the pinned ones, so their facts hold", async () => {
    const credentialArn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
    const withCache = (c: StackConfig): void => {
      c["platform:registry"] = { ...((c["platform:registry"] ?? {}) as { [key: string]: Json }), dockerHubCache: { credentialArn, createRule: true } };
    };
    const config = readStackConfig("prod");
    withCache(config);
    // The cache serves the upstream manifest unchanged: same image, same facts under its ECR name.
    const cache = cacheRegistryOf(credentialArn) ?? "";
    const facts = imageFacts(config);
    for (const [image, stated] of PINNED) {
      facts.set(viaDockerHubCache(image, cache), stated);
    }
    const { problems, checked } = walkWorkloads(await evaluateStack("prod", withCache), facts);
    assert.deepEqual(problems, []);
    assert.ok(checked.some((c) => c.includes("fluentd")), `Fluentd's probes checked: ${checked.join(", ")}`);
  });

  it("the Fluentd pipeline opens the monitor_agent its probes rely on", () => {
    const conf = fluentdPipeline({ endpoint: "vpc-x.es.amazonaws.com", region: "ap-northeast-2", namespace: "logging", indexPrefix: "logs", bufferLimit: "1GB", retryTimeout: "1h" });
    assert.match(conf, new RegExp(`<source>\\n  @type monitor_agent\\n  bind 0\\.0\\.0\\.0\\n  port ${MONITOR_PORT}\\n</source>`));
  });
});

describe("probe facts (table-driven)", () => {
  const proxy = (probe: Obj): ProbedContainer =>
    ({ name: "proxy", image: dashboards.image, ports: [{ name: "http", containerPort: 8080 }], readinessProbe: probe }) as unknown as ProbedContainer;
  const cases: Array<[string, ProbedContainer, ImageProbeFacts | undefined, RegExp[]]> = [
    ["sigv4 proxy: httpGet /health is forwarded, not served", proxy({ httpGet: { path: "/health", port: 8080 } }), dashboards.imageFacts, [/httpGet HTTP :8080\/health is not served by public\.ecr\.aws\/aws-observability\/aws-sigv4-proxy:1\.11\.1 \(it serves tcp :8080;/]],
    ["sigv4 proxy: tcpSocket on its port", proxy({ tcpSocket: { port: 8080 } }), dashboards.imageFacts, []],
    ["sigv4 proxy: tcpSocket on the named port", proxy({ tcpSocket: { port: "http" } }), dashboards.imageFacts, []],
    ["sigv4 proxy: a port it does not listen on", proxy({ tcpSocket: { port: 9090 } }), dashboards.imageFacts, [/tcpSocket :9090 is not served/]],
    ["an unknown named port", proxy({ tcpSocket: { port: "metrics" } }), dashboards.imageFacts, [/port "metrics" is not a named port of the container/]],
    ["sigv4 proxy: exec in a FROM scratch image", proxy({ exec: { command: ["/bin/sh", "-c", "true"] } }), dashboards.imageFacts, [/exec "\/bin\/sh" is not served/]],
    ["an image with no stated facts fails even without probes", { name: "x", image: "example.com/x:1" }, undefined, [/image example\.com\/x:1 states no probe facts/]],
    [
      "an app image: its healthPath on its port",
      { name: "student", image: "r/student:1", ports: [{ name: "http", containerPort: 8080 }], readinessProbe: { httpGet: { path: "/actuator/health", port: "http" } } },
      serviceImageFacts({ name: "student", port: 8080, healthPath: "/actuator/health" }),
      [],
    ],
    [
      "an app image: another path",
      { name: "student", image: "r/student:1", ports: [{ name: "http", containerPort: 8080 }], livenessProbe: { httpGet: { path: "/health", port: "http" } } },
      serviceImageFacts({ name: "student", port: 8080, healthPath: "/actuator/health" }),
      [/livenessProbe: httpGet HTTP :8080\/health is not served by r\/student:1 .*platform:services "student"/],
    ],
    [
      "fluentd: monitor_agent's JSON route, not HTTPS",
      { name: "fluentd", image: fluentd.image, livenessProbe: { httpGet: { path: "/api/plugins.json", port: 24220, scheme: "HTTPS" } } },
      fluentd.imageFacts,
      [/httpGet HTTPS :24220\/api\/plugins\.json is not served/],
    ],
  ];
  for (const [name, container, facts, expected] of cases) {
    it(name, () => {
      const problems = containerProbeProblems("Deployment x", container, facts);
      assert.equal(problems.length, expected.length, problems.join("\n"));
      expected.forEach((re, i) => assert.match(problems[i], re));
    });
  }

  it("finds probe handlers in Helm values, and judges them against the chart's probeFacts", () => {
    const values = { server: { livenessProbe: { httpGet: { path: "/healthz", port: "server" } }, readinessProbe: { initialDelaySeconds: 5 } }, redis: { livenessProbe: { enabled: true } } };
    assert.deepEqual(valuesProbes(values), [{ path: "server.livenessProbe", probe: { httpGet: { path: "/healthz", port: "server" } } }]);
    const chart: ChartDefaults = { chart: "x", version: "1", reviewed: "2026-11-30", source: "t", values: {}, pdbs: [] };
    assert.match(releaseProbeProblems({ name: "r", inputs: { values } }, chart).join("\n"), /r values server\.livenessProbe: x 1 states no probeFacts/);
    const withFacts: ChartDefaults = {
      ...chart,
      probeFacts: { server: { image: "quay.io/argoproj/argocd:v3.1.5", namedPorts: { server: 8080 }, tcpPorts: [8080], http: [{ port: 8080, path: "/healthz", scheme: "HTTP" }], exec: [], source: "t" } },
    };
    assert.deepEqual(releaseProbeProblems({ name: "r", inputs: { values } }, withFacts), []);
    const wrongPath = { server: { livenessProbe: { httpGet: { path: "/health", port: "server" } } } };
    assert.match(releaseProbeProblems({ name: "r", inputs: { values: wrongPath } }, withFacts).join("\n"), /httpGet HTTP :8080\/health is not served/);
  });
});
