/**
 * Config and deployed state must agree on what serves traffic before traffic is moved: with a
 * stale config the "idle" color could be the live one, and staging into it would replace the
 * live image without any gate.
 */
import { Color } from "../../infra/config/schema";
import { ServiceOutput, StackOutputs } from "../../infra/outputs";
import { RefusedError } from "../errors";
import { shortImage } from "../images";
import { imageOf, isParked, ServiceEntry } from "../stackConfig";

/** Where a service's config differs from what its last update deployed, for `colors`. Pure. */
export function convergenceProblems(s: ServiceEntry, out: ServiceOutput, colors: readonly Color[]): string[] {
  const problems: string[] = [];
  if (out.active !== s.active) {
    problems.push(`${s.name}: config says ${s.active} is active, the stack serves ${out.active}`);
  }
  // A canary weight sends live traffic to the idle color: config and stack must agree on it too.
  if (out.canaryWeight !== s.canaryWeight) {
    const share = (w: number | undefined): string => (w === undefined ? "no traffic" : `${w}%`);
    problems.push(`${s.name}: config sends ${share(s.canaryWeight)} to the idle color, the stack ${share(out.canaryWeight)}`);
  }
  for (const color of colors) {
    const deployed = out[color].image;
    const configured = imageOf(s, color);
    if (deployed !== undefined && deployed !== configured) {
      problems.push(`${s.name}: ${color} is ${shortImage(configured)} in config but ${shortImage(deployed)} in the stack`);
    }
    // A color the config thinks is running but the stack has parked would take traffic with no pods.
    const deployedParked = out[color].parked === true;
    if (deployedParked !== isParked(s, color)) {
      problems.push(`${s.name}: ${color} is ${isParked(s, color) ? "parked" : "running"} in config but ${deployedParked ? "parked" : "running"} in the stack`);
    }
  }
  return problems;
}

/** Refuses when any of `services` disagrees with the stack's outputs; a service never deployed has nothing to disagree with. */
export function checkConverged(stack: string, services: readonly ServiceEntry[], outputs: StackOutputs | undefined, colors: (s: ServiceEntry) => readonly Color[]): void {
  const problems = services.flatMap((s) => {
    const out = outputs?.services.get(s.name);
    return out === undefined ? [] : convergenceProblems(s, out, colors(s));
  });
  if (problems.length > 0) {
    throw new RefusedError(`stack "${stack}": config and deployed state disagree (${problems.join("; ")})`, [
      `run \`npm run platform -- preview ${stack}\` to see the difference, then \`up ${stack}\` (or revert Pulumi.${stack}.yaml) before moving traffic`,
    ]);
  }
}
