/**
 * release: the first stage. CI built and pushed an image; it goes into the stack with the same
 * gates as a promotion and its digest is recorded as verified there. There is no source stack to
 * take a verified digest from, so the registry's digest for what CI pushed is the source of truth.
 */
import { DriverDeps } from "../deps";
import { UsageError } from "../errors";
import { parseImageRef } from "../images";
import { Outcome } from "../outcome";
import { DeployItem } from "../planning";
import { deploy } from "./deploy";

export interface ReleaseRequest {
  readonly stack: string;
  /** Images by tag or digest; tags are resolved to digests before anything changes. */
  readonly items: readonly DeployItem[];
  readonly allowReplace?: boolean;
}

export function release(deps: DriverDeps, req: ReleaseRequest): Promise<Outcome> {
  return deploy(deps, {
    kind: "release",
    stack: req.stack,
    source: "release",
    sourceLabel: "release",
    allowReplace: req.allowReplace ?? false,
    items: { phase: "resolve", resolve: () => pinDigests(deps, req.items) },
    services: req.items.map((i) => ({ service: i.service, newImage: i.image })),
  });
}

async function pinDigests(deps: DriverDeps, items: readonly DeployItem[]): Promise<DeployItem[]> {
  const pinned: DeployItem[] = [];
  for (const item of items) {
    const digestRef = await deps.resolver.resolve(item.image, deps.signal);
    if (parseImageRef(digestRef)?.digest === undefined) {
      throw new UsageError(`could not pin ${item.image} to a digest`);
    }
    pinned.push({ service: item.service, image: digestRef });
  }
  return pinned;
}
