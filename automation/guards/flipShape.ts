/**
 * The names a flip touches on the program's Kubernetes objects (platform:apps:BlueGreenService):
 * the Ingress annotation holding the live forward action, and the color label of the in-cluster
 * Service's selector. They must match infra/apps/blueGreenService.ts and infra/lib/bluegreen.ts;
 * test/automation/targeted.test.ts checks them against the program's constants.
 */

/** The label the Services select a color by. */
export const COLOR_LABEL_KEY = "platform.io/color";

/** The annotation holding the live rule's weighted forward action (`actions.<service>-live`). */
export function liveActionAnnotation(service: string): string {
  return `alb.ingress.kubernetes.io/actions.${service}-live`;
}
