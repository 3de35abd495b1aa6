// `npm run test:examples`: runs every example on its own runtime against the api.video stand-in on 127.0.0.1,
// the base URL given through APIVIDEO_BASE_URL. Each example calls the API by path (session.fetch('/videos…')):
// no absolute URL in its text. One line per example; exit 1 if any fails.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStandIn } from 'apivideo-auth/testing'
import { exec as runCommand } from '../scripts/exec.mjs'
import { listen } from '../scripts/loopback.mjs'
import { workerdConfig } from '../scripts/workerd.mjs'

const root = new URL('..', import.meta.url).pathname
const bin = (name) => join(root, 'node_modules/.bin', name)
const KEY = 'example-key'
const CONCURRENT = 5

/** Runs a command from the project's root to its end (a watchdog kills it after 30 s). */
const exec = (command, args, options = {}) => runCommand(command, args, { cwd: root, timeout: 30_000, ...options })

/** Node: a script run to its end; it must exit by itself. */
async function nodeScript(env) {
  const { code, stdout, stderr } = await exec(process.execPath, ['examples/node.mjs'], { env })
  if (code !== 0) throw new Error(`exit ${code}: ${stderr.trim()}`)
  return stdout.trim()
}

/** Node: the Lambda handler invoked as the Lambda runtime would, twice in one warm process. */
async function lambda(env) {
  const driver = `const { handler } = await import('./examples/lambda.mjs')
    const codes = []
    for (let i = 0; i < ${CONCURRENT}; i++) codes.push((await handler({}, {})).statusCode)
    console.log('statusCode ' + codes.join(' '))`
  const { code, stdout, stderr } = await exec(process.execPath, ['--input-type=module', '-e', driver], { env })
  if (code !== 0) throw new Error(`exit ${code}: ${stderr.trim()}`)
  return stdout.trim()
}

/** Node: the Vercel Edge route handler called with web Requests, concurrently, as the edge runtime would. */
async function vercelEdge(env) {
  const driver = `const { GET, runtime } = await import('./examples/vercel-edge.js')
    if (runtime !== 'edge') throw new Error('runtime is not edge')
    const responses = await Promise.all(
      Array.from({ length: ${CONCURRENT} }, () => GET(new Request('http://localhost/api/videos'))),
    )
    console.log('GET /api/videos ' + responses.map((r) => r.status).join(' '))`
  const { code, stdout, stderr } = await exec(process.execPath, ['--input-type=module', '-e', driver], { env })
  if (code !== 0) throw new Error(`exit ${code}: ${stderr.trim()}`)
  return stdout.trim()
}

/** Deno: the script, with an import map sending npm:apivideo-auth to the built dist/ (nothing is downloaded). */
async function deno(env, dir) {
  const map = join(dir, 'import-map.json')
  writeFileSync(map, JSON.stringify({ imports: { 'npm:apivideo-auth': `file://${root}dist/index.js` } }))
  const flags = [
    '--no-remote',
    '--no-npm',
    '--no-lock',
    `--import-map=${map}`,
    '--allow-env=APIVIDEO_API_KEY,APIVIDEO_BASE_URL',
    '--allow-net=127.0.0.1',
  ]
  const { code, stdout, stderr } = await exec(bin('deno'), ['run', ...flags, 'examples/deno.ts'], { env })
  if (code !== 0) throw new Error(`exit ${code}: ${stderr.trim()}`)
  return stdout.trim()
}

/** Bun: the server started on 127.0.0.1 and any free port, requested concurrently, then stopped. */
async function bunServer(env) {
  let answers
  const run = exec(bin('bun'), ['run', 'examples/bun.ts'], {
    env: { ...env, HOST: '127.0.0.1', PORT: '0' },
    onStdout: (stdout, child) => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+\/?)/.exec(stdout)?.[1]
      if (!url || answers) return
      answers = Promise.all(Array.from({ length: CONCURRENT }, () => fetch(url).then((r) => r.status))).finally(() =>
        child.kill('SIGTERM'),
      )
    },
  })
  const { stderr } = await run
  if (!answers) throw new Error(`did not start: ${stderr.trim()}`)
  return `GET / ${(await answers).join(' ')}`
}

/**
 * workerd: the Worker with the built dist/index.js as its 'apivideo-auth' module,
 * requested concurrently by a test harness.
 */
async function worker(env, dir) {
  copyFileSync(join(root, 'examples/worker.js'), join(dir, 'worker.js'))
  copyFileSync(join(root, 'dist/index.js'), join(dir, 'index.js'))
  const harness = `export default { async test(controller, env) {
    const statuses = await Promise.all(
      Array.from({ length: ${CONCURRENT} }, async () => (await env.EXAMPLE.fetch('http://worker/videos')).status),
    )
    console.log('GET /videos ' + statuses.join(' '))
    if (statuses.some((s) => s !== 200)) throw new Error('a request failed')
  } }`
  writeFileSync(join(dir, 'harness.js'), harness)
  const config = workerdConfig({
    modules: { 'worker.js': 'worker.js', 'apivideo-auth': 'index.js' },
    bindings: { APIVIDEO_API_KEY: env.APIVIDEO_API_KEY, APIVIDEO_BASE_URL: env.APIVIDEO_BASE_URL },
    harness: { file: 'harness.js', binding: 'EXAMPLE' },
  })
  writeFileSync(join(dir, 'config.capnp'), config)
  const { code, output } = await exec(bin('workerd'), ['test', join(dir, 'config.capnp')])
  const line = /GET \/videos[ \d]+/.exec(output)?.[0]
  if (code !== 0 || !line) throw new Error(`exit ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`)
  return line.trim()
}

const examples = [
  ['Node script', 'examples/node.mjs', nodeScript],
  ['AWS Lambda handler', 'examples/lambda.mjs', lambda],
  ['Vercel Edge route handler', 'examples/vercel-edge.js', vercelEdge],
  ['Deno script', 'examples/deno.ts', deno],
  ['Bun server', 'examples/bun.ts', bunServer],
  ['Cloudflare Worker (workerd)', 'examples/worker.js', worker],
]

/** Runs one example against a fresh stand-in: its output must show 200s, from a single POST /auth/api-key. */
async function check([name, file, runExample]) {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const server = await listen(standIn.handler)
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-example-'))
  try {
    const absolute = /\bhttps?:\/\/[^\s'"`]*/.exec(readFileSync(join(root, file), 'utf8'))?.[0]
    if (absolute) throw new Error(`an absolute URL in the example (${absolute}): call the API by path`)
    const said = await runExample({ APIVIDEO_API_KEY: KEY, APIVIDEO_BASE_URL: server.url }, dir)
    const auth = standIn.requests.filter((r) => r.path.startsWith('/auth/')).map((r) => r.path)
    const calls = standIn.requests.length - auth.length
    if (!/ 200( 200)*$|: 200$/.test(said)) throw new Error(`unexpected output: ${said}`)
    if (auth.join() !== '/auth/api-key') throw new Error(`auth requests: ${auth.join(', ') || 'none'}`)
    return (
      `ok    ${name.padEnd(28)} ${file.padEnd(26)} ${said}; ` +
      `the stand-in saw 1 POST /auth/api-key for ${calls} API call${calls > 1 ? 's' : ''}`
    )
  } catch (error) {
    process.exitCode = 1
    return `FAIL  ${name.padEnd(28)} ${file.padEnd(26)} ${error.message}`
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await server.close()
  }
}

for (const example of examples) console.log(await check(example))
