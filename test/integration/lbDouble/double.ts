/**
 * The load-balancer double: the AWS Load Balancer Controller and the ALB it manages, on
 * loopback, for one IngressGroup of a real Kubernetes API server (there is no AWS here).
 *
 * - It watches Ingresses, Services and Pods through the API server (./kube.ts: list+watch with
 *   the kubeconfig's credentials).
 * - Like the controller, it reconciles asynchronously: every relevant change is applied to its
 *   "ALB" `lagMs` later, from the newest state observed by then, or never (`mode: "never"`, a
 *   controller that does not apply). controllers/ingress/eventhandlers/ingress_events.go (v2.12.0)
 *   reconciles on changes to annotations, spec or deletion only, so status-only updates (its own)
 *   do not count. A state the model cannot build (./model.ts: one invalid Ingress fails the
 *   whole group) leaves the previous ALB untouched and is reported in `lastError`.
 * - After applying, it writes each member's `status.loadBalancer.ingress` = [{hostname: <ALB DNS
 *   name>}] through the status subresource with a merge patch, when it differs, as
 *   controllers/ingress/group_controller.go updateIngressStatus does.
 * - It routes HTTP on 127.0.0.1 by Host header and path through the applied listener rules: a
 *   weighted choice among a forward action's target groups, round-robin over the group's
 *   targets. Targets are the ready pods matching the target group's Service selector, each
 *   played by a loopback server (./backends.ts) that reports its color and image; per-target-
 *   group request, status and latency counters stand in for the ALB's CloudWatch metrics.
 * - It answers the ELBv2 Describe calls from the applied state (./elbv2Api.ts), so the AWS SDK
 *   client works against it through an `endpoint` override.
 *
 * Simplifications (each a place where it is kinder than AWS): targets are registered as soon
 * as their pods are ready and routed to whatever their health (the ALB only routes to healthy
 * targets once its checks pass); DescribeTargetHealth probes the health path when asked rather
 * than reporting the last periodic check; the controller's finalizers are not added.
 */
import * as http from "http";
import { AddressInfo } from "net";
import type { TargetHealthDescription, TargetHealthReasonEnum } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DEFAULT_IDENTITY_HEADERS, IdentityHeaders } from "../../../infra/lib/identityHeaders";
import { Backend, Behaviour, matcherAccepts, startBackend, TargetIdentity } from "./backends";
import { handleElbv2 } from "./elbv2Api";
import { ChangeType, Informer, KubeClient, objectKey } from "./kube";
import { AlbModel, buildAlb, chooseTargetGroup, Ingress, matchRule, ModelListener, ModelTargetGroup, ObjectMeta, Service, ServicePort, validateGroupName } from "./model";
import { DoubleTimers, REAL_TIMERS } from "./timers";

/** The pod label that says which color a pod is (infra/apps/blueGreenService.ts COLOR_LABEL). */
export const DEFAULT_COLOR_LABEL = "platform.io/color";

export interface Pod {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly containers?: ReadonlyArray<{
      readonly name: string;
      readonly image?: string;
      readonly ports?: ReadonlyArray<{ readonly name?: string; readonly containerPort: number }>;
    }>;
  };
  readonly status?: {
    readonly podIP?: string;
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>;
  };
}

export type DoubleMode = "apply" | "never";

export interface LoadBalancerDoubleOptions {
  /** The API server (e.g. `KubeClient.fromKubeconfig(...)`); the caller closes it. */
  readonly kube: KubeClient;
  /** The IngressGroup this ALB serves (`alb.ingress.kubernetes.io/group.name`). */
  readonly groupName: string;
  /** The controller's `--cluster-name` (`elbv2.k8s.aws/cluster` tag). */
  readonly clusterName: string;
  readonly region: string;
  /** Default 123456789012. */
  readonly accountId?: string;
  /** Watch only this namespace. Default: all namespaces. */
  readonly namespace?: string;
  /** The controller's `--ingress-class`. Default `alb`. */
  readonly ingressClass?: string;
  /** The controller's `--default-tags`. Default none. */
  readonly defaultTags?: Readonly<Record<string, string>>;
  /** Default "apply". */
  readonly mode?: DoubleMode;
  /** Delay between observing a change and applying it. Default 0. */
  readonly lagMs?: number;
  /** Default: real timers. */
  readonly timers?: DoubleTimers;
  /** Weighted target-group choice; default Math.random. */
  readonly random?: () => number;
  /** Response headers the backends identify themselves with. Default DEFAULT_IDENTITY_HEADERS. */
  readonly identityHeaders?: IdentityHeaders;
  /** Pod label holding the color. Default `platform.io/color`. */
  readonly colorLabel?: string;
  /** Cap on ELBv2 page sizes (to exercise paging). Default 400. */
  readonly elbv2PageLimit?: number;
  /** How long the ALB waits for a target's response before answering 504. Default 60 s (the idle timeout). */
  readonly targetTimeoutMs?: number;
  /** The listener whose rules the router serves. Default: the HTTPS listener, else the lowest port. */
  readonly listenerPort?: number;
}

