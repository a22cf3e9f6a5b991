/**
 * The sample as a library: `runSample` tells the whole story on a `ThreadManager` the caller
 * built, `sampleTurn` is one legacy turn's items, `formatReport` prints the result. The
 * `skein-thread-manager-sample` bin (`dist/main.js`) is the runnable program.
 */
export {
  formatReport,
  runSample,
  type SampleOptions,
  type SampleReport,
  sampleTurn,
} from './sample.js';
