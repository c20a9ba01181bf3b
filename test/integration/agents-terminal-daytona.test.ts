// The live terminal suite (agents-terminal-suite.ts) on a daytona sandbox: the SDK's PTY API against its fake.
import { terminalSuite } from './agents-terminal-suite';

terminalSuite('daytona', 'uws');
