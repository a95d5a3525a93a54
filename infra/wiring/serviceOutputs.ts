/**
 * The `services` stack output (the output contract, `infra/outputs.ts`) from the declared
 * blue/green services. `buildPlatform` and the integration tier's fixture program both export it
 * through this one function.
 */
import * as pulumi from "@pulumi/pulumi";
import { APPS_NAMESPACE } from "../apps/appNamespace";
import type { BlueGreenService } from "../apps/blueGreenService";
import type { Color } from "../domain";
import { healthUrl } from "../lib/hosts";
import type { ColorOutput, ServiceOutput } from "../outputs";
import type { Wiring } from "./context";

/**
 * Each service's colors, images, routing and health URLs, as the output contract defines them.
 * On EKS the colors come from the cluster's resources (`BlueGreenService.deployed`: the active
 * Service's selector, each Deployment's image), so a targeted update reports what really runs;
 * a parked color has no Deployment and reports the image its unpark will run. The test host has
 * no blue/green: it runs each service's configured active image, replaced by every full `up`.
 */
export function serviceOutputs({ cfg, hosts }: Pick<Wiring, "cfg" | "hosts">, blueGreen: readonly BlueGreenService[]): pulumi.Output<ServiceOutput[]> {
  const eks = blueGreen.length > 0;
  const deployed = new Map(blueGreen.map((b) => [b.serviceName, b.deployed]));
  const namespaces = new Map(blueGreen.map((b) => [b.serviceName, b.namespace]));
  return pulumi.all(
    cfg.services.map((s) => {
      const base = {
        name: s.name,
        healthPath: s.healthPath,
        paths: [...s.paths],
        ...(eks ? { namespace: namespaces.get(s.name) ?? APPS_NAMESPACE, previewHealthUrl: healthUrl(hosts.preview, s) } : {}),
        liveHealthUrl: healthUrl(hosts.live, s),
      };
      const fromConfig = (color: Color): ColorOutput => ({ ...(s[color].image !== undefined ? { image: s[color].image } : {}) });
      const parked = (color: Color, out: ColorOutput): ColorOutput =>
        s[color].parked === true ? { ...out, ...fromConfig(color), parked: true } : out;
      const state = deployed.get(s.name);
      if (state === undefined) {
        return pulumi.output<ServiceOutput>({ ...base, active: s.active, blue: fromConfig("blue"), green: fromConfig("green") });
      }
      return state.apply(
        (d): ServiceOutput => ({
          ...base,
          active: d.active,
          blue: parked("blue", d.colors.blue),
          green: parked("green", d.colors.green),
          // Only mid canary rollout, read from the Ingress the cluster has.
          ...(d.canaryWeight !== undefined ? { canaryWeight: d.canaryWeight } : {}),
        }),
      );
    }),
  );
}
