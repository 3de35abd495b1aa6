// `npm run test:copy-paste`: the core copied as users copy it. For each runtime, the text of dist/index.js or
// src/index.ts is pasted above a few lines of handler code into one file, alone in a fresh directory; the file must
// hold no import or require, and, run on its runtime against the stand-in on 127.0.0.1, must take one token
// (exactly one POST /auth/api-key) and get 200 for each of its authorized `session.fetch('/videos')` calls.
// A Worker may export only its handlers, so its paste has the word `export` deleted (see withoutExports).
// `node tests/copy-paste/run.mjs [--dist <file>] [--src <file>] [--only <name,…>]`: dist/index.js and src/index.ts
// by default. One line per runtime, then "N passed, N failed"; exit 1 on any failure.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { createStandIn } from 'apivideo-auth/testing'
import { exec } from '../../scripts/exec.mjs'
import { listen } from '../../scripts/loopback.mjs'
import { workerdConfig } from '../../scripts/workerd.mjs'
import { codeOnly, importsByEsbuild, importsByRegex } from './imports.mjs'

const root = resolve(import.meta.dirname, '../..')
const options = {
  dist: { type: 'string', default: 'dist/index.js' },
  src: { type: 'string', default: 'src/index.ts' },
  only: { type: 'string' },
}
const { values: args } = parseArgs({ options })
const cores = { dist: resolve(root, args.dist), src: resolve(root, args.src) }
const coreName = (runtime) => relative(root, cores[runtime.core])
const bin = (name) => join(root, 'node_modules/.bin', name)
const KEY = 'copy-paste-key'
/** Authorized calls each handler makes through its one session. */
const CALLS = 5
const workerdPackage = execFileSync(process.execPath, ['-p', "JSON.stringify(require('workerd'))"], { cwd: root })
const workerdDate = JSON.parse(workerdPackage).compatibilityDate

/*
 * The handler code pasted under the core, as a user would write it. Each prints `statuses <status> …` (the Lambda
 * driver and the workerd harness print it for theirs). The key comes from APIVIDEO_API_KEY, read by createSession()
 * itself, except on workerd, where env is a binding; the stand-in's URL comes as the session's baseUrl.
 */

const nodeHandler = `
const session = createSession({ baseUrl: process.argv[2] })
const responses = await Promise.all(Array.from({ length: ${CALLS} }, () => session.fetch('/videos')))
for (const response of responses) await response.text()
console.log(\`statuses \${responses.map((response) => response.status).join(' ')}\`)
`

const lambdaHandler = `
const session = createSession({ baseUrl: process.env.APIVIDEO_BASE_URL })

export const handler = async (event) => {
  const response = await session.fetch('/videos')
  return { statusCode: response.status, body: await response.text() }
}
`

/** Invokes the handler as the Lambda runtime does: one warm process, one invocation at a time. */
const lambdaDriver = `
const { handler } = await import(process.argv[1])
const statuses = []
for (let i = 0; i < ${CALLS}; i++) statuses.push((await handler({ rawPath: '/videos' }, {})).statusCode)
console.log(\`statuses \${statuses.join(' ')}\`)
`

const denoHandler = `
const session = createSession({ baseUrl: Deno.env.get('APIVIDEO_BASE_URL') })
const responses = await Promise.all(Array.from({ length: ${CALLS} }, () => session.fetch('/videos')))
for (const response of responses) await response.text()
console.log(\`statuses \${responses.map((response) => response.status).join(' ')}\`)
`

const bunHandler = `
const session = createSession({ baseUrl: Bun.env.APIVIDEO_BASE_URL })
const responses = await Promise.all(Array.from({ length: ${CALLS} }, () => session.fetch('/videos')))
for (const response of responses) await response.text()
console.log(\`statuses \${responses.map((response) => response.status).join(' ')}\`)
`

const workerHandler = `
let session

export default {
  async fetch(request, env) {
    session ??= createSession({ apiKey: env.APIVIDEO_API_KEY, baseUrl: env.APIVIDEO_BASE_URL })
    return session.fetch('/videos')
  },
}
`

/** Requests the Worker concurrently from another service, as its visitors would. */
const workerHarness = `export default {
  async test(controller, env) {
    const statuses = await Promise.all(Array.from({ length: ${CALLS} }, async () => {
      const response = await env.HANDLER.fetch('http://worker/')
      await response.text()
      return response.status
    }))
    console.log(\`statuses \${statuses.join(' ')}\`)
  },
}
`

/** No lock file, remote or npm module: the pasted file alone (with a config of compiler options only). */
const DENO_ISOLATED = ['--no-lock', '--no-remote', '--no-npm']
/** The strict compiler options users paste the core under: it must type-check with each. */
const STRICTEST = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitReturns: true,
  noImplicitOverride: true,
}
/** What the handler needs, nothing more: --no-prompt makes any other access fail. */
const DENO_PERMISSIONS = ['--no-prompt', '--allow-env=APIVIDEO_API_KEY,APIVIDEO_BASE_URL', '--allow-net=127.0.0.1']

