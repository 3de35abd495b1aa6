// `npm run test:docs`: runs every JavaScript/TypeScript code block of the README and docs/ on its runtime, as written,
// against the api.video stand-in served on 127.0.0.1. One line per block, then "N passed, N failed, N skipped";
// exit 1 if any block fails. `node tests/docs/run.mjs [file.md …]` checks only those files.
//
// What each block gets:
// - APIVIDEO_API_KEY=test-key, the key the stand-in accepts.
// - A fetch that sends https://ws.api.video/* and https://sandbox.api.video/*, and the delivery origins
//   (https://embed.api.video, https://vod.api.video, https://cdn.api.video), to a fresh stand-in on 127.0.0.1
//   (tests/docs/route.mjs, imported before the block): the block keeps its production URLs,
//   nothing leaves the machine.
// - APIVIDEO_WEBHOOK_SECRET, the secret the webhook deliveries below are signed with.
// - 'apivideo-auth' and its entries ('apivideo-auth/testing', '/share', '/webhooks', '/private') resolve to the
//   built dist/, as users receive it; beside the block lie apivideo-auth.ts (src/index.ts) and apivideo-auth.js
//   (dist/index.js), the copy-paste install.
// The runtime follows from the code: Deno.*, an npm:/jsr: import or a comment saying `deno run` runs under Deno,
// Bun.* or a comment saying `bun run` under Bun, a Worker
// (`export default { fetch }`) under workerd, everything else under Node (TypeScript made JavaScript by esbuild).
// A Lambda handler, a Vercel Edge or Next.js route (`export function GET`, `POST`) or a server (Bun.serve,
// Deno.serve, or on Node a program that reads PORT: node:http, Express, Fastify, Hono, Koa) is then called the way its
// platform would call it, and must answer 2xx. A block must exit 0 within BOUND_MS.
// A webhook receiver (a block that calls verifyWebhook) so driven gets what api.video sends: each call is a delivery
// signed with APIVIDEO_WEBHOOK_SECRET (in its env, and a Worker's), and must answer 2xx; one more, forged, must
// answer 4xx. A Lambda gets API Gateway's event, its body in base64; a server gets them on /webhooks.
// A block that imports apivideo-auth/private plays private videos: the stand-in holds a private video before it runs,
// whose ID is APIVIDEO_VIDEO_ID (in its env, and a Worker's), and a route it exports (a Worker, a GET) is called on
// /play/{videoId}, a GET with the params Next.js gives it ({ params: Promise<{ videoId }> }).
// A block opts out only with a comment naming why: `// doc-test: skip (needs a real Redis)`.
import { createHmac } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { build, transform } from 'esbuild'
import { exec as runCommand } from '../../scripts/exec.mjs'
import { listen } from '../../scripts/loopback.mjs'
import { workerdConfig } from '../../scripts/workerd.mjs'

const root = resolve(import.meta.dirname, '../..')
const bin = (name) => join(root, 'node_modules/.bin', name)
const API_KEY = 'test-key'
const WEBHOOK_SECRET = 'sig_sec_doc_test_0123456789'
const BOUND_MS = 30_000
const CALLS = 3 // requests sent to a handler or a server, concurrently
const LANGUAGES = new Set(['js', 'javascript', 'mjs', 'ts', 'typescript'])
const SKIP = /\/\/\s*doc-test:\s*skip\b(?:\s*\(([^)]*)\))?/

/** The Markdown files whose blocks are checked: README, CONTRIBUTING, SECURITY, CHANGELOG and every page of docs/. */
function documents() {
  const given = process.argv.slice(2)
  if (given.length) return given.map((file) => resolve(file))
  const top = ['README.md', 'CONTRIBUTING.md', 'SECURITY.md', 'CHANGELOG.md'].map((f) => join(root, f))
  const docs = existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .sort()
    : []
  return [...top, ...docs.map((f) => join(root, 'docs', f))].filter((file) => existsSync(file))
}

