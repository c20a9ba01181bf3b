// The live terminal suite (agents-terminal-suite.ts) on an e2b sandbox: the SDK's PTY API against its fake.
import { terminalSuite } from './agents-terminal-suite';

terminalSuite('e2b', 'uws');
