// Each integration test's wall time, printed as it ends: the tier has a 10-minute budget, and a
// test that creeps up is visible in every run's log.

export function timed(suite: Mocha.Suite): void {
  let started = 0;
  suite.beforeEach(function () {
    started = Date.now();
  });
  suite.afterEach(function () {
    const t = this.currentTest;
    console.log(`[timing] ${((Date.now() - started) / 1000).toFixed(1)} s  ${t?.state ?? "?"}  ${t?.fullTitle() ?? ""}`);
  });
}
