// `npm run test:examples`, its second half: every receiver of examples/webhooks/ started in its real framework on
// 127.0.0.1 (Node's http, Express, Fastify, Hono on @hono/node-server, Koa, and the Next.js route in a Next app built
// and started with `next build` and `next start`), each on a free port, and sent:
//   a delivery signed as api.video signs it    -> 2xx, and the server says it verified the event
//   the same with its body tampered            -> 401
//   one signed with another secret             -> 401
//   one with no signature                      -> 400 or 401
//   malformed JSON, correctly signed           -> 400
//   a signed one, to the server started without APIVIDEO_WEBHOOK_SECRET -> 500, and a log line naming the variable
// and, made on purpose in Express and Fastify, the mistake of a body parsed before the route: a signed delivery is
// then a 500 whose message says how to get the raw bytes.
// One line per receiver with what it answered and how long it took; exit 1 if any fails.
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deliverWebhook, signWebhook } from '../../dist/testing.js'
import { packageWorkspace } from '../docs/run.mjs'

const root = new URL('../..', import.meta.url).pathname
const SECRET = 'sig_sec_frameworks_0123456789'
const EVENT = { type: 'video.encoding.quality.completed', videoId: 'vi1', encoding: 'hls', quality: '720p' }
const BOUND_MS = 60_000
/** What the servers get: a quiet Next, loopback past any proxy; `undefined` removes a variable. */
const ENV = { NEXT_TELEMETRY_DISABLED: '1', NO_PROXY: '127.0.0.1,localhost', NODE_NO_WARNINGS: '1' }

/**
 * Runs `command` until its output shows `ready` (a regular expression whose first group is the URL to send to), then
 * `use(url)`, then stops it; at most BOUND_MS. Resolves with what `use` returned and the server's output.
 */
function withServer(command, args, { cwd = root, env, ready }, use) {
  return new Promise((resolve, reject) => {
    // Its own process group, so that stopping it stops whatever it started.
    const child = spawn(command, args, { cwd, env: { ...process.env, ...ENV, ...env }, detached: true })
    let output = ''
    let used
    const stop = () => {
      try {
        process.kill(-Number(child.pid), 'SIGTERM')
      } catch {
        // Already gone.
      }
    }
    const watchdog = setTimeout(stop, BOUND_MS)
    const collect = (chunk) => {
      output += chunk
      const url = ready.exec(output)?.[1]
      if (!url || used) return
      used = use(url).then(
        (value) => ({ value }),
        (error) => ({ error }),
      )
      used.finally(stop)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('error', reject)
    child.on('close', async (code, signal) => {
      clearTimeout(watchdog)
      if (!used) {
        const tail = output.trim().split('\n').slice(-6).join(' | ')
        return reject(new Error(`did not start (exit ${code ?? signal}): ${tail}`))
      }
      const { value, error } = await used
      // Read after the server stopped, so that its last log lines are in.
      if (error) reject(Object.assign(error, { output }))
      else resolve({ value, output })
    })
  })
}

/** A POST of `body` with api.video's headers, signed with `signWith` (none when undefined); resolves to its status. */
async function post(url, body, signWith) {
  const headers = { 'content-type': 'application/json', 'x-api-video-webhookid': 'webhook_frameworks01' }
  if (signWith) headers['x-api-video-signature'] = await signWebhook(body, signWith)
  const response = await fetch(url, { method: 'POST', headers, body })
  await response.arrayBuffer()
  return response.status
}

/** What each kind of delivery got from a server with the secret; `extra` checks the rest of the app. */
async function deliveries(url, extra) {
  const signed = (await deliverWebhook(url, EVENT, { secret: SECRET })).statuses[0]
  // The body api.video would sign, signed, then changed: 720p becomes 1080p.
  const body = JSON.stringify({ ...EVENT, emittedAt: new Date().toISOString() })
  const signature = await signWebhook(body, SECRET)
  const tamperedResponse = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-video-signature': signature },
    body: body.replace('720p', '1080p'),
  })
  await tamperedResponse.arrayBuffer()
  return {
    signed,
    tampered: tamperedResponse.status,
    wrongSecret: (await deliverWebhook(url, EVENT, { secret: 'sig_sec_guessed' })).statuses[0],
    unsigned: await post(url, body, undefined),
    malformed: await post(url, '{"type":"video.encoding.quality.completed",', SECRET),
    ...(extra ? await extra(url) : {}),
  }
}