export interface DoubleEvent {
  /** `timers.now()` when it happened. */
  readonly at: number;
  readonly type: "observed" | "applied" | "rejected" | "status" | "error";
  /** The observed state's sequence number. */
  readonly seq?: number;
  readonly detail: string;
}

export interface TargetGroupMetrics {
  readonly targetGroupArn: string;
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  /** Requests the ALB routed to the group (CloudWatch RequestCountPerTarget's numerator). */
  requests: number;
  target2xx: number;
  target3xx: number;
  target4xx: number;
  target5xx: number;
  /** Answers the ALB itself gave for the group: 502 (target reset), 503 (no target), 504 (target timeout). */
  elb5xx: number;
  /** Time from sending the request to the target until its response headers (TargetResponseTime), ms. */
  readonly targetResponseTimesMs: number[];
}

type Counters = Omit<TargetGroupMetrics, "targetGroupArn" | "namespace" | "ingress" | "service">;

/** A target group's counters before its first request. */
function zeroCounters(): Counters {
  return { requests: 0, target2xx: 0, target3xx: 0, target4xx: 0, target5xx: 0, elb5xx: 0, targetResponseTimesMs: [] };
}

interface Snapshot {
  readonly seq: number;
  readonly at: number;
  readonly ingresses: Ingress[];
  readonly services: Service[];
}

function relevantIngress(i: Ingress | undefined): string {
  return JSON.stringify([i?.metadata.annotations ?? {}, i?.spec ?? {}, i?.metadata.deletionTimestamp !== undefined]);
}

function relevantService(s: Service | undefined): string {
  return JSON.stringify([s?.metadata.annotations ?? {}, s?.spec ?? {}]);
}