const runtimes = [
  {
    name: 'Node (ESM)',
    core: 'dist',
    file: 'handler.mjs',
    handler: nodeHandler,
    version: [process.execPath, ['--version']],
    run: ({ file, dir, env, standInUrl }) => exec(process.execPath, [file, standInUrl], { env, cwd: dir }),
  },
  {
    name: 'AWS Lambda (Node)',
    core: 'dist',
    file: 'index.mjs',
    handler: lambdaHandler,
    version: [process.execPath, ['--version']],
    run: ({ file, dir, env, standInUrl }) =>
      exec(process.execPath, ['--input-type=module', '-e', lambdaDriver, pathToFileURL(file).href], {
        env: { ...env, APIVIDEO_BASE_URL: standInUrl },
        cwd: dir,
      }),
  },
  {
    name: 'Deno (.ts)',
    core: 'src',
    file: 'handler.ts',
    handler: denoHandler,
    version: [bin('deno'), ['eval', 'console.log(Deno.version.deno)']],
    // --check: the pasted TypeScript must type-check as it stands, as an editor or `deno check` would see it, under
    // the strictest settings users paste it into (the config lies in the scratch folder, not beside the file).
    run: ({ file, dir, scratch, env, standInUrl }) => {
      const config = join(scratch, 'deno.json')
      writeFileSync(config, JSON.stringify({ compilerOptions: STRICTEST }))
      return exec(bin('deno'), ['run', '--check', ...DENO_ISOLATED, '--config', config, ...DENO_PERMISSIONS, file], {
        env: { ...env, APIVIDEO_BASE_URL: standInUrl },
        cwd: dir,
      })
    },
  },
  {
    name: 'Bun (.ts)',
    core: 'src',
    file: 'handler.ts',
    handler: bunHandler,
    version: [bin('bun'), ['--version']],
    run: ({ file, dir, env, standInUrl }) =>
      exec(bin('bun'), ['run', file], { env: { ...env, APIVIDEO_BASE_URL: standInUrl }, cwd: dir }),
  },
  {
    name: 'workerd (bundled)',
    core: 'dist',
    edit: withoutExports,
    file: 'worker.js',
    handler: workerHandler,
    version: [bin('workerd'), ['--version']],
    run: runWorker,
  },
]

/**
 * A Worker's module may export only its handlers: workerd refuses to start one that exports a string, such as
 * `export const PRODUCTION_URL = '…'`. So a Worker user deletes the word `export` from the pasted lines (and an
 * `export { … }` list, had the file one), as the README's copy-paste section says; nothing else changes.
 */
function withoutExports(core) {
  const edited = core
    .replace(/^export \{[^}]*\};?[ \t]*$/gm, '')
    .replace(/^export (?=(async\s+)?(function|class|const|let|var)\b)/gm, '')
  const left = /\bexport\b/.exec(codeOnly(edited))
  if (left) {
    const line = edited.slice(0, left.index).split('\n').length
    throw new Error(`an export the Worker's edit cannot remove, line ${line}: ${edited.split('\n')[line - 1].trim()}`)
  }
  return edited
}

/**
 * Bundles the Worker as wrangler would (esbuild, ESM), refusing any import, then runs it under `workerd test` with
 * its key and the stand-in's URL as text bindings, beside a harness service that requests it.
 */
async function runWorker({ file, scratch, standInUrl }) {
  const refuseImports = {
    name: 'refuse-imports',
    setup: (b) =>
      b.onResolve({ filter: /.*/ }, ({ path, kind }) =>
        kind === 'entry-point' ? undefined : { errors: [{ text: `the Worker imports ${path}` }] },
      ),
  }
  const outfile = join(scratch, 'worker.bundle.js')
  const plugins = [refuseImports]
  const bundling = { bundle: true, format: 'esm', platform: 'neutral', logLevel: 'silent' }
  await build({ entryPoints: [file], outfile, plugins, ...bundling })
  writeFileSync(join(scratch, 'harness.js'), workerHarness)
  const config = workerdConfig({
    modules: { 'worker.js': 'worker.bundle.js' },
    bindings: { APIVIDEO_API_KEY: KEY, APIVIDEO_BASE_URL: standInUrl },
    compatibilityDate: workerdDate,
    harness: { file: 'harness.js', binding: 'HANDLER' },
  })
  writeFileSync(join(scratch, 'config.capnp'), config)
  return exec(bin('workerd'), ['test', join(scratch, 'config.capnp')])
}

/** The last lines of a run's output, indented under its runtime's line. */
const tail = ({ stdout, stderr }) => `${stdout}\n${stderr}`.trim().split('\n').slice(-12).join('\n')

