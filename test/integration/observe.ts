// What the integration tests observe from outside the driver: every object of a namespace as the
// API server holds it (uid, resourceVersion), the live routing as the double holds it, and the
// traffic the double's router serves over time.

import * as http from "http";
import { Kube, KubeObject } from "./kube";
import { LoadBalancerDouble } from "./lbDouble/double";

/** The namespaced collections the fixture's objects (and the controllers' derived ones) live in. */
const COLLECTIONS: ReadonlyArray<readonly [kind: string, prefix: string, resource: string]> = [
  ["Deployment", "/apis/apps/v1", "deployments"],
  ["ReplicaSet", "/apis/apps/v1", "replicasets"],
  ["Pod", "/api/v1", "pods"],
  ["Service", "/api/v1", "services"],
  ["Endpoints", "/api/v1", "endpoints"],
  ["EndpointSlice", "/apis/discovery.k8s.io/v1", "endpointslices"],
  ["ServiceAccount", "/api/v1", "serviceaccounts"],
  ["ConfigMap", "/api/v1", "configmaps"],
  ["Ingress", "/apis/networking.k8s.io/v1", "ingresses"],
  ["HorizontalPodAutoscaler", "/apis/autoscaling/v2", "horizontalpodautoscalers"],
  ["PodDisruptionBudget", "/apis/policy/v1", "poddisruptionbudgets"],
];

export interface ObjectVersion {
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Labels, annotations and spec (or, for endpoint objects, their content) as JSON: what a writer other than a status writer changes. */
  readonly content: string;
  /** The field manager of the newest managedFields entry, with its subresource: who wrote last. */
  readonly lastWriter: string;
}

type Managed = { manager?: string; time?: string; subresource?: string };

function lastWriter(o: KubeObject): string {
  const entries = ((o.metadata as { managedFields?: Managed[] } | undefined)?.managedFields ?? []).slice();
  entries.sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""));
  const last = entries[entries.length - 1];
  return last === undefined ? "" : `${last.manager ?? "?"}${last.subresource !== undefined ? `/${last.subresource}` : ""}`;
}

/** `Kind/name` -> uid and resourceVersion of every object in `namespace` (and the namespace itself). */
export async function snapshotNamespace(kube: Kube, namespace: string): Promise<Map<string, ObjectVersion>> {
  const out = new Map<string, ObjectVersion>();
  const add = (kind: string, o: KubeObject): void => {
    const { status: _status, metadata: _metadata, ...rest } = o as KubeObject & { status?: unknown; metadata?: { annotations?: unknown } };
    const content = JSON.stringify({ labels: o.metadata?.labels, annotations: _metadata?.annotations, ...rest });
    out.set(`${kind}/${o.metadata?.name ?? "?"}`, { uid: o.metadata?.uid ?? "", resourceVersion: o.metadata?.resourceVersion ?? "", labels: o.metadata?.labels ?? {}, content, lastWriter: lastWriter(o) });
  };
  add("Namespace", await kube.get(`/api/v1/namespaces/${namespace}`));
  for (const [kind, prefix, resource] of COLLECTIONS) {
    for (const o of (await kube.list(`${prefix}/namespaces/${namespace}/${resource}`)).items) add(kind, o);
  }
  return out;
}

export interface SnapshotDiff {
  /** Objects whose labels, annotations or spec changed (same uid). */
  readonly changed: string[];
  /** Objects whose resourceVersion moved but whose content did not: status writes, with their writer. */
  readonly statusOnly: string[];
  /** Objects whose uid changed: replaced. */
  readonly replaced: string[];
  readonly added: string[];
  readonly removed: string[];
}

export function diffSnapshots(before: ReadonlyMap<string, ObjectVersion>, after: ReadonlyMap<string, ObjectVersion>): SnapshotDiff {
  const d: SnapshotDiff = { changed: [], statusOnly: [], replaced: [], added: [], removed: [] };
  for (const [key, b] of before) {
    const a = after.get(key);
    if (a === undefined) d.removed.push(key);
    else if (a.uid !== b.uid) d.replaced.push(key);
    else if (a.content !== b.content) d.changed.push(key);
    else if (a.resourceVersion !== b.resourceVersion) d.statusOnly.push(`${key} by ${a.lastWriter}`);
  }
  for (const key of after.keys()) if (!before.has(key)) d.added.push(key);
  for (const list of Object.values(d)) list.sort();
  return d;
}

/**
 * The endpoints controller's objects for in-cluster Service `service`: they follow its selector,
 * so a selector change rewrites them (kube-controller-manager's endpoints and endpointslice
 * controllers; not written by Pulumi).
 */
export function isDerivedEndpoints(key: string, service: string, v: ObjectVersion | undefined): boolean {
  return key === `Endpoints/${service}` || (key.startsWith("EndpointSlice/") && v?.labels["kubernetes.io/service-name"] === service);
}

export interface Sample {
  readonly at: number;
  readonly status: number;
  /** The `x-platform-color` header of the answer (the backend's color), or "" when none. */
  readonly color: string;
}

/** One request through the double's router with `host` as Host header. */
function request(double: LoadBalancerDouble, host: string, path: string): Promise<Sample> {
  return new Promise((resolve) => {
    const at = Date.now();
    const req = http.request(`${double.routerUrl}${path}`, { headers: { host }, agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on("end", () => {
        const c = res.headers["x-platform-color"];
        resolve({ at, status: res.statusCode ?? 0, color: typeof c === "string" ? c : "" });
      });
    });
    req.on("error", () => resolve({ at, status: 0, color: "" }));
    req.end();
  });
}

/** Sends one request every `everyMs` to the double's router for `host` + `path` until stopped. */
export function sampleTraffic(double: LoadBalancerDouble, host: string, path: string, everyMs = 50): { stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const once = async (): Promise<void> => {
    samples.push(await request(double, host, path));
  };
  // Also ends when the double is closed (the harness's teardown), so a test that failed before
  // stop() does not keep its worker alive.
  const loop = (async () => {
    while (running && !double.isClosed) {
      await once();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** The colors that answered `count` requests to `host` + `path` through the double's router, e.g. { green: 10 }. */
export async function colorsServing(double: LoadBalancerDouble, host: string, path: string, count = 10): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const s = await request(double, host, path);
    const key = s.color !== "" ? s.color : `HTTP ${s.status}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
