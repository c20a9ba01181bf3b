// The agent-run suite (agents-runs-suite.ts) on the e2b sandbox provider: the real SDK against its fake
import { runsSuite } from './agents-runs-suite';

runsSuite('e2b');
