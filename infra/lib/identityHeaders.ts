/**
 * How a running color says who it is. The driver's color-aware live gate reads these response
 * headers to know which color and image answered on the live host (a healthy answer from the
 * old color must not verify a flip); the integration tier's load-balancer double sets them on
 * its backends. Pure constants, no Pulumi imports.
 *
 * Services opt in by sending both headers on their health endpoint (e.g. from environment
 * variables the Deployment sets). The names are the defaults of a per-service setting; a
 * service that cannot use these names overrides them in its config entry.
 */
export interface IdentityHeaders {
  /** Response header carrying the color (`blue` | `green`) of the pod that answered. */
  readonly color: string;
  /** Response header carrying the image reference the answering pod runs. */
  readonly image: string;
}

/** Lower-case, as Node's `IncomingMessage.headers` keys them. */
export const DEFAULT_IDENTITY_HEADERS: IdentityHeaders = {
  color: "x-platform-color",
  image: "x-platform-image",
};

/** The config value that turns one of the checks off for a service (`healthGate.colorHeader: none`). */
export const NO_HEADER = "none";

/**
 * Environment variables every color's container gets, so a service can echo who it is in the
 * headers above: its color and the image reference the stack deployed.
 */
export const IDENTITY_ENV = { color: "PLATFORM_COLOR", image: "PLATFORM_IMAGE" } as const;

/** An HTTP header name (RFC 9110 token), or `none`. */
export const HEADER_SETTING = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
