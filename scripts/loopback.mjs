// The node:http adapter for the tests, the demo, the examples and the bench: src/node-server.ts, the one the CLI's
// `stand-in` serves through, as built into dist/ (run `npm run build` first).
export { listen } from '../dist/node-server.js'
