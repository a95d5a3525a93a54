/**
 * The response headers a service answers with to say which color and image served a request.
 * The live gate reads them to prove that the color a switch moved traffic to is the one
 * answering on the live host (a healthy old color would otherwise pass it). Dependency-free, so
 * the load-balancer double of the integration tier can import the same names.
 *
 * A service that sends neither declares it in its stack config
 * (`platform:services[].healthGate: { colorHeader: none, imageHeader: none }`); the gate then
 * says that the check was skipped instead of passing silently.
 */

/** Names the color (`blue` or `green`) of the pod that answered. */
export const COLOR_HEADER = "x-platform-color";

/** Names the image reference the answering pod runs, as the stack deployed it. */
export const IMAGE_HEADER = "x-platform-image";

/** The config value that turns one of the checks off for a service. */
export const NO_HEADER = "none";
