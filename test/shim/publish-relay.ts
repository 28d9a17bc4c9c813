import { runPublishCommand } from '../../src/cli/publish.ts';

runPublishCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`crid publish: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