/** Fenced blocks in a JS/TS language, with the line they start on and the heading above them. */
export function extractBlocks(markdown, file) {
  const blocks = []
  let heading = ''
  let open
  markdown.split('\n').forEach((line, index) => {
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(line)
    if (open) {
      if (fence && fence[2][0] === open.fence[0] && fence[2].length >= open.fence.length && !fence[3]) {
        if (LANGUAGES.has(open.language))
          blocks.push({ file, line: open.line, heading, language: open.language, code: open.lines.join('\n') })
        open = undefined
      } else open.lines.push(line.slice(Math.min(open.indent, /^\s*/.exec(line)[0].length)))
      return
    }
    if (fence)
      open = {
        fence: fence[2],
        indent: fence[1].length,
        language: fence[3].toLowerCase(),
        line: index + 1,
        lines: [],
      }
    else if (/^#{1,6}\s/.test(line)) heading = line.replace(/^#+\s*/, '')
  })
  return blocks
}

/** A block's opt-out, `// doc-test: skip (reason)`: its reason ('' when it gives none), or undefined. */
export function optOut(code) {
  const skip = SKIP.exec(code)
  return skip ? { reason: (skip[1] ?? '').trim() } : undefined
}

/** Which runtime runs a block, and how it is driven once imported. */
export function kindOf(code) {
  if (/\bDeno\.|from\s+['"](npm|jsr):|\/\/.*\bdeno run\b/.test(code))
    return { runtime: 'deno', server: /\bDeno\.serve\(/.test(code) }
  if (/\bBun\.|\/\/.*\bbun run\b/.test(code)) return { runtime: 'bun', server: /\bBun\.serve\(/.test(code) }
  if (/export\s+default\s*\{[\s\S]*\bfetch\b/.test(code)) return { runtime: 'workerd' }
  if (/export\s+(const|let|async\s+function|function)\s+handler\b/.test(code))
    return { runtime: 'node', drive: 'lambda' }
  if (/export\s+(async\s+)?function\s+(GET|POST)\b|export\s+const\s+runtime\s*=\s*['"]edge['"]/.test(code))
    return { runtime: 'node', drive: 'edge' }
  // A server that listens on PORT (Express, Fastify, Hono, Koa, node:http) and runs until stopped.
  if (/\bprocess\.env\.PORT\b/.test(code)) return { runtime: 'node', server: true }
  return { runtime: 'node' }
}

/** True for a block that receives webhooks: the driver sends it signed deliveries, and a forged one. */
export const receivesWebhooks = (code) => /\bverifyWebhook\b/.test(code)

/** True for a block that plays private videos: it gets a private video on the stand-in, and is called on its route. */
export const playsPrivateVideos = (code) => /['"](npm:|jsr:[^'"]*)?apivideo-auth\/private['"]/.test(code)

/** The path a private-video route is called on, and the params Next.js hands a route handler for it. */
const playPath = (videoId) => `/play/${videoId}`
const nextContext = (videoId) => `{ params: Promise.resolve(${JSON.stringify({ videoId })}) }`

/**
 * The driver's check of a private-video route's answers (`answers`, read by the caller): each is 2xx, marked
 * `Cache-Control: no-store`, and carries a private token of its own, as docs/private-videos.md promises.
 */
const viewerLinksCheck = (what) => [
  `const tokens = new Set()`,
  `for (const answer of answers) {`,
  `  expect2xx(answer.status, '${what}')`,
  `  if (!/\\bno-store\\b/.test(answer.headers.get('cache-control') ?? ''))`,
  `    throw new Error('${what} answered without Cache-Control: no-store')`,
  `  const { token } = await answer.json()`,
  `  if (typeof token !== 'string' || tokens.has(token)) throw new Error('${what} answered a spent or no token')`,
  `  tokens.add(token)`,
  `}`,
]

/**
 * A delivery as api.video sends it (its header names, a JSON body), signed with the doc test's secret, and the same
 * signed with another: `init(forged)` is the fetch init of one.
 */
function webhookDelivery() {
  const body = JSON.stringify({
    type: 'video.encoding.quality.completed',
    emittedAt: new Date().toISOString().replace('Z', '+00:00'),
    videoId: 'vi4blUQJFrYWbaG44NChkH27',
    encoding: 'hls',
    quality: '720p',
  })
  const headers = (secret) => ({
    'Content-Type': 'application/json',
    'X-Api-Video-WebhookID': 'webhook_XXXXXXXXXXXXXXX',
    'X-Api-Video-Signature': createHmac('sha256', secret).update(body).digest('hex'),
  })
  return [
    `const DELIVERY = ${JSON.stringify({ body, signed: headers(WEBHOOK_SECRET), forged: headers('sig_sec_forged') })}`,
    `const init = (forged) => ({`,
    `  method: 'POST',`,
    `  headers: forged ? DELIVERY.forged : DELIVERY.signed,`,
    `  body: DELIVERY.body,`,
    `})`,
    `const expect4xx = (status, what) => {`,
    `  if (status < 400 || status > 499) throw new Error(what + ' answered ' + status + ' to a forged delivery')`,
    `}`,
  ]
}

/** The driver module: the route first, then the block, then whatever calls the block the way its platform would. */
function driver(kind, blockFile) {
  const url = kind.videoId ? `http://localhost${playPath(kind.videoId)}` : 'http://localhost/api/videos'
  const context = kind.videoId ? `, ${nextContext(kind.videoId)}` : ''
  const lines = [
    `import './route.mjs'`,
    ...(kind.runtime === 'node' && kind.server ? [`import './node-servers.mjs'`] : []),
    `const block = await import('./${blockFile}')`,
    `const expect2xx = (status, what) => {`,
    `  if (status < 200 || status > 299) throw new Error(what + ' answered ' + status)`,
    `}`,
  ]
  if (kind.webhook) lines.push(...webhookDelivery())
  if (kind.drive === 'lambda' && kind.webhook) {
    // API Gateway's proxy event: the headers as sent, the body in base64.
    lines.push(
      `const event = (forged) => ({`,
      `  headers: init(forged).headers,`,
      `  body: btoa(DELIVERY.body),`,
      `  isBase64Encoded: true,`,
      `})`,
      `for (let i = 0; i < ${CALLS}; i++) {`,
      `  expect2xx((await block.handler(event(false), {})).statusCode, 'the Lambda handler')`,
      `}`,
      `expect4xx((await block.handler(event(true), {})).statusCode, 'the Lambda handler')`,
    )
  } else if (kind.drive === 'lambda') {
    lines.push(
      `for (let i = 0; i < ${CALLS}; i++) expect2xx((await block.handler({}, {})).statusCode, 'the Lambda handler')`,
    )
  } else if (kind.drive === 'edge' && kind.webhook) {
    // A route file (Next.js App Router): its POST gets the deliveries as Requests.
    lines.push(
      `const delivery = (forged) => new Request('http://localhost/webhooks', init(forged))`,
      `for (let i = 0; i < ${CALLS}; i++) expect2xx((await block.POST(delivery(false))).status, 'the route handler')`,
      `expect4xx((await block.POST(delivery(true))).status, 'the route handler')`,
    )
  } else if (kind.drive === 'edge') {
    lines.push(`const GET = block.GET ?? block.POST`)
    lines.push(
      `const answers = await Promise.all(`,
      `  Array.from({ length: ${CALLS} }, () => GET(new Request('${url}')${context})),`,
      `)`,
    )
    if (kind.videoId) lines.push(...viewerLinksCheck('the route handler'))
    else
      lines.push(
        `for (const answer of answers) expect2xx(answer.status, 'the route handler'), await answer.arrayBuffer()`,
      )
  } else if (kind.server) {
    // Deliveries go to /webhooks, the path the receivers of examples/webhooks/ serve (the others take any path).
    let call = kind.webhook ? `fetch(new URL('/webhooks', server.url), init(false))` : 'fetch(server.url)'
    if (kind.videoId) call = `fetch(new URL('${playPath(kind.videoId)}', server.url))`
    const forged = `fetch(new URL('/webhooks', server.url), init(true))`
    lines.push(`const servers = globalThis[Symbol.for('doc-test.servers')]`)
    lines.push(`if (!servers.length) throw new Error('the block started no server')`)
    lines.push(`for (const server of servers) {`)
    // A node:http server is recorded when it is asked to listen, and is ready once it does.
    lines.push(`  await server.ready`)
    lines.push(`  const answers = await Promise.all(Array.from({ length: ${CALLS} }, () => ${call}))`)
    if (kind.videoId) lines.push(...viewerLinksCheck('the server').map((line) => `  ${line}`))
    else
      lines.push(`  for (const answer of answers) expect2xx(answer.status, 'the server'), await answer.arrayBuffer()`)
    if (kind.webhook) lines.push(`  expect4xx((await ${forged}).status, 'the server')`)
    lines.push(`  await server.stop()`)
    lines.push(`}`)
  }
  return lines.join('\n') + '\n'
}

/** The route module's text: api.video's origins to the stand-in, and a server started by the block on 127.0.0.1:0. */
function route(standInUrl) {
  return readFileSync(join(root, 'tests/docs/route.mjs'), 'utf8').replace('__STAND_IN_URL__', standInUrl)
}

/** Runs a command to its end, killed after BOUND_MS. */
async function exec(command, args, { cwd, env }) {
  const { code, signal, output } = await runCommand(command, args, { cwd, env, timeout: BOUND_MS })
  return { code, signal, output: output.trim() }
}

const ENV = {
  APIVIDEO_API_KEY: API_KEY,
  APIVIDEO_WEBHOOK_SECRET: WEBHOOK_SECRET,
  NO_PROXY: '127.0.0.1,localhost',
  DENO_NO_UPDATE_CHECK: '1',
  NODE_NO_WARNINGS: '1',
}
/** A block's environment: ENV, and the private video's ID for a block that plays one. */
const envOf = (kind) => (kind.videoId ? { ...ENV, APIVIDEO_VIDEO_ID: kind.videoId } : ENV)
const typescript = (block) => block.language === 'ts' || block.language === 'typescript'

const runners = {
  async node(block, kind, dir) {
    const code = typescript(block)
      ? (await transform(block.code, { loader: 'ts', format: 'esm', target: 'es2022' })).code
      : block.code
    writeFileSync(join(dir, 'block.mjs'), code)
    writeFileSync(join(dir, 'main.mjs'), driver(kind, 'block.mjs'))
    return exec(process.execPath, ['main.mjs'], { cwd: dir, env: envOf(kind) })
  },

  async bun(block, kind, dir) {
    const file = typescript(block) ? 'block.ts' : 'block.mjs'
    writeFileSync(join(dir, file), block.code)
    writeFileSync(join(dir, 'main.mjs'), driver(kind, file))
    return exec(bin('bun'), ['run', 'main.mjs'], { cwd: dir, env: envOf(kind) })
  },

  async deno(block, kind, dir) {
    const file = typescript(block) ? 'block.ts' : 'block.mjs'
    writeFileSync(join(dir, file), block.code)
    writeFileSync(join(dir, 'main.mjs'), driver(kind, file))
    // The package under each name a Deno user imports it by: bare (with a package.json), npm: and jsr:.
    const jsr = JSON.parse(readFileSync(join(root, 'jsr.json'), 'utf8')).name
    const imports = {}
    for (const [entry, dist] of [
      ['', 'index.js'],
      ['/testing', 'testing.js'],
      ['/share', 'share.js'],
      ['/webhooks', 'webhooks.js'],
      ['/private', 'private.js'],
    ]) {
      for (const name of ['apivideo-auth', 'npm:apivideo-auth', `jsr:${jsr}`])
        imports[name + entry] = `file://${root}/dist/${dist}`
    }
    writeFileSync(join(dir, 'import-map.json'), JSON.stringify({ imports }))
    const flags = [
      '--no-prompt',
      '--no-remote',
      '--no-npm',
      '--no-lock',
      '--import-map=import-map.json',
      '--unstable-kv',
    ]
    const allow = ['--allow-env', '--allow-net=127.0.0.1', `--allow-read=${dir},${root}/dist`, `--allow-write=${dir}`]
    return exec(bin('deno'), ['run', ...flags, ...allow, 'main.mjs'], {
      cwd: dir,
      env: { ...envOf(kind), DENO_DIR: join(dir, '.deno') },
    })
  },

  /** A Worker: bundled with the route, and called by a `workerd test` handler in the same isolate, with its env. */
  async workerd(block, kind, dir) {
    const file = typescript(block) ? 'block.ts' : 'block.mjs'
    writeFileSync(join(dir, file), block.code)
    const target = `http://worker${kind.videoId ? playPath(kind.videoId) : '/'}`
    const request = kind.webhook ? `new Request('${target}', init(false))` : `new Request('${target}')`
    const forged = kind.webhook
      ? `expect4xx((await worker.fetch(new Request('http://worker/', init(true)), env, ctx)).status, 'the Worker')`
      : ''
    const checks = kind.videoId
      ? viewerLinksCheck('the Worker').join('\n    ')
      : `for (const answer of answers) expect2xx(answer.status, 'the Worker'), await answer.arrayBuffer()`
    const expect2xx = `const expect2xx = (status, what) => {
  if (status < 200 || status > 299) throw new Error(what + ' answered ' + status)
}`
    writeFileSync(
      join(dir, 'main.mjs'),
      `import './route.mjs'
import worker from './${file}'
${expect2xx}
${kind.webhook ? webhookDelivery().join('\n') : ''}
export default {
  async test(controller, env, ctx) {
    const answers = await Promise.all(
      Array.from({ length: ${CALLS} }, () => worker.fetch(${request}, env, ctx)),
    )
    ${checks}
    ${forged}
  },
}
`,
    )
    await build({
      entryPoints: [join(dir, 'main.mjs')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker'],
      target: 'es2022',
      // workerd's own modules (a Durable Object's base class comes from cloudflare:workers)
      external: ['cloudflare:*'],
      outfile: join(dir, 'worker.js'),
      logLevel: 'silent',
    })
    const bindings = { APIVIDEO_API_KEY: API_KEY, APIVIDEO_WEBHOOK_SECRET: WEBHOOK_SECRET }
    if (kind.videoId) bindings.APIVIDEO_VIDEO_ID = kind.videoId
    const config = workerdConfig({ modules: { 'worker.js': 'worker.js' }, bindings })
    writeFileSync(join(dir, 'config.capnp'), config)
    return exec(bin('workerd'), ['test', 'config.capnp'], { cwd: dir, env: envOf(kind) })
  },
}

/** Which count a checked block adds to. */
function outcomeOf(result) {
  if (result.failed) return 'failed'
  if (result.skipped) return 'skipped'
  return 'passed'
}

/** A private video created on the stand-in, as a user's own would be: its ID. */
async function privateVideoOn(standIn) {
  const created = await standIn.fetch('https://ws.api.video/videos', {
    method: 'POST',
    headers: { authorization: `Basic ${btoa(`${API_KEY}:`)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Doc test private video', public: false }),
  })
  if (created.status !== 201) throw new Error(`the stand-in answered ${created.status} to the private video`)
  return (await created.json()).videoId
}

/** Runs one block against a fresh stand-in; returns its line. */
async function check(block, work) {
  const where = `${relative(root, block.file)}:${block.line}`
  const skip = optOut(block.code)
  if (skip) {
    if (!skip.reason)
      return { failed: true, line: `FAIL  ${where.padEnd(26)} an opt-out must say why: // doc-test: skip (reason)` }
    return { skipped: true, line: `skip  ${where.padEnd(26)} ${skip.reason}` }
  }
  const kind = { ...kindOf(block.code), webhook: receivesWebhooks(block.code) }
  const label = kind.drive ?? (kind.server ? `${kind.runtime} server` : kind.runtime)
  const { createStandIn } = await import(join(root, 'dist/testing.js'))
  const standIn = createStandIn({ apiKeys: [API_KEY] })
  if (playsPrivateVideos(block.code)) kind.videoId = await privateVideoOn(standIn)
  const server = await listen(standIn.handler)
  const dir = mkdtempSync(join(work, 'block-'))
  try {
    writeFileSync(join(dir, 'route.mjs'), route(server.url))
    copyFileSync(join(root, 'tests/docs/node-servers.mjs'), join(dir, 'node-servers.mjs'))
    // The copy-paste install: the one-file core beside the block, as the docs tell users to save it.
    copyFileSync(join(root, 'src/index.ts'), join(dir, 'apivideo-auth.ts'))
    copyFileSync(join(root, 'dist/index.js'), join(dir, 'apivideo-auth.js'))
    const { code, signal, output } = await runners[kind.runtime](block, kind, dir).catch((error) => ({
      code: 'none',
      output: error.message,
    }))
    const auth = standIn.requests.filter((r) => r.path.startsWith('/auth/')).length
    // The private video's creation is the doc test's, not the block's.
    const seen = `stand-in: ${auth} auth, ${standIn.requests.length - auth - (kind.videoId ? 1 : 0)} other`
    const title = `${label.padEnd(12)} ${block.heading.slice(0, 40)}`
    if (code === 0) return { line: `ok    ${where.padEnd(26)} ${title} (${seen})` }
    const why = signal ? `killed after ${BOUND_MS / 1000} s` : `exit ${code}`
    const tail = output
      .split('\n')
      .filter((l) => l.trim() && !/^\s+at |^Node\.js v/.test(l))
      .slice(0, 4)
      .join('\n      ')
    return { failed: true, line: `FAIL  ${where.padEnd(26)} ${title} (${why}; ${seen})\n      ${tail}` }
  } finally {
    await server.close()
    if (!process.env.DOC_TEST_KEEP) rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A fresh directory, `.tmp/<prefix>*`, where a program imports 'apivideo-auth' as its users do: node_modules/
 * apivideo-auth is this repository, so the import finds the built package by its exports, and other packages
 * ('redis', 'ioredis'…) come from the repository's node_modules. The caller removes it.
 */
export function packageWorkspace(prefix) {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run npm run build first')
  mkdirSync(join(root, '.tmp'), { recursive: true })
  const work = mkdtempSync(join(root, '.tmp', prefix))
  mkdirSync(join(work, 'node_modules'))
  // Its own package.json, so the repository's ("sideEffects": false) does not let esbuild drop the route import.
  writeFileSync(join(work, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
  symlinkSync(root, join(work, 'node_modules', 'apivideo-auth'), 'dir')
  return work
}

async function main() {
  // Blocks run from .tmp/doc-test-*/block-*/.
  const work = packageWorkspace('doc-test-')
  const counts = { passed: 0, failed: 0, skipped: 0 }
  try {
    for (const file of documents()) {
      for (const block of extractBlocks(readFileSync(file, 'utf8'), file)) {
        const result = await check(block, work)
        console.log(result.line)
        counts[outcomeOf(result)]++
      }
    }
  } finally {
    if (process.env.DOC_TEST_KEEP) console.log(`blocks kept in ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`)
  if (counts.failed) process.exitCode = 1
}

if (process.argv[1] === import.meta.filename) await main()
