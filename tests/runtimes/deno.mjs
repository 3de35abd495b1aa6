// Deno entry: `deno run --allow-net=127.0.0.1 --allow-read=<dist dir> tests/runtimes/deno.mjs <dist dir>`
// runs the suite over Deno.serve on 127.0.0.1.
import { run } from './suite.mjs'

const dist = new URL(`${Deno.args[0]}/`, `file://${Deno.cwd()}/`)
const lib = await import(new URL('index.js', dist).href)
const testing = await import(new URL('testing.js', dist).href)
const webhooks = await import(new URL('webhooks.js', dist).href)

function serve(handler) {
  const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, handler)
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() }
}

Deno.exitCode = (await run({ lib, testing, webhooks, serve })) ? 1 : 0
