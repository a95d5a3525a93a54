// A local Kubernetes control plane for the integration tier, on 127.0.0.1 only: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods become
// Running and Ready), all built by `npm run tools` from Go modules at pinned versions.
//
// startControlPlane() generates a throw-away PKI in a temp dir, starts the components on free
// loopback ports, waits until each is ready and the kwok nodes are Ready, and writes a kubeconfig.
// stop() ends every process it started (SIGTERM to the process group, SIGKILL after a grace period)
// and removes the temp dir; with keepLogs the components' logs are first copied to a folder under
// .cache/integration-logs/ whose path is printed. SIGINT/SIGTERM of the test process and its exit
// also stop everything.

import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { bin, kwokStagesPath, repoRoot, requireBinaries } from "../../tools/tools";
import { Kube, KubeCredentials, KubeObject, waitFor } from "./kube";
import { forgetRunning, recordRunning, sweepLeftovers } from "./leftovers";

export interface KwokNode {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ControlPlaneOptions {
  /** Fake nodes kwok manages. Default: two nodes, kwok-node-0 and kwok-node-1. */
  readonly nodes?: readonly KwokNode[];
  /** How long each component may take to become ready. Default 120 s. */
  readonly readyTimeoutMs?: number;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** kubeconfig of a cluster admin (system:masters) for this API server. */
  readonly kubeconfig: string;
  /** Its content, for a Pulumi Kubernetes Provider's `kubeconfig` argument. */
  readonly kubeconfigContent: string;
  /** An admin client of the API server. */
  readonly kube: Kube;
  /** What `kube` connects with (files under `dir`), for a client in another process. */
  readonly credentials: KubeCredentials;
  readonly nodes: readonly string[];
  /** The temp dir holding the PKI, etcd's data and the logs (removed by stop). */
  readonly dir: string;
  readonly logDir: string;
  stop(opts?: { keepLogs?: boolean }): Promise<void>;
}

/** The annotation kwok is told to manage nodes by (kwok's documented convention). */
export const kwokNodeAnnotation = "kwok.x-k8s.io/node";

interface Component {
  readonly name: string;
  readonly child: ChildProcess;
  readonly binary: string;
  readonly log: string;
  exitCode: number | null | undefined; // undefined while running
}

const live = new Set<() => void>(); // synchronous kill-everything of each running control plane

function killAllNow(): void {
  for (const kill of live) kill();
}

let handlersInstalled = false;
function installProcessHandlers(stopAll: () => Promise<void>): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Without a listener Node exits on these signals without running 'exit' handlers; with one, the
  // components are stopped gracefully first and the process then exits with the signal's code.
  // The listeners stay registered (`on`, not `once`): the Automation API runs the CLI through
  // execa, whose signal-exit handler re-raises the signal, killing this process at once, as soon
  // as it is the only listener left. A second signal kills everything without waiting.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (stopping) {
      killAllNow();
      process.exit(code);
    }
    stopping = true;
    process.stderr.write(`\n[control-plane] ${signal}: stopping the local control plane\n`);
    stopAll().finally(() => process.exit(code));
  };
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
  // Last resort on any exit path: SIGKILL what is still running and remove the temp dirs.
  process.once("exit", killAllNow);
}

