/**
 * Wires the driver to its stand-ins for one test: memory stacks, the real HTTP prober
 * against the loopback health world, the real Discord notifier against a loopback webhook,
 * a stub target-health checker and image resolver, virtual time for backoff.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DriverDeps } from "../../automation/deps";
import { UsageError } from "../../automation/errors";
import { FileBackupStore } from "../../automation/adapters/backup";
import { systemClock } from "../../automation/adapters/clock";
import { DiscordNotifier } from "../../automation/adapters/discord";
import { HttpHealthProber } from "../../automation/adapters/httpProber";
import { createLogger } from "../../automation/adapters/progress";
import { parseImageRef } from "../../automation/images";
import { ImageResolver, StackCatalog, StackDescription, TargetHealthChecker, TargetHealthQuery, TargetHealthResult } from "../../automation/ports";
import { FakeMetrics } from "./fakeMetrics";
import { FakeLoadBalancer } from "./fakeRouting";
import { FakeClock, HealthWorld, Loopback, startServer } from "./loopback";
import { MemoryStack } from "./memoryStack";

export class StubTargetHealth implements TargetHealthChecker {
  readonly queries: TargetHealthQuery[] = [];
  verdict: (q: TargetHealthQuery) => TargetHealthResult = () => ({ healthy: true, detail: "2 target(s) healthy" });

  check(query: TargetHealthQuery): Promise<TargetHealthResult> {
    this.queries.push(query);
    return Promise.resolve(this.verdict(query));
  }
}

export class MapResolver implements ImageResolver {
  readonly tags = new Map<string, string>();
  readonly calls: string[] = [];

  resolve(ref: string): Promise<string> {
    this.calls.push(ref);
    if (parseImageRef(ref)?.digest !== undefined) {
      return Promise.resolve(ref);
    }
    const d = this.tags.get(ref);
    return d === undefined ? Promise.reject(new UsageError(`tag ${ref} not found`)) : Promise.resolve(d);
  }
}

// Generous bounds: loopback answers in ~1 ms, but a loaded CI runner can pause the event loop for
// hundreds of ms (GC, the program evaluations of other suites), and a gate that fails on that is a flake.
export const TEST_GATE = { successes: 2, latencyMs: 1_000, timeoutMs: 2_000, intervalMs: 5 };

export interface WebhookPost {
  readonly embeds: ReadonlyArray<{
    readonly title: string;
    readonly description?: string;
    readonly url?: string;
    readonly fields: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  }>;
  readonly allowed_mentions?: { readonly parse: readonly string[] };
}

export class Harness {
  /** The load balancer: its live rules follow the Ingress after `lb.lagMs` of the fake clock. */
  readonly lb: FakeLoadBalancer;
  /** The load balancer's per-color metrics, counted from the weights it applied over time. */
  readonly metrics: FakeMetrics;
  readonly targetHealth = new StubTargetHealth();
  readonly resolver = new MapResolver();
  readonly logs: string[] = [];
  readonly summaries: string[] = [];
  readonly controller = new AbortController();
  readonly backupDir: string;
  webhookStatus = 204;

  private constructor(
    readonly world: HealthWorld,
    readonly webhook: Loopback,
    readonly clock: FakeClock,
  ) {
    this.lb = new FakeLoadBalancer(clock);
    this.backupDir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-backups-"));
    world.routing = this.lb;
    this.metrics = new FakeMetrics(this.lb, world);
  }

  /**
   * `clock`: the driver's clock. The default moves with the wall clock plus every fake sleep; a
   * test whose numbers depend on the exact time between two readings (a window's length, the
   * requests counted in it) passes a frozen one (`new FakeClock(at)`), which only sleeps move.
   */
  static async start(opts: { readonly clock?: FakeClock } = {}): Promise<Harness> {
    const world = new HealthWorld();
    await world.start();
    let h: Harness | undefined;
    const webhook = await startServer(() => ({ status: h?.webhookStatus ?? 204 }));
    h = new Harness(world, webhook, opts.clock ?? new FakeClock());
    return h;
  }

  get webhookUrl(): string {
    return `${this.webhook.url}/api/webhooks/1234/secret-token`;
  }

  posts(): WebhookPost[] {
    return this.webhook.requests.filter((r) => r.method === "POST").map((r) => JSON.parse(r.body) as WebhookPost);
  }

  backups(stack: string): string[] {
    const dir = path.join(this.backupDir, stack);
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  }

  deps(overrides: Partial<DriverDeps> = {}): DriverDeps {
    return {
      openStack: (name) => {
        const s = this.world.stacks.get(name);
        return s === undefined ? Promise.reject(new UsageError(`unknown stack "${name}"`)) : Promise.resolve(s);
      },
      prober: new HttpHealthProber(systemClock),
      targetHealth: this.targetHealth,
      routing: this.lb,
      metrics: this.metrics,
      resolver: this.resolver,
      notifier: new DiscordNotifier(this.webhookUrl, this.clock, ["hunter2-passphrase"]),
      clock: this.clock,
      log: createLogger({ write: (t) => this.logs.push(t), live: false, clock: this.clock }),
      signal: this.controller.signal,
      backups: new FileBackupStore(this.backupDir),
      run: { runUrl: "https://github.com/acme/platform/actions/runs/42", actor: "ci-bot" },
      policyFor: () => ({ packs: ["/repo/policy"], configs: [] }),
      backoff: { attempts: 4, initialMs: 1_000, factor: 2, maxMs: 10_000, jitter: 0 },
      random: () => 0.5,
      healthGate: TEST_GATE,
      targetHealthWait: { timeoutMs: 30_000, intervalMs: 5_000 },
      routingWait: { timeoutMs: 60_000, intervalMs: 5_000 },
      stepSummary: (md) => this.summaries.push(md),
      ...overrides,
    };
  }

  /** The stacks as their config describes them, for the CLI's argument checks. */
  catalog(): StackCatalog {
    const stacks = this.world.stacks;
    return {
      names: () => [...stacks.keys()].sort(),
      describe: (name: string): StackDescription | undefined => {
        const s = stacks.get(name);
        return s === undefined ? undefined : { name, environment: s.opts.environment, services: s.configServices().map((x) => x.name), config: Object.fromEntries(s.config) };
      },
    };
  }

  /** Registers `stack` with the health world and the load balancer (its live rules as deployed). */
  add(stack: MemoryStack): MemoryStack {
    stack.lb = this.lb;
    if (stack.blueGreen) {
      for (const s of stack.deployed()) {
        this.lb.seed(stack.name, s.name, s.active);
      }
    }
    return this.world.add(stack);
  }

  async close(): Promise<void> {
    await this.world.close();
    await this.webhook.close();
    fs.rmSync(this.backupDir, { recursive: true, force: true });
  }
}
