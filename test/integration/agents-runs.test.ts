// The agent-run suite (agents-runs-suite.ts) on the local sandbox provider
import { runsSuite } from './agents-runs-suite';

runsSuite('local');