const stoppers = new Set<() => Promise<void>>();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === "ENOENT") throw new Error("openssl is not installed: apt-get install -y openssl");
    throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr?.toString() ?? String(err)}`);
  }
}

interface Pki {
  readonly ca: string;
  readonly caKey: string;
  readonly apiserver: { cert: string; key: string };
  readonly clients: Record<"admin" | "controllerManager" | "scheduler", { cert: string; key: string }>;
  readonly saKey: string;
  readonly saPub: string;
}

/** A CA, the API server's serving certificate, client certificates, and the service-account key pair. */
function makePki(dir: string): Pki {
  fs.mkdirSync(dir, { recursive: true });
  const p = (f: string) => path.join(dir, f);
  const days = "2";
  openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
      "-days", days, "-subj", "/CN=platform-integration-ca",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"],
    dir,
  );
  const leaf = (name: string, subject: string, ext: string[]) => {
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`,
      "-out", `${name}.csr`, "-subj", subject], dir);
    fs.writeFileSync(p(`${name}.ext`), ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", ...ext].join("\n") + "\n");
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`,
      "-days", days, "-extfile", `${name}.ext`], dir);
    return { cert: p(`${name}.crt`), key: p(`${name}.key`) };
  };
  const apiserver = leaf("apiserver", "/CN=kube-apiserver", [
    "extendedKeyUsage=serverAuth",
    // 10.96.0.1: the first address of --service-cluster-ip-range, the in-cluster `kubernetes` Service.
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc," +
      "DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1",
  ]);
  // Client identities: the same ones kubeadm gives each component (RBAC's bootstrap roles bind them).
  const clients = {
    admin: leaf("admin", "/O=system:masters/CN=integration-admin", ["extendedKeyUsage=clientAuth"]),
    controllerManager: leaf("controller-manager", "/CN=system:kube-controller-manager", ["extendedKeyUsage=clientAuth"]),
    scheduler: leaf("scheduler", "/CN=system:kube-scheduler", ["extendedKeyUsage=clientAuth"]),
  };
  // Service-account token signing keys (the API server signs, verifies; the controller manager signs
  // legacy token secrets with the same key).
  const sa = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  fs.writeFileSync(p("sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  fs.writeFileSync(p("sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));
  return { ca: p("ca.crt"), caKey: p("ca.key"), apiserver, clients, saKey: p("sa.key"), saPub: p("sa.pub") };
}

function kubeconfig(server: string, ca: string, user: string, cert: { cert: string; key: string }): string {
  const b64 = (f: string) => fs.readFileSync(f).toString("base64");
  // Embedded data, so the kubeconfig is self-contained (a Pulumi Provider receives it as a string).
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: integration",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(ca)}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    client-certificate-data: ${b64(cert.cert)}`,
    `    client-key-data: ${b64(cert.key)}`,
    "contexts:",
    "- name: integration",
    "  context:",
    "    cluster: integration",
    `    user: ${user}`,
    "current-context: integration",
    "",
  ].join("\n");
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** GET over HTTPS on loopback; resolves with the status code and body. */
function httpsGet(url: string, opts: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...opts, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  requireBinaries();
  if (!fs.existsSync(kwokStagesPath)) throw new Error(`missing ${kwokStagesPath}: run npm run tools`);
  for (const line of sweepLeftovers()) console.log(`[control-plane] ${line}`);
  const readyTimeout = options.readyTimeoutMs ?? 120_000;
  const nodes = options.nodes ?? [{ name: "kwok-node-0" }, { name: "kwok-node-1" }];

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-control-plane-"));
  const logDir = path.join(dir, "logs");
  fs.mkdirSync(logDir);
  const components: Component[] = [];
  let stopped = false;

  const killNow = () => {
    for (const c of components) {
      if (c.exitCode === undefined && c.child.pid !== undefined) {
        try {
          process.kill(-c.child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    forgetRunning(process.pid);
  };
  live.add(killNow);

  const start = (name: string, binary: string, args: string[], env: NodeJS.ProcessEnv = process.env): Component => {
    const log = path.join(logDir, `${name}.log`);
    const fd = fs.openSync(log, "a");
    fs.writeSync(fd, `# ${binary} ${args.join(" ")}\n`);
    // Its own process group: a terminal's Ctrl-C reaches only the test process, which then stops
    // the components in order; stop() signals the whole group.
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", fd, fd], env });
    fs.closeSync(fd);
    const c: Component = { name, child, binary, log, exitCode: undefined };
    child.on("exit", (code, signal) => (c.exitCode = code ?? (signal ? -1 : null)));
    child.on("error", (err) => {
      fs.appendFileSync(log, `# spawn error: ${err.message}\n`);
      c.exitCode = -1;
    });
    components.push(c);
    const pids = components.flatMap((x) => (x.child.pid === undefined ? [] : [{ name: x.name, pid: x.child.pid, binary: x.binary }]));
    recordRunning({ owner: process.pid, dir, components: pids });
    return c;
  };

  /** Fails fast, with the log's tail, when a component exits while we wait for it. */
  const alive = (c: Component) => {
    if (c.exitCode !== undefined) {
      throw new Error(`${c.name} exited with ${c.exitCode}; last lines of ${c.log}:\n${tail(c.log)}`);
    }
  };
  const ready = async (c: Component, what: string, probe: () => Promise<boolean>) => {
    const t0 = Date.now();
    let fatal: Error | undefined;
    await waitFor(
      `${c.name} ${what}`,
      async (why) => {
        try {
          alive(c);
        } catch (err) {
          fatal = err as Error;
          return true;
        }
        const ok = await probe();
        if (!ok) why("not ready");
        return ok ? true : undefined;
      },
      readyTimeout,
    );
    if (fatal) throw fatal;
    console.log(`[control-plane] ${c.name}: ${what} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  };

  const stopComponents = async () => {
    // Reverse start order: kwok and the controllers before the API server, etcd last.
    for (const c of [...components].reverse()) {
      if (c.exitCode !== undefined || c.child.pid === undefined) continue;
      const exited = new Promise<void>((r) => c.child.once("exit", () => r()));
      try {
        process.kill(-c.child.pid, "SIGTERM");
      } catch {
        continue;
      }
      const timer = new Promise<boolean>((r) => setTimeout(() => r(false), 10_000));
      if (!(await Promise.race([exited.then(() => true), timer]))) {
        try {
          process.kill(-c.child.pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
        await exited;
      }
    }
  };

  let kube: Kube | undefined;
  const stop = async (opts: { keepLogs?: boolean } = {}) => {
    if (stopped) return;
    stopped = true;
    stoppers.delete(stopAndKeep);
    kube?.close();
    await stopComponents();
    if (opts.keepLogs) {
      const kept = path.join(repoRoot, ".cache", "integration-logs", new Date().toISOString().replace(/[:.]/g, "-"));
      fs.mkdirSync(path.dirname(kept), { recursive: true });
      fs.cpSync(logDir, kept, { recursive: true });
      console.log(`[control-plane] logs of ${components.map((c) => c.name).join(", ")} kept in ${kept}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    forgetRunning(process.pid);
    live.delete(killNow);
  };
  const stopAndKeep = () => stop({ keepLogs: true });
  stoppers.add(stopAndKeep);
  installProcessHandlers(async () => {
    for (const s of [...stoppers]) await s();
  });

  try {
    const pki = makePki(path.join(dir, "pki"));
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const server = `https://127.0.0.1:${apiPort}`;

    // etcd: a single member on loopback. --unsafe-no-fsync: the data is thrown away after the run.
    const etcd = start("etcd", bin("etcd"), [
      "--name=integration",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=integration=http://127.0.0.1:${etcdPeer}`,
      "--initial-cluster-state=new",
      "--unsafe-no-fsync",
    ]);
    await ready(etcd, "/health", async () => {
      const r = await httpGet(`http://127.0.0.1:${etcdClient}/health`).catch(() => undefined);
      return r?.status === 200 && r.body.includes('"health":"true"');
    });

    const apiserver = start("kube-apiserver", bin("kube-apiserver"), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      // No Endpoints for the `kubernetes` Service: Endpoints may not hold a loopback address, and
      // nothing in this cluster routes to it.
      "--endpoint-reconciler-type=none",
      `--cert-dir=${path.join(dir, "apiserver")}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      "--allow-privileged=true",
      "--profiling=false",
    ]);
    const clientTls = { ca: fs.readFileSync(pki.ca), cert: fs.readFileSync(pki.clients.admin.cert), key: fs.readFileSync(pki.clients.admin.key) };
    await ready(apiserver, "/readyz", async () => {
      const r = await httpsGet(`${server}/readyz`, clientTls).catch(() => undefined);
      return r?.status === 200;
    });

    const writeKubeconfig = (name: string, user: string, cert: { cert: string; key: string }) => {
      const file = path.join(dir, `${name}.kubeconfig`);
      fs.writeFileSync(file, kubeconfig(server, pki.ca, user, cert), { mode: 0o600 });
      return file;
    };
    const adminKubeconfig = writeKubeconfig("admin", "integration-admin", pki.clients.admin);
    const kcmKubeconfig = writeKubeconfig("controller-manager", "system:kube-controller-manager", pki.clients.controllerManager);
    const schedKubeconfig = writeKubeconfig("scheduler", "system:kube-scheduler", pki.clients.scheduler);
    const credentials: KubeCredentials = { server, caFile: pki.ca, certFile: pki.clients.admin.cert, keyFile: pki.clients.admin.key };
    kube = new Kube(credentials);
    const client = kube;

    // The controllers' /healthz is served with a certificate they generate in --cert-dir, so the
    // probe does not verify it; it is a loopback call to a process this module started.
    const selfSigned = { rejectUnauthorized: false };
    const controllerManager = start("kube-controller-manager", bin("kube-controller-manager"), [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${kcmPort}`,
      `--cert-dir=${path.join(dir, "controller-manager")}`,
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.ca}`,
      "--profiling=false",
    ]);
    const scheduler = start("kube-scheduler", bin("kube-scheduler"), [
      `--kubeconfig=${schedKubeconfig}`,
      `--authentication-kubeconfig=${schedKubeconfig}`,
      `--authorization-kubeconfig=${schedKubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${schedPort}`,
      `--cert-dir=${path.join(dir, "scheduler")}`,
      "--leader-elect=false",
      "--profiling=false",
    ]);
    await ready(controllerManager, "/healthz", async () => {
      const r = await httpsGet(`https://127.0.0.1:${kcmPort}/healthz`, selfSigned).catch(() => undefined);
      return r?.status === 200;
    });
    await ready(scheduler, "/healthz", async () => {
      const r = await httpsGet(`https://127.0.0.1:${schedPort}/healthz`, selfSigned).catch(() => undefined);
      return r?.status === 200;
    });

    // Fake nodes: kwok manages the nodes carrying its annotation. No taints, so ordinary pods
    // schedule onto them.
    for (const n of nodes) {
      await client.create("/api/v1/nodes", {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: n.name,
          annotations: { [kwokNodeAnnotation]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
          labels: {
            "kubernetes.io/hostname": n.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            type: "kwok",
            ...(n.labels ?? {}),
          },
        },
      });
    }
    // kwok reads ~/.kwok/kwok.yaml when it exists: a HOME of its own keeps a developer's file out.
    const kwokHome = path.join(dir, "kwok-home");
    fs.mkdirSync(kwokHome);
    const kwok = start(
      "kwok",
      bin("kwok"),
      [
        `--kubeconfig=${adminKubeconfig}`,
        `--config=${kwokStagesPath}`,
        `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
        // Leases renewed every 40 s keep the node lifecycle controller from marking nodes NotReady.
        "--node-lease-duration-seconds=40",
      ],
      { ...process.env, HOME: kwokHome },
    );
    await ready(kwok, `nodes ${nodes.map((n) => n.name).join(", ")} Ready`, async () => {
      for (const n of nodes) {
        const node = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
          `/api/v1/nodes/${n.name}`,
        );
        if (!node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return false;
      }
      return true;
    });
    // The service-account controller has created the default namespace's ServiceAccount: pods can
    // be admitted.
    await ready(controllerManager, "default ServiceAccount", async () =>
      (await client.find("/api/v1/namespaces/default/serviceaccounts/default")) !== undefined,
    );

    return {
      server,
      kubeconfig: adminKubeconfig,
      kubeconfigContent: fs.readFileSync(adminKubeconfig, "utf8"),
      kube: client,
      credentials,
      nodes: nodes.map((n) => n.name),
      dir,
      logDir,
      stop,
    };
  } catch (err) {
    await stop({ keepLogs: true });
    throw err;
  }
}
