/**
 * Computes the likelihood leaderboard of notebook 13 (training or loading every model under
 * build/models, reading cached scores) and prints it as the Markdown table of the README.
 *
 *   npm run leaderboard            # lecture scale (the first run takes tens of minutes)
 *   GENLAB_QUICK=1 npm run leaderboard
 */
import { data, metrics, runtime } from 'genlab';

async function main(): Promise<void> {
  await runtime.init({ seed: 0 });
  const test = data.loadBinarizedMnist('test', { limit: runtime.quickOr(10000, 500) });
  const rows = await metrics.computeLeaderboard(metrics.mnistLeaderboard(), test, {
    onEntry: (entry) => console.log(`scoring: ${entry.model}, ${entry.estimator}`),
  });
  console.log(
    `\n${test.size} binarized test images (data.fingerprint ${data.fingerprint(test)})\n`,
  );
  console.log(metrics.leaderboardMarkdown(rows));
  for (const { entry, score } of rows)
    if (score)
      console.log(
        `${entry.model}, ${entry.estimator}: ${score.logLikelihood.toFixed(3)} ± ` +
          `${score.standardError.toFixed(3)} (${score.errorSource}); training ` +
          `${score.trainSeconds?.toFixed(0) ?? '?'} s, evaluation ` +
          `${score.evaluationSeconds?.toFixed(0) ?? '?'} s`,
      );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
