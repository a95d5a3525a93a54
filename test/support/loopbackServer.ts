/**
 * An HTTP server on 127.0.0.1 (random port) whose answers may be delayed, shared by the unit
 * tier's loopback servers and the integration tier's load-balancer targets. close() cancels the
 * answers still waiting and drops open connections, so a test's teardown never waits on a delay.
 */
import * as http from "http";
import { AddressInfo } from "net";

/** Runs an answer now, or after `delayMs` unless the server is closed first. */
export type Answer = (delayMs: number | undefined, answer: () => void) => void;

export interface LoopbackServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenOnLoopback(handle: (req: http.IncomingMessage, res: http.ServerResponse, answer: Answer) => void): Promise<LoopbackServer> {
  const timers = new Set<NodeJS.Timeout>();
  const answer: Answer = (delayMs, send) => {
    if (delayMs === undefined || delayMs <= 0) {
      send();
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      send();
    }, delayMs);
    timers.add(t);
  };
  const server = http.createServer((req, res) => handle(req, res, answer));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) {
          clearTimeout(t);
        }
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