function isReady(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp === undefined && (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** The container serving the Service port: the one declaring its targetPort, else the first. */
function servingImage(pod: Pod, port: ServicePort): string {
  const containers = pod.spec?.containers ?? [];
  const target = port.targetPort ?? port.port;
  const serving = containers.find((c) => (c.ports ?? []).some((p) => (typeof target === "string" ? p.name === target : p.containerPort === target)));
  return (serving ?? containers[0])?.image ?? "";
}

export class LoadBalancerDouble {
  private readonly timers: DoubleTimers;
  private readonly random: () => number;
  private readonly headers: IdentityHeaders;
  private readonly colorLabel: string;
  private readonly ingresses: Informer<Ingress>;
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly cancels = new Set<() => void>();
  private readonly backends = new Map<string, Backend>();
  private readonly imageBehaviours = new Map<string, Behaviour>();
  private readonly podBehaviours = new Map<string, Behaviour>();
  private readonly tgMetrics = new Map<string, TargetGroupMetrics>();
  private readonly roundRobin = new Map<string, number>();
  private router?: http.Server;
  private elbv2?: http.Server;
  private work: Promise<void> = Promise.resolve();
  private seq = 0;
  private appliedSeq = 0;
  /** The newest state reconciled, applied or rejected: a state is tried once. */
  private triedSeq = 0;
  /** The newest state observed while applying (what a reconcile builds from). */
  private newest: Snapshot | undefined;
  private requestIds = 0;
  private closed = false;
  /** True until every informer has listed: the initial lists are one observation, not one per object. */
  private syncing = true;
  private mode: DoubleMode;
  private lag: number;
  private current: AlbModel | undefined;
  private error: string | undefined;

  /** Everything the double observed and did, in order. */
  readonly history: DoubleEvent[] = [];
  /** Every ELBv2 call answered: its Action and Marker (to see that a reader follows pages). */
  readonly elbv2Calls: Array<{ readonly action: string; readonly marker?: string }> = [];
  /** Requests no rule forwarded (fixed responses, redirects, or no ALB yet). */
  readonly unrouted = { requests: 0 };
  routerUrl = "";
  elbv2Endpoint = "";

  private constructor(private readonly options: LoadBalancerDoubleOptions) {
    const problem = validateGroupName(options.groupName);
    if (problem !== undefined) {
      throw new Error(`load-balancer double: group name "${options.groupName}" is invalid: ${problem}`);
    }
    this.timers = options.timers ?? REAL_TIMERS;
    this.random = options.random ?? Math.random;
    this.headers = options.identityHeaders ?? DEFAULT_IDENTITY_HEADERS;
    this.colorLabel = options.colorLabel ?? DEFAULT_COLOR_LABEL;
    this.mode = options.mode ?? "apply";
    this.lag = options.lagMs ?? 0;
    const ns = options.namespace;
    const collection = (group: string, resource: string): string =>
      ns === undefined ? `${group}/${resource}` : `${group}/namespaces/${encodeURIComponent(ns)}/${resource}`;
    const onError = (err: Error): void => this.record("error", err.message);
    this.ingresses = new Informer<Ingress>(options.kube, collection("/apis/networking.k8s.io/v1", "ingresses"), {
      onChange: (type, obj, prev) => {
        if (type !== "MODIFIED" || relevantIngress(obj) !== relevantIngress(prev)) {
          this.observe(`ingress ${objectKey(obj.metadata)} ${type.toLowerCase()}`);
        }
      },
      onError,
    });
    this.services = new Informer<Service>(options.kube, collection("/api/v1", "services"), {
      onChange: (type, obj, prev) => {
        if (type !== "MODIFIED" || relevantService(obj) !== relevantService(prev)) {
          this.observe(`service ${objectKey(obj.metadata)} ${type.toLowerCase()}`);
        }
      },
      onError,
    });
    this.pods = new Informer<Pod>(options.kube, collection("/api/v1", "pods"), {
      onChange: (_type: ChangeType) => this.enqueue(() => this.syncBackends()),
      onError,
    });
  }

  /** Lists everything, starts the router and the ELBv2 endpoint, and reconciles what exists. */
  static async start(options: LoadBalancerDoubleOptions): Promise<LoadBalancerDouble> {
    const d = new LoadBalancerDouble(options);
    try {
      await d.listen();
      await Promise.all([d.services.start(), d.pods.start(), d.ingresses.start()]);
      d.syncing = false;
      d.observe("initial list");
    } catch (err) {
      await d.close();
      throw err;
    }
    return d;
  }

  private async listen(): Promise<void> {
    const listen = async (handler: http.RequestListener): Promise<{ server: http.Server; url: string }> => {
      const server = http.createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    };
    const router = await listen((req, res) => this.route(req, res));
    this.router = router.server;
    this.routerUrl = router.url;
    const elbv2 = await listen((req, res) => this.answerElbv2(req, res));
    this.elbv2 = elbv2.server;
    this.elbv2Endpoint = elbv2.url;
  }

  // --- control ---------------------------------------------------------------------------------

  /** "never": observed changes are not applied (a controller that rejects them). Back to "apply" reconciles the current state after the lag. */
  setMode(mode: DoubleMode): void {
    const was = this.mode;
    this.mode = mode;
    if (was === "never" && mode === "apply") {
      this.observe("mode apply");
    }
  }

  /** The lag of changes observed from now on; reconciles already scheduled keep their time. */
  setLag(ms: number): void {
    this.lag = ms;
  }

  /**
   * Schedules a reconcile of the state as it is now, as the controller's periodic resync does
   * (controller-runtime's SyncPeriod, the controller's `--sync-period`): a test's way to say "the
   * slow controller has caught up" without another object change.
   */
  resync(why = "resync"): void {
    this.observe(why);
  }

  /** How a target running `image` answers; undefined restores the default (200 at once). */
  setImageBehaviour(image: string, behaviour: Behaviour | undefined): void {
    if (behaviour === undefined) {
      this.imageBehaviours.delete(image);
    } else {
      this.imageBehaviours.set(image, behaviour);
    }
  }

  /** How one pod's target answers (wins over its image's behaviour). */
  setPodBehaviour(pod: string, behaviour: Behaviour | undefined): void {
    if (behaviour === undefined) {
      this.podBehaviours.delete(pod);
    } else {
      this.podBehaviours.set(pod, behaviour);
    }
  }

  /** True once close() was called: its router and API no longer answer. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The ALB as last applied (what ELBv2 describes and the router routes by). */
  get applied(): AlbModel | undefined {
    return this.current;
  }

  /** Why the last reconcile failed; undefined once one succeeds. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** Observed states not yet applied (scheduled, or held back in "never" mode). */
  get pendingChanges(): number {
    return this.seq - this.appliedSeq;
  }

  /** Resolves when queued work (reconciles, status writes, backend changes) has finished. */
  async idle(): Promise<void> {
    let before: Promise<void>;
    do {
      before = this.work;
      await before;
    } while (before !== this.work);
  }

  /** Real-time wait until every observed state is applied (integration tier). */
  async converged(timeoutMs: number): Promise<AlbModel | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.idle();
      if (this.pendingChanges === 0) {
        return this.current;
      }
      if (Date.now() > deadline) {
        throw new Error(`load-balancer double: ${this.pendingChanges} observed change(s) not applied within ${timeoutMs} ms (mode ${this.mode}, lag ${this.lag} ms${this.error !== undefined ? `, last error: ${this.error}` : ""})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // --- metrics ---------------------------------------------------------------------------------

  metrics(): TargetGroupMetrics[] {
    return [...this.tgMetrics.values()];
  }

  /** Metrics of the target groups of `service` (a color Service such as `student-blue`), summed. */
  metricsFor(service: string, namespace?: string): Omit<TargetGroupMetrics, "targetGroupArn" | "ingress"> {
    const sum: Omit<TargetGroupMetrics, "targetGroupArn" | "ingress"> = {
      namespace: namespace ?? "",
      service,
      ...zeroCounters(),
    };
    for (const m of this.tgMetrics.values()) {
      if (m.service === service && (namespace === undefined || m.namespace === namespace)) {
        sum.requests += m.requests;
        sum.target2xx += m.target2xx;
        sum.target3xx += m.target3xx;
        sum.target4xx += m.target4xx;
        sum.target5xx += m.target5xx;
        sum.elb5xx += m.elb5xx;
        sum.targetResponseTimesMs.push(...m.targetResponseTimesMs);
      }
    }
    return sum;
  }

  resetMetrics(): void {
    this.tgMetrics.clear();
    this.unrouted.requests = 0;
  }

  /** The loopback targets currently registered in a target group. */
  targetsOf(targetGroupArn: string): Backend[] {
    const tg = this.current?.targetGroups.find((t) => t.description.TargetGroupArn === targetGroupArn);
    return tg === undefined ? [] : this.targetsFor(tg);
  }

  // --- reconcile -------------------------------------------------------------------------------

  private record(type: DoubleEvent["type"], detail: string, seq?: number): void {
    this.history.push({ at: this.timers.now(), type, seq, detail });
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((err: unknown) => this.record("error", err instanceof Error ? err.message : String(err)));
  }

  private observe(why: string): void {
    if (this.closed || this.syncing) {
      return;
    }
    const snapshot: Snapshot = { seq: ++this.seq, at: this.timers.now(), ingresses: this.ingresses.items(), services: this.services.items() };
    this.record("observed", why, snapshot.seq);
    if (this.mode === "never") {
      return;
    }
    this.newest = snapshot;
    const cancel = this.timers.schedule(this.lag, () => {
      this.cancels.delete(cancel);
      this.enqueue(() => this.reconcile());
    });
    this.cancels.add(cancel);
  }

  /**
   * Builds the ALB from the newest state observed in apply mode, not from the state of the change
   * that scheduled it: the controller's group reconcile loads the group's Ingresses and Services
   * when it runs (aws-load-balancer-controller v2.12.0 controllers/ingress/group_controller.go:122-124,
   * groupLoader.Load). So the halves of a two-object update (a flip's Service and Ingress) are
   * never applied one without the other once both were seen; each state is tried once.
   */
  private async reconcile(): Promise<void> {
    const snapshot = this.newest;
    if (this.closed || snapshot === undefined || snapshot.seq <= this.appliedSeq || snapshot.seq <= this.triedSeq) {
      return;
    }
    this.triedSeq = snapshot.seq;
    const result = buildAlb({
      clusterName: this.options.clusterName,
      region: this.options.region,
      accountId: this.options.accountId ?? "123456789012",
      groupName: this.options.groupName,
      ingresses: snapshot.ingresses,
      services: snapshot.services,
      ingressClass: this.options.ingressClass,
      defaultTags: this.options.defaultTags,
    });
    if (result.kind === "error") {
      this.error = result.message;
      this.record("rejected", result.message, snapshot.seq);
      return;
    }
    this.error = undefined;
    this.appliedSeq = snapshot.seq;
    this.current = result.kind === "alb" ? result.alb : undefined;
    this.record("applied", result.kind === "alb" ? `${result.alb.members.length} member(s)` : "no members: ALB deleted", snapshot.seq);
    if (result.kind === "alb") {
      await this.writeStatus(result.alb);
    }
    await this.syncBackends();
  }

  private async writeStatus(alb: AlbModel): Promise<void> {
    const hostname = alb.loadBalancer.DNSName ?? "";
    for (const member of alb.members) {
      const [namespace, name] = member.split("/");
      const live = this.ingresses.get(namespace, name);
      const lb = live?.status?.loadBalancer?.ingress ?? [];
      if (live === undefined || (lb.length === 1 && lb[0].hostname === hostname && (lb[0].ip ?? "") === "")) {
        continue;
      }
      const apiPath = `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/ingresses/${encodeURIComponent(name)}/status`;
      try {
        await this.options.kube.mergePatch(apiPath, { status: { loadBalancer: { ingress: [{ hostname }] } } });
        this.record("status", `${member} -> ${hostname}`);
      } catch (err) {
        this.error = `failed to update ingress status: ${member}: ${err instanceof Error ? err.message : String(err)}`;
        this.record("error", this.error);
      }
    }
  }

  // --- targets ---------------------------------------------------------------------------------

  private targetIdentities(tg: ModelTargetGroup): TargetIdentity[] {
    const svc = this.services.get(tg.backend.namespace, tg.backend.service);
    if (svc === undefined) {
      return [];
    }
    return this.pods
      .items()
      .filter((p) => p.metadata.namespace === tg.backend.namespace && isReady(p) && selects(svc.spec?.selector, p.metadata.labels))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
      .map((p) => ({
        namespace: tg.backend.namespace,
        pod: p.metadata.name,
        uid: p.metadata.uid ?? p.metadata.name,
        service: tg.backend.service,
        color: p.metadata.labels?.[this.colorLabel],
        image: servingImage(p, tg.backend.servicePort),
      }));
  }

  private backendKey(id: TargetIdentity): string {
    return `${id.uid}|${id.service}|${id.image}|${id.color ?? ""}`;
  }

  private targetsFor(tg: ModelTargetGroup): Backend[] {
    return this.targetIdentities(tg).flatMap((id) => {
      const b = this.backends.get(this.backendKey(id));
      return b === undefined ? [] : [b];
    });
  }

  private behaviourOf(id: TargetIdentity): Behaviour {
    return this.podBehaviours.get(id.pod) ?? this.imageBehaviours.get(id.image) ?? {};
  }

  /** One loopback server per ready pod behind an applied target group; others are stopped. */
  private async syncBackends(): Promise<void> {
    if (this.closed) {
      return;
    }
    const wanted = new Map<string, TargetIdentity>();
    for (const tg of this.current?.targetGroups ?? []) {
      for (const id of this.targetIdentities(tg)) {
        wanted.set(this.backendKey(id), id);
      }
    }
    for (const [k, b] of [...this.backends.entries()]) {
      if (!wanted.has(k)) {
        this.backends.delete(k);
        await b.close();
      }
    }
    for (const [k, id] of wanted) {
      if (!this.backends.has(k)) {
        this.backends.set(k, await startBackend(id, this.headers, (x) => this.behaviourOf(x)));
      }
    }
  }

  private async targetHealth(targetGroupArn: string): Promise<TargetHealthDescription[]> {
    const tg = this.current?.targetGroups.find((t) => t.description.TargetGroupArn === targetGroupArn);
    if (tg === undefined) {
      return [];
    }
    const d = tg.description;
    const timeoutMs = (d.HealthCheckTimeoutSeconds ?? 5) * 1000;
    return Promise.all(
      this.targetsFor(tg).map(async (b): Promise<TargetHealthDescription> => {
        const target = { Id: "127.0.0.1", Port: b.port };
        const probe = await new Promise<{ status?: number; error?: "timeout" | "failed" }>((resolve) => {
          const req = http.get({ host: "127.0.0.1", port: b.port, path: d.HealthCheckPath ?? "/", agent: false, timeout: timeoutMs }, (res) => {
            res.resume();
            resolve({ status: res.statusCode });
          });
          req.on("timeout", () => {
            req.destroy();
            resolve({ error: "timeout" });
          });
          req.on("error", () => resolve({ error: "failed" }));
        });
        if (probe.status !== undefined && matcherAccepts(d.Matcher?.HttpCode ?? "200", probe.status)) {
          return { Target: target, HealthCheckPort: String(b.port), TargetHealth: { State: "healthy" } };
        }
        const [reason, description]: [TargetHealthReasonEnum, string] =
          probe.error === "timeout"
            ? ["Target.Timeout", "Request timed out"]
            : probe.status !== undefined
              ? ["Target.ResponseCodeMismatch", `Health checks failed with these codes: [${probe.status}]`]
              : ["Target.FailedHealthChecks", "Health checks failed"];
        return { Target: target, HealthCheckPort: String(b.port), TargetHealth: { State: "unhealthy", Reason: reason, Description: description } };
      }),
    );
  }

  // --- ELBv2 -----------------------------------------------------------------------------------

  private answerElbv2(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: string): void => {
        res.writeHead(status, { "content-type": "text/xml" });
        res.end(body);
      };
      // The SDK signs with SigV4; an endpoint only answers requests scoped to its own region.
      const auth = String(req.headers["authorization"] ?? "");
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/elasticloadbalancing\/aws4_request/.exec(auth);
      if (scope === null) {
        send(403, `<ErrorResponse><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error><RequestId>0</RequestId></ErrorResponse>`);
        return;
      }
      if (scope[1] !== this.options.region) {
        send(403, `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>Credential should be scoped to a valid region, not '${scope[1]}'.</Message></Error><RequestId>0</RequestId></ErrorResponse>`);
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      const params = new URLSearchParams(body);
      this.elbv2Calls.push({ action: params.get("Action") ?? "", marker: params.get("Marker") ?? undefined });
      handleElbv2(
        {
          alb: this.current,
          targetHealth: (arn) => this.targetHealth(arn),
          pageLimit: this.options.elbv2PageLimit,
          requestId: () => `lb-double-${++this.requestIds}`,
        },
        body,
      ).then(
        (reply) => send(reply.status, reply.body),
        (err: unknown) => send(500, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>${String(err)}</Message></Error><RequestId>0</RequestId></ErrorResponse>`),
      );
    });
  }

  // --- routing ---------------------------------------------------------------------------------

  private listener(): ModelListener | undefined {
    const listeners = this.current?.listeners ?? [];
    if (this.options.listenerPort !== undefined) {
      return listeners.find((l) => l.description.Port === this.options.listenerPort);
    }
    return listeners.find((l) => l.description.Protocol === "HTTPS") ?? listeners[0];
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const listener = this.listener();
    const host = String(req.headers["host"] ?? "");
    const path = req.url ?? "/";
    if (listener === undefined) {
      this.unrouted.requests++;
      req.resume();
      res.writeHead(503, { "content-type": "text/plain", "x-lb-double": "no-load-balancer" });
      res.end("the load-balancer double has not applied a load balancer for this group");
      return;
    }
    const rule = matchRule(listener, host, path);
    const action = (rule.description.Actions ?? [])[0];
    if (action?.Type === "fixed-response") {
      this.unrouted.requests++;
      req.resume();
      const c = action.FixedResponseConfig;
      res.writeHead(Number(c?.StatusCode ?? 503), { "content-type": c?.ContentType ?? "text/plain" });
      res.end(c?.MessageBody ?? "");
      return;
    }
    if (action?.Type === "redirect") {
      this.unrouted.requests++;
      req.resume();
      const c = action.RedirectConfig;
      const [reqHost, reqPort] = host.split(":");
      const [reqPath, reqQuery = ""] = path.split("?");
      const fill = (template: string | undefined, fallback: string): string =>
        (template ?? fallback)
          .replace("#{protocol}", String(listener.description.Protocol ?? "HTTP").toLowerCase())
          .replace("#{host}", reqHost)
          .replace("#{port}", reqPort ?? String(listener.description.Port ?? 80))
          .replace("/#{path}", reqPath)
          .replace("#{query}", reqQuery);
      const query = fill(c?.Query, "#{query}");
      const location = `${fill(c?.Protocol, "#{protocol}").toLowerCase()}://${fill(c?.Host, "#{host}")}:${fill(c?.Port, "#{port}")}${fill(c?.Path, "/#{path}")}${query !== "" ? `?${query}` : ""}`;
      res.writeHead(c?.StatusCode === "HTTP_302" ? 302 : 301, { location });
      res.end();
      return;
    }
    const tgArn = action === undefined ? undefined : chooseTargetGroup(action, this.random());
    const tg = this.current?.targetGroups.find((t) => t.description.TargetGroupArn === tgArn);
    if (tg === undefined) {
      this.unrouted.requests++;
      req.resume();
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("503 Service Temporarily Unavailable");
      return;
    }
    const m = this.metricsOf(tg);
    m.requests++;
    const targets = this.targetsFor(tg);
    if (targets.length === 0) {
      // What an ALB answers for a target group with no registered targets.
      m.elb5xx++;
      req.resume();
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("503 Service Temporarily Unavailable");
      return;
    }
    const arn = tg.description.TargetGroupArn ?? "";
    const n = this.roundRobin.get(arn) ?? 0;
    this.roundRobin.set(arn, n + 1);
    this.proxy(req, res, targets[n % targets.length], m, listener);
  }

  private metricsOf(tg: ModelTargetGroup): TargetGroupMetrics {
    const arn = tg.description.TargetGroupArn ?? "";
    let m = this.tgMetrics.get(arn);
    if (m === undefined) {
      m = {
        targetGroupArn: arn,
        namespace: tg.backend.namespace,
        ingress: tg.backend.ingress,
        service: tg.backend.service,
        ...zeroCounters(),
      };
      this.tgMetrics.set(arn, m);
    }
    return m;
  }

  private proxy(req: http.IncomingMessage, res: http.ServerResponse, target: Backend, m: TargetGroupMetrics, listener: ModelListener): void {
    const started = performance.now();
    const upstream = http.request({
      host: "127.0.0.1",
      port: target.port,
      method: req.method,
      path: req.url,
      agent: false,
      headers: {
        ...req.headers,
        "x-forwarded-for": req.socket.remoteAddress ?? "127.0.0.1",
        "x-forwarded-proto": String(listener.description.Protocol ?? "HTTP").toLowerCase(),
        "x-forwarded-port": String(listener.description.Port ?? ""),
      },
    });
    let timedOut = false;
    upstream.setTimeout(this.options.targetTimeoutMs ?? 60_000, () => {
      timedOut = true;
      upstream.destroy();
    });
    upstream.on("response", (r) => {
      m.targetResponseTimesMs.push(performance.now() - started);
      const status = r.statusCode ?? 0;
      if (status >= 500) m.target5xx++;
      else if (status >= 400) m.target4xx++;
      else if (status >= 300) m.target3xx++;
      else m.target2xx++;
      res.writeHead(status, r.headers);
      r.pipe(res);
    });
    upstream.on("error", () => {
      m.elb5xx++;
      if (!res.headersSent) {
        res.writeHead(timedOut ? 504 : 502, { "content-type": "text/plain" });
        res.end(timedOut ? "504 Gateway Time-out" : "502 Bad Gateway");
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  }

  // --- shutdown --------------------------------------------------------------------------------

  /** Stops the watches, every server and every pending apply. */
  async close(): Promise<void> {
    this.closed = true;
    for (const cancel of this.cancels) {
      cancel();
    }
    this.cancels.clear();
    await Promise.all([this.ingresses.stop(), this.services.stop(), this.pods.stop()]);
    await this.idle();
    const closeServer = (s: http.Server | undefined): Promise<void> =>
      new Promise((resolve) => {
        if (s === undefined || !s.listening) {
          resolve();
          return;
        }
        s.closeAllConnections();
        s.close(() => resolve());
      });
    await Promise.all([closeServer(this.router), closeServer(this.elbv2), ...[...this.backends.values()].map((b) => b.close())]);
    this.backends.clear();
  }
}
