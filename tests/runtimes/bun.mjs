// Bun entry: `bun tests/runtimes/bun.mjs <dist dir>` runs the suite over Bun.serve on 127.0.0.1.
import { run } from './suite.mjs'

const dist = Bun.pathToFileURL(`${process.argv[2]}/`)
const lib = await import(new URL('index.js', dist).href)
const testing = await import(new URL('testing.js', dist).href)
const webhooks = await import(new URL('webhooks.js', dist).href)

function serve(handler) {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler })
  return { url: `http://127.0.0.1:${server.port}`, close: () => server.stop(true) }
}

process.exitCode = (await run({ lib, testing, webhooks, serve })) ? 1 : 0
