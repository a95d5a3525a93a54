/**
 * The real dependencies of one CLI invocation (Automation API workspace, HTTP prober, ELBv2,
 * CloudWatch, registry, Discord, backups, progress log), the CI run's context and the policy
 * packs a real operation runs with. Built only after a command's arguments passed `validate`.
 */
import * as fs from "fs";
import * as path from "path";
import { AlbRouting, Elbv2LoadBalancerRouting } from "../adapters/albRouting";
import { FileBackupStore, S3BackupStore } from "../adapters/backup";
import { systemClock } from "../adapters/clock";
import { DiscordNotifier, nullNotifier, secretValues } from "../adapters/discord";
import { CloudWatchCanaryMetrics } from "../adapters/cloudwatch";
import { Elbv2TargetHealthChecker } from "../adapters/elbv2";
import { HttpHealthProber } from "../adapters/httpProber";
import { createLogger, isLiveTerminal } from "../adapters/progress";
import { RegistryImageResolver } from "../adapters/registry";
import { openLocalStack, resolveWorkspaceSettings } from "../adapters/workspace";
import { DriverDeps, PolicyOptions, RunContext } from "../deps";
import { CliIo, DepsRequest } from "./registry";

export function runContextFromEnv(env: NodeJS.ProcessEnv): RunContext {
  const server = env["GITHUB_SERVER_URL"];
  const repo = env["GITHUB_REPOSITORY"];
  const id = env["GITHUB_RUN_ID"];
  const runUrl = server !== undefined && repo !== undefined && id !== undefined ? `${server}/${repo}/actions/runs/${id}` : undefined;
  const actor = env["GITHUB_ACTOR"] ?? env["USER"];
  return { runUrl, actor };
}

/** Explicit flags win; else $PLATFORM_POLICY_PACK, else ./policy when it is a policy pack. */
export function resolvePolicy(repoRoot: string, stack: string, env: NodeJS.ProcessEnv, req: Pick<DepsRequest, "policyPacks" | "policyConfigs">): PolicyOptions {
  let packs = [...req.policyPacks];
  if (packs.length === 0) {
    const fromEnv = env["PLATFORM_POLICY_PACK"];
    const dflt = path.join(repoRoot, "infra", "policy");
    if (fromEnv !== undefined && fromEnv !== "") {
      packs = [fromEnv];
    } else if (fs.existsSync(path.join(dflt, "PulumiPolicy.yaml"))) {
      packs = [dflt];
    }
  }
  let configs = [...req.policyConfigs];
  if (configs.length === 0) {
    configs = packs.map((p) => path.join(p, "config", `${stack}.json`)).filter((f) => fs.existsSync(f));
  }
  return { packs: packs.map((p) => path.resolve(p)), configs: configs.map((c) => path.resolve(c)) };
}

/** The real dependencies for one CLI invocation. */
export function realDeps(io: CliIo, signal: AbortSignal, req: DepsRequest): DriverDeps {
  const settings = resolveWorkspaceSettings(io.env);
  const secrets = secretValues(io.env);
  const webhook = io.env["DISCORD_WEBHOOK_URL"];
  const summaryFile = io.env["GITHUB_STEP_SUMMARY"];
  return {
    openStack: (name) => openLocalStack(name, settings, { create: req.create }),
    prober: new HttpHealthProber(systemClock),
    targetHealth: new Elbv2TargetHealthChecker(),
    routing: new AlbRouting(new Elbv2LoadBalancerRouting()),
    metrics: new CloudWatchCanaryMetrics(),
    resolver: new RegistryImageResolver(),
    notifier: webhook !== undefined && webhook !== "" ? new DiscordNotifier(webhook, systemClock, secrets) : nullNotifier,
    clock: systemClock,
    log: createLogger({ write: io.stderr, live: io.isTTY && isLiveTerminal({ isTTY: io.isTTY }, io.env), clock: systemClock, columns: io.columns }),
    signal,
    backups: settings.backups.kind === "s3" ? new S3BackupStore(settings.backups.location) : new FileBackupStore(settings.backups.dir),
    run: runContextFromEnv(io.env),
    policyFor: (stack) => resolvePolicy(settings.repoRoot, stack, io.env, req),
    stepSummary: summaryFile !== undefined && summaryFile !== "" ? (md) => fs.appendFileSync(summaryFile, `${md}\n`) : undefined,
  };
}