/** The rest of an app that parses JSON everywhere else: its JSON route still works beside the webhook route. */
async function echoesJson(url) {
  const response = await fetch(new URL('/api/echo', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"rest":"of the app"}',
  })
  return { restOfApp: (await response.json()).rest === 'of the app' ? 'parses JSON' : 'broken' }
}

/** The failures in what a receiver answered, none when all is as api.video needs. */
function failures(got, misconfigured) {
  const wrong = []
  if (!(got.signed >= 200 && got.signed <= 299)) wrong.push(`signed: ${got.signed}, not 2xx`)
  if (!got.verified) wrong.push('signed: the server did not log "verified <type>"')
  if (got.tampered !== 401) wrong.push(`tampered: ${got.tampered}, not 401`)
  if (got.wrongSecret !== 401) wrong.push(`wrong secret: ${got.wrongSecret}, not 401`)
  if (![400, 401].includes(got.unsigned)) wrong.push(`unsigned: ${got.unsigned}, not 400 or 401`)
  if (got.malformed !== 400) wrong.push(`malformed JSON: ${got.malformed}, not 400`)
  if (got.restOfApp && got.restOfApp !== 'parses JSON') wrong.push(`the rest of the app: ${got.restOfApp}`)
  if (misconfigured.status !== 500) wrong.push(`without the secret: ${misconfigured.status}, not 500`)
  if (!misconfigured.logged) wrong.push('without the secret: no log line naming APIVIDEO_WEBHOOK_SECRET')
  return wrong
}

/** Starts a receiver twice (with the secret, then without) and checks every answer. */
async function check({ name, file, start, extra }) {
  const began = performance.now()
  try {
    const configured = await start({ APIVIDEO_WEBHOOK_SECRET: SECRET }, (url) => deliveries(url, extra))
    const got = { ...configured.value, verified: configured.output.includes(`verified ${EVENT.type}`) }
    const unconfigured = await start(
      { APIVIDEO_WEBHOOK_SECRET: undefined },
      async (url) => (await deliverWebhook(url, EVENT, { secret: SECRET })).statuses[0],
    )
    const misconfigured = {
      status: unconfigured.value,
      logged: /secret is missing: pass \{ secret \} or set APIVIDEO_WEBHOOK_SECRET/.test(unconfigured.output),
    }
    const wrong = failures(got, misconfigured)
    const seconds = ((performance.now() - began) / 1000).toFixed(1)
    const answers = [got.signed, got.tampered, got.wrongSecret, got.unsigned, got.malformed, misconfigured.status]
    const said = answers.join(' ')
    if (!wrong.length) return `ok    ${name.padEnd(33)} ${file.padEnd(20)} ${said} (${seconds} s)`
    process.exitCode = 1
    return `FAIL  ${name.padEnd(33)} ${file.padEnd(20)} ${wrong.join('; ')}`
  } catch (error) {
    process.exitCode = 1
    const tail = (error.output ?? '').trim().split('\n').slice(-4).join(' | ')
    return `FAIL  ${name.padEnd(33)} ${file.padEnd(20)} ${error.message}${tail ? ` | ${tail}` : ''}`
  }
}

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+\/webhooks)/

/** A receiver that is a Node program: run with PORT=0, so it listens on a free port, which it prints. */
const nodeProgram = (file) => (env, use) =>
  withServer(process.execPath, [file], { env: { ...env, PORT: '0', HOST: '127.0.0.1' }, ready: LISTENING }, use)

/**
 * The Next.js route in a Next app of its own, as a user adds it: app/webhooks/route.js, in a directory where
 * 'apivideo-auth' is this package. Built once with `next build` (production, webpack, as deployed); each start is
 * `next start` on a free port.
 */
async function nextApp() {
  const app = packageWorkspace('webhooks-next-')
  mkdirSync(join(app, 'app/webhooks'), { recursive: true })
  copyFileSync(join(root, 'examples/webhooks/next-route.mjs'), join(app, 'app/webhooks/route.js'))
  const next = join(root, 'node_modules/next/dist/bin/next')
  const built = new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [next, 'build'], { cwd: app, env: { ...process.env, ...ENV } })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.on('close', (code) => {
      clearTimeout(watchdog)
      if (code === 0) resolve()
      else reject(new Error(`next build exit ${code}: ${output.trim().split('\n').slice(-6).join(' | ')}`))
    })
  })
  // Awaited by the first start; a failed build is reported there, not as an unhandled rejection meanwhile.
  built.catch(() => {})
  const ready = /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/
  return {
    app,
    start: async (env, use) => {
      await built
      return withServer(
        process.execPath,
        [next, 'start', '-H', '127.0.0.1', '-p', '0'],
        { cwd: app, env, ready },
        (url) => use(`${url}/webhooks`),
      )
    },
  }
}