/**
 * Pastes, checks and runs one runtime's handler against a fresh stand-in. Throws with what went wrong; returns
 * what was seen.
 */
async function check(runtime, dir, scratch) {
  const core = (runtime.edit ?? String)(readFileSync(cores[runtime.core], 'utf8'))
  const separator = `// ---- pasted above: ${coreName(runtime)}; the handler: ----`
  const text = `${core.replace(/\n*$/, '\n')}\n${separator}\n${runtime.handler}`
  const file = join(dir, runtime.file)
  writeFileSync(file, text)

  const byRegex = importsByRegex(text)
  const byEsbuild = await importsByEsbuild(text, runtime.file.endsWith('.ts') ? 'ts' : 'js')
  if (byRegex.length || byEsbuild.length) {
    const found = [...byRegex, ...byEsbuild.map((record) => `esbuild: ${record}`)]
    throw new Error(`the pasted file imports:\n${found.join('\n')}`)
  }
  const beside = readdirSync(dir).filter((name) => name !== runtime.file)
  if (beside.length) throw new Error(`files beside the pasted one: ${beside.join(', ')}`)

  const standIn = createStandIn({ apiKeys: [KEY] })
  const server = await listen(standIn.handler)
  try {
    const result = await runtime.run({
      file,
      dir,
      scratch,
      standInUrl: server.url,
      env: { APIVIDEO_API_KEY: KEY, NO_COLOR: '1' },
    })
    const statuses = /^statuses ([\d ]+)$/m.exec(result.stdout)?.[1].split(' ').map(Number)
    if (result.code !== 0 || !statuses)
      throw new Error(`exit ${result.code ?? result.signal}, no statuses line\n${tail(result)}`)
    const seen = standIn.requests.map((r) => `${r.method} ${r.path}`)
    const auth = seen.filter((request) => request.includes(' /auth/'))
    const calls = seen.filter((request) => !request.includes(' /auth/'))
    const problems = []
    if (auth.join() !== 'POST /auth/api-key' || seen[0] !== auth[0]) {
      problems.push(`requests: ${seen.join(', ') || 'none'} (expected one POST /auth/api-key, before any other)`)
    }
    if (statuses.length !== CALLS || statuses.some((status) => status !== 200)) {
      problems.push(`statuses: ${statuses.join(' ')} (expected ${CALLS} × 200)`)
    }
    if (calls.length !== CALLS || calls.some((call) => call !== 'GET /videos')) {
      problems.push(`the stand-in saw: ${calls.join(', ') || 'no API call'} (expected ${CALLS} × GET /videos)`)
    }
    if (problems.length) throw new Error(`${problems.join('\n')}\n${tail(result)}`)
    return `${CALLS} × GET /videos 200 after 1 POST /auth/api-key`
  } finally {
    await server.close()
  }
}

const missing = Object.entries(cores).filter(([, path]) => !existsSync(path))
for (const [core, path] of missing) {
  console.log(`missing ${relative(root, path)}${core === 'dist' ? ': run `npm run build` first' : ''}`)
}
const only = args.only?.split(',').map((s) => s.toLowerCase())
const selected = runtimes.filter((r) => !only || only.some((o) => r.name.toLowerCase().includes(o)))
const [dist, src] = [relative(root, cores.dist), relative(root, cores.src)]
console.log(
  `copy-paste test, ${selected.length} runtimes: ${dist} or ${src} pasted above a handler, alone in a folder`,
)
let passed = 0
let failed = 0
for (const runtime of selected) {
  const started = performance.now()
  const version = (await exec(...runtime.version)).stdout
    .trim()
    .split('\n')[0]
    .replace(/^v|^workerd /, '')
  const label = `${runtime.name} ${version}`.padEnd(30)
  const source = `${coreName(runtime)}${runtime.edit ? ' without `export`' : ''}`
  const pasted = `${runtime.file} = ${source} + ${runtime.handler.trim().split('\n').length} lines`.padEnd(52)
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-paste-'))
  const scratch = mkdtempSync(join(tmpdir(), 'apivideo-auth-paste-build-'))
  let line
  try {
    if (!existsSync(cores[runtime.core])) throw new Error(`no ${coreName(runtime)} to paste`)
    const seen = await check(runtime, dir, scratch)
    passed++
    line = `ok    ${label} ${pasted} ${seen}`
  } catch (error) {
    failed++
    line = `FAIL  ${label} ${pasted} ${String(error?.message ?? error).replace(/\n/g, '\n      ')}`
  } finally {
    rmSync(dir, { recursive: true, force: true })
    rmSync(scratch, { recursive: true, force: true })
  }
  console.log(`${line}  ${((performance.now() - started) / 1000).toFixed(2)} s`)
}
console.log(`${passed} passed, ${failed} failed`)
process.exitCode = failed ? 1 : 0
