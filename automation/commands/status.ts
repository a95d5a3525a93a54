/** status: per service, the active color, images, parked colors and last verified release; changes nothing. */
import { COLORS } from "../../infra/config/schema";
import { DriverDeps } from "../deps";
import { messageOf } from "../errors";
import { ExitCode } from "../exitCodes";
import { convergenceProblems } from "../guards/convergence";
import { classify, Outcome, remediationOf, ServiceStatus } from "../outcome";
import { imageOf, isParked, parseReleases, parseServices, readStackOutputs, RELEASES_KEY, SERVICES_KEY } from "../stackConfig";

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
      };
    });
    const drifted = rows.filter((r) => !r.converged).map((r) => r.service);
    return {
      operation: "status",
      stack: req.stack,
      exitCode: ExitCode.Ok,
      result: "succeeded",
      message:
        drifted.length === 0
          ? `${rows.length} service(s); config matches the last update`
          : `${rows.length} service(s); config differs from the last update for ${drifted.join(", ")} (run preview)`,
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
