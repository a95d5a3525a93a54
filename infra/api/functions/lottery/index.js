// @ts-check
/**
 * Daycare-admission lottery (seed 003), called by the Spring backend through API Gateway
 * (HTTP API, payload format 2.0).
 *
 *   POST /draw   { "seed": string, "seats": number, "applicants": [{ "id": string, "priority"?: number }] }
 *             -> 200 { "algorithm", "seed", "seats", "drawn": [id...], "waitlist": [id...] }
 *   GET /health -> 200 { "status": "ok" }
 *
 * A draw is a pure function of its input: applicants are ordered by priority (higher first)
 * and, within a priority, by SHA-256(seed NUL id). Anyone holding the published seed and the
 * applicant list can recompute the result, which is what makes the lottery auditable; the seed
 * must therefore be fixed (and ideally published) before the applicant list is closed.
 *
 * CommonJS, no dependencies: the directory is zipped as-is into the function's code.
 */
"use strict";

const crypto = require("crypto");

const ALGORITHM = "priority-desc/sha256(seed NUL id)-asc/v1";
const LIMITS = { seedLength: 256, idLength: 128, applicants: 10000, seats: 10000 };

class ValidationError extends Error {}

/**
 * @typedef {{ id: string, priority?: number }} Applicant
 * @typedef {{ seed: string, seats: number, applicants: Applicant[] }} DrawRequest
 * @typedef {{ algorithm: string, seed: string, seats: number, drawn: string[], waitlist: string[] }} DrawResult
 */

/**
 * Checks an untrusted request body and returns it typed, or throws a ValidationError naming the field.
 * @param {unknown} body
 * @returns {DrawRequest}
 */
function validate(body) {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("body must be a JSON object");
  }
  const { seed, seats, applicants } = /** @type {Record<string, unknown>} */ (body);
  if (typeof seed !== "string" || seed.length === 0 || seed.length > LIMITS.seedLength) {
    throw new ValidationError(`seed must be a non-empty string of at most ${LIMITS.seedLength} characters`);
  }
  if (typeof seats !== "number" || !Number.isInteger(seats) || seats < 1 || seats > LIMITS.seats) {
    throw new ValidationError(`seats must be an integer from 1 to ${LIMITS.seats}`);
  }
  if (!Array.isArray(applicants) || applicants.length > LIMITS.applicants) {
    throw new ValidationError(`applicants must be an array of at most ${LIMITS.applicants} entries`);
  }
  const seen = new Set();
  /** @type {Applicant[]} */
  const checked = applicants.map((a, i) => {
    if (typeof a !== "object" || a === null || Array.isArray(a)) {
      throw new ValidationError(`applicants[${i}] must be an object`);
    }
    const { id, priority } = /** @type {Record<string, unknown>} */ (a);
    if (typeof id !== "string" || id.length === 0 || id.length > LIMITS.idLength) {
      throw new ValidationError(`applicants[${i}].id must be a non-empty string of at most ${LIMITS.idLength} characters`);
    }
    if (seen.has(id)) {
      throw new ValidationError(`applicants[${i}].id "${id}" appears more than once`);
    }
    seen.add(id);
    if (priority !== undefined && (typeof priority !== "number" || !Number.isInteger(priority))) {
      throw new ValidationError(`applicants[${i}].priority must be an integer when given`);
    }
    return priority === undefined ? { id } : { id, priority };
  });
  return { seed, seats, applicants: checked };
}

/**
 * The tie-break key. The NUL separator keeps (seed "ab", id "c") and (seed "a", id "bc") apart.
 * @param {string} seed
 * @param {string} id
 */
function tieBreak(seed, id) {
  return crypto.createHash("sha256").update(`${seed}\u0000${id}`, "utf8").digest("hex");
}

/**
 * The draw itself: pure and deterministic. Input order does not matter.
 * @param {DrawRequest} request
 * @returns {DrawResult}
 */
function draw(request) {
  const ranked = request.applicants
    .map((a) => ({ id: a.id, priority: a.priority ?? 0, key: tieBreak(request.seed, a.id) }))
    .sort((a, b) => {
      if (a.priority !== b.priority) return b.priority - a.priority;
      if (a.key !== b.key) return a.key < b.key ? -1 : 1;
      // Only reachable on a SHA-256 collision; ids are unique, so this still yields a total order.
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    })
    .map((a) => a.id);
  return {
    algorithm: ALGORITHM,
    seed: request.seed,
    seats: request.seats,
    drawn: ranked.slice(0, request.seats),
    waitlist: ranked.slice(request.seats),
  };
}

/**
 * @param {number} statusCode
 * @param {unknown} body
 */
function respond(statusCode, body) {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}

/**
 * API Gateway HTTP API (payload format 2.0) handler.
 * @param {{ routeKey?: string, rawPath?: string, body?: string, isBase64Encoded?: boolean,
 *           requestContext?: { http?: { method?: string, path?: string } } }} event
 */
async function handler(event) {
  // `routeKey` is the matched route ("POST /draw"); fall back to method + path for the $default route.
  const http = (event.requestContext && event.requestContext.http) || {};
  const route = event.routeKey && event.routeKey !== "$default" ? event.routeKey : `${http.method || ""} ${event.rawPath || http.path || ""}`;

  if (route === "GET /health") {
    return respond(200, { status: "ok" });
  }
  if (route !== "POST /draw") {
    return respond(404, { error: `no route ${route}` });
  }

  let parsed;
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body || "", "base64").toString("utf8") : event.body || "";
    parsed = JSON.parse(text);
  } catch {
    return respond(400, { error: "body must be valid JSON" });
  }
  try {
    const request = validate(parsed);
    const result = draw(request);
    // The log line is the audit record: inputs' size and seed plus the outcome.
    console.log(JSON.stringify({ event: "draw", seed: result.seed, seats: result.seats, applicants: request.applicants.length, drawn: result.drawn }));
    return respond(200, result);
  } catch (err) {
    if (err instanceof ValidationError) {
      return respond(400, { error: err.message });
    }
    console.error(err);
    return respond(500, { error: "internal error" });
  }
}

module.exports = { handler, draw, validate, tieBreak, ValidationError, ALGORITHM };
