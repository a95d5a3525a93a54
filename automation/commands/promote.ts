/**
 * promote: the images live (and verified) in one stack, by digest, into the next stack.
 */
import { DriverDeps } from "../deps";
import { messageOf, RefusedError, throwIfInterrupted, UsageError } from "../errors";
import { checkConverged } from "../guards/convergence";
import { sameDigest, shortImage } from "../images";
import { Outcome } from "../outcome";
import { DeployItem } from "../planning";
import { imageOf, parseReleases, parseServices, readStackOutputs, ReleaseEntry, RELEASES_KEY, ServiceEntry, SERVICES_KEY } from "../stackConfig";
import { deploy } from "./deploy";

export interface PromoteRequest {
  readonly from: string;
  readonly to: string;
  /** Default: every service of the source stack. */
  readonly services?: readonly string[];
  readonly allowReplace?: boolean;
}

/**
 * Takes the images live in `from` by digest, refuses any the source has not verified, and
 * deploys them into `to`.
 */
export function promote(deps: DriverDeps, req: PromoteRequest): Promise<Outcome> {
  return deploy(deps, {
    kind: "promote",
    stack: req.to,
    source: req.from,
    sourceLabel: `promote ${req.from}->${req.to}`,
    allowReplace: req.allowReplace ?? false,
    items: { phase: "verify-source", resolve: () => verifiedSourceImages(deps, req) },
    services: (req.services ?? []).map((service) => ({ service })),
  });
}

async function verifiedSourceImages(deps: DriverDeps, req: PromoteRequest): Promise<DeployItem[]> {
  const from = req.from;
  if (from === req.to) {
    throw new UsageError(`--from and --to are both "${from}"`);
  }
  const source = await deps.openStack(from);
  const [rawServices, rawReleases, rawOutputs] = await Promise.all([source.getConfig(SERVICES_KEY), source.getConfig(RELEASES_KEY), source.outputs()]);
  const { services } = parseServices(from, rawServices);
  const releases = parseReleases(from, rawReleases);
  const unknown = (req.services ?? []).filter((name) => !services.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`source stack "${from}" has no service named ${unknown.join(", ")}`);
  }
  const entries = req.services === undefined ? services : req.services.flatMap((name) => services.find((s) => s.name === name) ?? []);
  checkConverged(from, entries, readStackOutputs(from, rawOutputs), (s) => [s.active]);
  const checked: Array<{ item: DeployItem } | { problem: string }> = [];
  for (const s of entries) {
    checked.push(await verifiedDigest(deps, from, s, releases[s.name]));
  }
  const problems = checked.filter((c): c is { problem: string } => "problem" in c).map((c) => c.problem);
  if (problems.length > 0) {
    throw new RefusedError(`refusing to promote unverified images from "${from}": ${problems.join("; ")}`, [
      `only digests that passed ${from}'s health gates (recorded in platform:releases of Pulumi.${from}.yaml) are promoted`,
      `release or promote the image into ${from} first, or narrow the promotion with --service`,
    ]);
  }
  return checked.filter((c): c is { item: DeployItem } => "item" in c).map((c) => c.item);
}

/** The digest live on the service's active color, if the source stack recorded exactly it as verified. */
async function verifiedDigest(deps: DriverDeps, from: string, s: ServiceEntry, record: ReleaseEntry | undefined): Promise<{ item: DeployItem } | { problem: string }> {
  const live = imageOf(s, s.active);
  if (live === undefined) {
    return { problem: `${s.name}: no image on the active color ${s.active}` };
  }
  const digestRef = await deps.resolver.resolve(live, deps.signal).catch((err: unknown) => {
    throwIfInterrupted(deps.signal);
    return { error: messageOf(err) };
  });
  if (typeof digestRef !== "string") {
    return { problem: `${s.name}: cannot resolve ${live} to a digest (${digestRef.error})` };
  }
  if (record === undefined) {
    return { problem: `${s.name}: ${shortImage(digestRef)} is live in ${from} but has no release record (never verified there)` };
  }
  if (!sameDigest(record.image, digestRef)) {
    return { problem: `${s.name}: live ${shortImage(digestRef)} differs from the verified ${shortImage(record.image)} (${record.source}, ${record.verifiedAt})` };
  }
  return { item: { service: s.name, image: digestRef } };
}