/**
 * The mistake the docs warn of, made in the real framework: the body parsed before the webhook route sees it
 * (Express's express.json() mounted first, Fastify's own JSON parser). Each answers with what verifyWebhook said.
 */
const PARSED_FIRST = {
  express: `import express from 'express'
    import { verifyWebhook } from 'apivideo-auth/webhooks'
    const app = express()
    app.use(express.json())
    app.post('/webhooks', express.raw({ type: 'application/json' }), async (req, res) => {
      const error = await verifyWebhook({ headers: req.headers, body: req.body }).catch((e) => e)
      res.status(error instanceof TypeError ? 500 : 400).end(String(error?.message))
    })
    const server = app.listen(0, '127.0.0.1', () =>
      console.log('listening on http://127.0.0.1:' + server.address().port + '/webhooks'))`,
  fastify: `import Fastify from 'fastify'
    import { verifyWebhook } from 'apivideo-auth/webhooks'
    const app = Fastify()
    app.post('/webhooks', async (request, reply) => {
      const error = await verifyWebhook({ headers: request.headers, body: request.body }).catch((e) => e)
      return reply.code(error instanceof TypeError ? 500 : 400).send(String(error?.message))
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    console.log('listening on http://127.0.0.1:' + app.server.address().port + '/webhooks')`,
}

/** A signed delivery to a receiver whose framework parsed the body first: a 500 saying how to get the raw bytes. */
async function checkParsedFirst(framework, dir) {
  mkdirSync(join(dir, 'mistakes'), { recursive: true })
  const file = join(dir, 'mistakes', `${framework}-parsed-first.mjs`)
  writeFileSync(file, PARSED_FIRST[framework])
  const name = `${framework === 'express' ? 'Express' : 'Fastify'}, body parsed first`
  try {
    const { value } = await withServer(
      process.execPath,
      [file],
      { cwd: dir, env: { APIVIDEO_WEBHOOK_SECRET: SECRET }, ready: LISTENING },
      async (url) => {
        const body = JSON.stringify(EVENT)
        const headers = {
          'content-type': 'application/json',
          'x-api-video-signature': await signWebhook(body, SECRET),
        }
        const response = await fetch(url, { method: 'POST', headers, body })
        return { status: response.status, text: await response.text() }
      },
    )
    const says = /^input\.body was already parsed, .*before express\.json\(\).*express\.raw\(.*Fastify/.test(
      value.text,
    )
    if (value.status === 500 && says)
      return `ok    ${name.padEnd(33)} ${'(inline)'.padEnd(20)} 500: ${value.text.slice(0, 60)}…`
    process.exitCode = 1
    return `FAIL  ${name.padEnd(33)} ${'(inline)'.padEnd(20)} ${value.status}: ${value.text}`
  } catch (error) {
    process.exitCode = 1
    return `FAIL  ${name.padEnd(33)} ${'(inline)'.padEnd(20)} ${error.message}`
  }
}

const RECEIVERS = [
  ['node:http', 'node-http.mjs'],
  ['Express 5 (global express.json)', 'express.mjs', echoesJson],
  ['Fastify 5 (scoped buffer parser)', 'fastify.mjs', echoesJson],
  ['Hono 4 on @hono/node-server', 'hono-node.mjs'],
  ['Koa 3', 'koa.mjs'],
]

function version(name) {
  return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version
}

async function main() {
  const began = performance.now()
  const lines = []
  const report = (line) => (lines.push(line), console.log(line))
  // The Next build runs while the other receivers are checked.
  const next = await nextApp()
  try {
    for (const [name, file, extra] of RECEIVERS)
      report(await check({ name, file, start: nodeProgram(`examples/webhooks/${file}`), extra }))
    const nextName = `Next.js ${version('next')} (next start)`
    report(await check({ name: nextName, file: 'next-route.mjs', start: next.start }))
    for (const framework of Object.keys(PARSED_FIRST)) report(await checkParsedFirst(framework, next.app))
  } finally {
    rmSync(next.app, { recursive: true, force: true })
  }
  const seconds = ((performance.now() - began) / 1000).toFixed(1)
  console.log(`(answers to: signed, tampered, wrong secret, unsigned, malformed, no secret; ${seconds} s in all)`)
  const passed = lines.filter((line) => line.startsWith('ok')).length
  console.log(`${passed} passed, ${lines.length - passed} failed`)
}

await main()
