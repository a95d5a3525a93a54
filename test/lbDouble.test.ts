/**
 * The load-balancer double's Kubernetes client (test/integration/lbDouble/kube.ts) against a
 * loopback fake of the list/watch API (test/kubeApiFake.ts).
 */
import { strict as assert } from "assert";
import { Informer, KubeApiError, KubeClient } from "./integration/lbDouble/kube";
import type { ObjectMeta } from "./integration/lbDouble/model";
import { FakeKubeApi } from "./kubeApiFake";
import { flipped, NS, serviceIngress, STUDENT, SUBJECT } from "./lbFixtures";

async function eventually<T>(what: string, probe: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Named = { metadata: ObjectMeta };

describe("load-balancer double: Kubernetes list+watch client (loopback API server with client certificates)", function () {
  let api: FakeKubeApi;
  let client: KubeClient | undefined;
  let informer: Informer<Named> | undefined;
  const changes: string[] = [];

  beforeEach(async () => {
    api = await new FakeKubeApi().start();
    changes.length = 0;
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    client?.close();
    client = undefined;
    await api.close();
  });

  async function watchIngresses(kubeconfigStyle: "data" | "files" = "data"): Promise<Informer<Named>> {
    client = KubeClient.fromKubeconfig(api.kubeconfig(kubeconfigStyle));
    informer = new Informer<Named>(client, "/apis/networking.k8s.io/v1/ingresses", {
      onChange: (type, o) => changes.push(`${type} ${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`),
      retryMs: 10,
    });
    await informer.start();
    return informer;
  }

  it("lists, then follows changes from the list's resourceVersion, authenticated by the kubeconfig's client certificate", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    const inf = await watchIngresses();
    assert.deepEqual(changes, ["ADDED apps/student@101"]);
    api.put("ingresses", serviceIngress(SUBJECT));
    api.put("ingresses", flipped(STUDENT, "green"));
    api.remove("ingresses", NS, "subject");
    await eventually("three watch events", () => changes.length === 4);
    assert.deepEqual(changes.slice(1), ["ADDED apps/subject@102", "MODIFIED apps/student@103", "DELETED apps/subject@104"]);
    assert.deepEqual(
      inf.items().map((i) => i.metadata.name),
      ["student"],
    );
    const watch = api.requests.find((r) => r.path.includes("watch=1"));
    assert.match(watch?.path ?? "", /^\/apis\/networking\.k8s\.io\/v1\/ingresses\?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=101$/);
    assert.ok(api.requests.every((r) => r.user === "lb-double"), "every request carries the client certificate");
  });

  it("reads a kubeconfig whose CA and client certificate are files next to it", async () => {
    api.put("ingresses", serviceIngress(STUDENT));
    await watchIngresses("files");
    assert.deepEqual(changes, ["ADDED apps/student@101"]);
  });

  it("resumes a watch the server closed from the last resourceVersion, without relisting", async () => {
    const inf = await watchIngresses();
    api.put("ingresses", serviceIngress(STUDENT));
    await eventually("the ADDED event", () => changes.length === 1);
    api.dropWatches();
    await eventually("a second watch", () => api.openWatches === 1 && inf.watches === 2);
    api.put("ingresses", flipped(STUDENT, "green"));
    await eventually("the MODIFIED event", () => changes.length === 2);
    assert.equal(inf.lists, 1);
    assert.match(api.requests.filter((r) => r.path.includes("watch=1"))[1].path, /resourceVersion=101$/);
  });

  for (const gone of ["an ERROR event with a 410 Status", "HTTP 410"] as const) {
    it(`relists after ${gone} and reports what it missed as changes`, async () => {
      api.goneAsHttpStatus = gone === "HTTP 410";
      api.put("ingresses", serviceIngress(STUDENT));
      api.put("ingresses", serviceIngress(SUBJECT));
      const inf = await watchIngresses();
      await eventually("the first watch", () => api.openWatches === 1);
      changes.length = 0;
      api.holdWatches();
      api.dropWatches();
      await eventually("the watch to be re-requested", () => api.requests.filter((r) => r.path.includes("watch=1")).length === 2);
      api.put("ingresses", flipped(STUDENT, "green"));
      api.remove("ingresses", NS, "subject");
      api.compact();
      api.releaseWatches();
      await eventually("the relist", () => inf.lists === 2 && changes.length === 2);
      assert.deepEqual(changes.sort(), ["DELETED apps/subject@102", "MODIFIED apps/student@103"]);
      assert.deepEqual(
        inf.items().map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`),
        ["student@103"],
      );
      api.put("ingresses", serviceIngress(SUBJECT));
      await eventually("watching again after the relist", () => changes.length === 3);
    });
  }

  it("is refused without the cluster's client certificate", async () => {
    const anonymous = new KubeClient({ server: api.url, ca: Buffer.from(api.caPem) });
    try {
      await assert.rejects(anonymous.list("/api/v1/pods"), (e: unknown) => e instanceof KubeApiError && e.status === 0);
    } finally {
      anonymous.close();
    }
  });

  it("reports the API server's Status on errors", async () => {
    client = KubeClient.fromKubeconfig(api.kubeconfig());
    await assert.rejects(client.getJson("/apis/networking.k8s.io/v1/namespaces/apps/ingresses/missing"), (e: unknown) => e instanceof KubeApiError && e.status === 404 && e.reason === "NotFound" && /ingresses.networking.k8s.io "missing" not found/.test(e.message));
  });
});
