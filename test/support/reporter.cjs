// Mocha's spec reporter, plus the plain closing line CI reads: "N passed, N failed".
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      // after the spec epilogue
      process.nextTick(() => {
        console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
      });
    });
  }
}
module.exports = SpecWithSummary;
