// Node entry, CommonJS: `node tests/runtimes/node.cjs <dist dir>` requires the built package
// and runs the suite over node:http.
const { resolve } = require('node:path')

const dist = resolve(process.argv[2])
const lib = require(`${dist}/index.cjs`)
const testing = require(`${dist}/testing.cjs`)
const webhooks = require(`${dist}/webhooks.cjs`)

void (async () => {
  const { serve } = await import('../helpers/index.mjs')
  const { run } = await import('./suite.mjs')
  process.exitCode = (await run({ lib, testing, webhooks, serve })) ? 1 : 0
})()
