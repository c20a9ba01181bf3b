// The live terminal suite (agents-terminal-suite.ts) on a local sandbox and the node:http engine.
import { terminalSuite } from './agents-terminal-suite';

terminalSuite('local', 'node');
