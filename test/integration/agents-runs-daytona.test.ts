// The agent-run suite (agents-runs-suite.ts) on the daytona sandbox provider: the real SDK against its fake
import { runsSuite } from './agents-runs-suite';

runsSuite('daytona');
