// Holds a home's backfill lease as a live Skein process would mid-import (uses the built dist/):
// opens the state DB, claims the lease for an hour, prints "held", then sleeps until killed
// (at most two minutes). argv: <home>
import { claimBackfill, currentLeaseOwner, StateRuntime } from '@skein/state';

const [home] = process.argv.slice(2);
const runtime = await StateRuntime.open({ sqliteHome: home });
const claim = await claimBackfill(runtime, currentLeaseOwner(), 3_600_000);
if (!claim.claimed) {
  console.log(`not held: ${claim.heldBy}`);
  process.exit(1);
}
console.log('held');
setTimeout(() => process.exit(0), 120_000);
