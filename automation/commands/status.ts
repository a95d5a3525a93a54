/** status: per service, the active color, images, parked colors and last verified release; changes nothing. */
import { COLORS } from "../../infra/config/schema";
import { DriverDeps } from "../deps";
import { messageOf } from "../errors";
import { ExitCode } from "../exitCodes";
import { convergenceProblems } from "../guards/convergence";
import { classify, Outcome, remediationOf, ServiceStatus } from "../outcome";
import { ServiceOutput } from "../../infra/outputs";
import { liveWeights } from "../../infra/lib/canary";
import { CanaryStatus } from "../outcome";
import { imageOf, isParked, parseReleases, parseServices, readStackOutputs, RELEASES_KEY, rolloutOf, ServiceEntry, SERVICES_KEY } from "../stackConfig";

export async function status(deps: DriverDeps, req: { readonly stack: string }): Promise<Outcome> {
  try {
    const s = await deps.openStack(req.stack);
    const [rawServices, rawReleases, rawOutputs] = await Promise.all([s.getConfig(SERVICES_KEY), s.getConfig(RELEASES_KEY), s.outputs()]);
    const { services } = parseServices(req.stack, rawServices);
    const releases = parseReleases(req.stack, rawReleases);
    const outputs = readStackOutputs(req.stack, rawOutputs);
    const rows: ServiceStatus[] = services.map((sv) => {
      const out = outputs?.services.get(sv.name);
      return {
        service: sv.name,
        active: sv.active,
        deployedActive: out?.active,
        blue: imageOf(sv, "blue"),
        green: imageOf(sv, "green"),
        parked: COLORS.filter((c) => isParked(sv, c)),
        idle: sv.idle ?? "warm",
        converged: out === undefined || convergenceProblems(sv, out, COLORS).length === 0,
        release: releases[sv.name],
        liveHealthUrl: out?.liveHealthUrl,
        previewHealthUrl: out?.previewHealthUrl,
        canary: canaryStatus(sv, out),
      };
    });
    const drifted = rows.filter((r) => !r.converged).map((r) => r.service);
    return {
      operation: "status",
      stack: req.stack,
      exitCode: ExitCode.Ok,
      result: "succeeded",
      message: [
        drifted.length === 0
          ? `${rows.length} service(s); config matches the last update`
          : `${rows.length} service(s); config differs from the last update for ${drifted.join(", ")} (run preview)`,
        ...rows.filter((r) => r.canary !== undefined).map((r) => `${r.service} is mid canary rollout`),
      ].join("; "),
      remediation: [],
      services: rows.map((r) => ({ service: r.service, toColor: r.active, newImage: r.active === "blue" ? r.blue : r.green })),
      phases: [],
      status: rows,
    };
  } catch (err) {
    const { result, exitCode } = classify(err);
    return { operation: "status", stack: req.stack, exitCode, result, message: messageOf(err), remediation: remediationOf(err), services: [], phases: [] };
  }
}

/**
 * A service mid canary rollout, from config (what the driver asked for) and the outputs (what the
 * last update applied); undefined when neither has a canary weight. Pure.
 */
export function canaryStatus(sv: ServiceEntry, out: ServiceOutput | undefined): CanaryStatus | undefined {
  if (sv.canaryWeight === undefined && out?.canaryWeight === undefined) {
    return undefined;
  }
  const rollout = rolloutOf(sv);
  const steps = rollout.strategy === "canary" ? rollout.steps : undefined;
  const index = sv.canaryWeight === undefined || steps === undefined ? -1 : steps.indexOf(sv.canaryWeight);
  return {
    weights: liveWeights(sv.active, sv.canaryWeight),
    deployedWeights: out === undefined ? undefined : liveWeights(out.active, out.canaryWeight),
    step: index >= 0 ? index + 1 : undefined,
    steps,
  };
}
