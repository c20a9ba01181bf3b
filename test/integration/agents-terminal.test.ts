// The live terminal suite (agents-terminal-suite.ts) on a local sandbox and the uWebSockets.js engine.
import { terminalSuite } from './agents-terminal-suite';

terminalSuite('local', 'uws');
