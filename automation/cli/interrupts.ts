/**
 * Turning SIGINT/SIGTERM into a cancel of the running Pulumi operation, never a terminate.
 *
 * The Pulumi CLI cancels on the first SIGINT or SIGTERM (in-flight steps finish, no new ones
 * start) and terminates on any second one: the checkpoint is not written and the providers are
 * killed, leaving pending operations (pulumi/pkg v3.276.0 backend/cancellation_scope.go:64-118,
 * engine/update.go:1408-1412). The Automation API sends the CLI one SIGINT when the operation's
 * abort signal fires (@pulumi/pulumi 3.276.0 automation/cmd.js:181-185). At a terminal, Ctrl-C
 * already reaches the CLI too: execa does not detach it, so it shares the terminal's foreground
 * process group with the driver. Forwarding that SIGINT would be the second signal: terminate.
 *
 * So there are two signals: `driver` (aborted on every interrupt; the driver stops at its next
 * step and reports) and `cli` (what the SDK forwards to the CLI), aborted once, and only for a
 * signal the CLI did not get itself: SIGTERM (a cancelled CI job signals the driver's process),
 * or SIGINT when stdin is not a terminal.
 */
import { Interrupt, InterruptSignal } from "../errors";

export class InterruptRelay {
  /** Aborted on the first interrupt: the driver's own waits and checks stop. */
  readonly driver = new AbortController();
  /** Aborted at most once, for the CLI child: the SDK sends it one SIGINT (a cancel). */
  readonly cli = new AbortController();
  private received = 0;

  constructor(
    /** stdin is a terminal: a SIGINT came from Ctrl-C there, and the CLI child got it too. */
    private readonly fromTerminal: boolean,
    private readonly write: (text: string) => void,
    /** Called on a third signal: the operator insists; the driver exits without waiting. */
    private readonly exit: (sig: InterruptSignal) => void,
  ) {}

  onSignal(sig: InterruptSignal): void {
    this.received++;
    const reachedCli = sig === "SIGINT" && this.fromTerminal;
    if (this.received === 1) {
      this.driver.abort(new Interrupt(sig));
      if (reachedCli) {
        this.write(`\nreceived ${sig}: the Pulumi CLI got it too and is cancelling (steps in flight finish); waiting for it. Another Ctrl-C makes it terminate and leave pending operations.\n`);
      } else {
        this.cli.abort(new Interrupt(sig));
        this.write(`\nreceived ${sig}: cancelling the running Pulumi operation (steps in flight finish) and waiting for it\n`);
      }
      return;
    }
    if (this.received === 2) {
      this.write(
        reachedCli
          ? `\nreceived ${sig} again: the Pulumi CLI terminates on a second Ctrl-C; waiting for it to exit, then the state is reported (pending operations likely). Once more exits the driver at once.\n`
          : `\nreceived ${sig} again: already cancelling, not forwarding it (a second signal would make the Pulumi CLI terminate). Once more exits the driver at once.\n`,
      );
      return;
    }
    this.write(`\nreceived ${sig} a third time: exiting now; the stack may have pending operations and a lock (\`npm run platform -- status\`)\n`);
    this.exit(sig);
  }
}
