// Runs the shared runtime suite on every runtime CI proves, one line per runtime; exits 1 if any fails.
// `node tests/runtimes/run.mjs [--dist <dir>] [--src <dir>] [--only <name,…>]`: the built dist/ and src/ by default.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { exec } from '../../scripts/exec.mjs'
import { tests } from './suite.mjs'

const root = resolve(import.meta.dirname, '../..')
const here = 'tests/runtimes'
const { values: args } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    src: { type: 'string', default: 'src' },
    only: { type: 'string' },
  },
})
const dist = resolve(root, args.dist)
const src = resolve(root, args.src)
const bin = (name) => join(root, 'node_modules/.bin', name)
const workerd = JSON.parse(
  execFileSync(process.execPath, ['-p', "JSON.stringify(require('workerd'))"], { cwd: root }),
).compatibilityDate

/** Node 22, 24 and 26 live in their own package (tests/runtimes/nodes), installed from its lock file on first use. */
function nodeBinary(major) {
  const nodes = join(root, here, 'nodes')
  if (!existsSync(join(nodes, 'node_modules'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: nodes,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  const dir = join(nodes, `node_modules/node${major}`)
  return (
    [join(dir, 'bin/node'), join(dir, `node_modules/node-${process.platform}-${process.arch}/bin/node`)].find(
      existsSync,
    ) ?? `${dir}/bin/node`
  )
}

/**
 * The library's entries Deno type-checks against web libraries only:
 * the core, the stand-in, and the share and webhooks add-ons when present.
 */
const checkedSources = ['index.ts', 'testing.ts', 'share.ts', 'webhooks.ts']
  .map((file) => `${src}/${file}`)
  .filter((path) => existsSync(path))

const node = (label, binary) => ({
  label,
  binary,
  version: [binary, ['--version']],
  steps: [
    ['esm', binary, [`${here}/node.mjs`, dist]],
    ['cjs', binary, [`${here}/node.cjs`, dist]],
  ],
})

const runtimes = [
  node('Node', process.execPath),
  ...[22, 24, 26].map((major) => node('Node', nodeBinary(major))),
  {
    label: 'Bun',
    binary: bin('bun'),
    version: [bin('bun'), ['--version']],
    steps: [['suite', bin('bun'), [`${here}/bun.mjs`, dist]]],
  },
  {
    label: 'Deno',
    binary: bin('deno'),
    version: [bin('deno'), ['eval', 'console.log(Deno.version.deno)']],
    steps: [
      [
        'suite',
        bin('deno'),
        ['run', '--no-prompt', '--allow-net=127.0.0.1', `--allow-read=${dist}`, `${here}/deno.mjs`, dist],
      ],
      // Deno has Node's globals (Buffer, process):
      // type-checking the sources against web libraries only keeps them out.
      [
        'check',
        bin('deno'),
        ['check', '--quiet', '--no-lock', '--sloppy-imports', `--config=${here}/deno.web.json`, ...checkedSources],
        'command',
      ],
      [
        'publish --dry-run',
        bin('deno'),
        ['publish', '--dry-run', '--allow-dirty', '--sloppy-imports', '--quiet'],
        'command',
      ],
    ],
  },
  {
    label: 'workerd',
    binary: bin('workerd'),
    version: [bin('workerd'), ['--version']],
    prepare: bundleWorker,
    steps: [
      [`compat ${workerd}`, bin('workerd'), ['test', '--verbose', 'LATEST']],
      ['no_nodejs_compat_v2', bin('workerd'), ['test', '--verbose', 'NO_NODE']],
    ],
  },
]

/**
 * Bundles the workerd entry with 'apivideo-auth' mapped to `dist`, and writes two `workerd test` configs next to it:
 * workerd's own compatibility date (which has Node's globals, such as Buffer), and the same date without them.
 */
async function bundleWorker(dir) {
  const mapToDist = {
    name: 'apivideo-auth',
    setup: (b) =>
      b.onResolve({ filter: /^apivideo-auth(\/(testing|webhooks))?$/ }, ({ path }) => ({
        path: join(dist, `${path.split('/')[1] ?? 'index'}.js`),
      })),
  }
  await build({
    entryPoints: [join(root, here, 'workerd.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    outfile: join(dir, 'worker.js'),
    plugins: [mapToDist],
    logLevel: 'error',
  })
  const config = (name, flags) => {
    writeFileSync(join(dir, `${name}.capnp`), capnp(flags))
    return join(dir, `${name}.capnp`)
  }
  return { LATEST: config('latest', []), NO_NODE: config('no-node', ['no_nodejs_compat_v2']) }
}

function capnp(flags) {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ( name = "suite",
      worker = (
        modules = [ (name = "worker", esModule = embed "worker.js") ],
        compatibilityDate = "${workerd}",
        compatibilityFlags = ${JSON.stringify(flags)},
        bindings = [ (name = "SELF", service = "suite"), (name = "APIVIDEO_API_KEY", text = "test-key") ],
      ),
    ),
  ],
);
`
}

/** Runs a command from the project's root; killed after 120 s. */
const run = (command, argv) => exec(command, argv, { cwd: root, env: { NO_COLOR: '1' }, timeout: 120_000 })

/** A suite step passes only with exit 0 and a summary counting every shared test as passed. */
function verdict(kind, { code, signal, output: out }) {
  code ??= signal
  if (kind === 'command') return code === 0 ? undefined : `exit ${code}\n${failures(out)}`
  const summary = /^# passed (\d+) failed (\d+)$/m.exec(out)
  if (code === 0 && summary && +summary[2] === 0 && +summary[1] >= tests.length) return undefined
  return `exit ${code}, ${summary ? `${summary[1]} passed, ${summary[2]} failed` : 'no summary'}\n${failures(out)}`
}

/** Each failed test with the top of its stack, or the end of the output when no test line says why. */
function failures(out) {
  const lines = out.trim().split('\n')
  const picked = lines.flatMap((line, i) =>
    line.startsWith('not ok') ? [line, ...lines.slice(i + 1, i + 3).filter((l) => /^\s+at /.test(l))] : [],
  )
  return (picked.length ? picked : lines.slice(-20)).slice(0, 40).join('\n')
}

async function check(runtime) {
  const started = performance.now()
  if (!existsSync(runtime.binary)) return { ok: false, line: `${runtime.label} (not installed: ${runtime.binary})` }
  const version = (await run(...runtime.version)).output.trim().replace(/^v|^workerd /, '')
  const name = `${runtime.label} ${version}`
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-runtime-'))
  const problems = []
  try {
    const vars = runtime.prepare ? await runtime.prepare(dir) : {}
    for (const [step, command, argv, kind] of runtime.steps) {
      const problem = verdict(
        kind,
        await run(
          command,
          argv.map((a) => vars[a] ?? a),
        ),
      )
      if (problem) problems.push(`${step}: ${problem}`)
    }
  } catch (error) {
    problems.push(String(error?.stack ?? error))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const steps = runtime.steps.map(([step]) => step).join(' + ')
  const seconds = ((performance.now() - started) / 1000).toFixed(2)
  if (!problems.length) return { ok: true, line: `ok    ${name.padEnd(18)} ${seconds.padStart(5)} s  ${steps}` }
  const indentedProblems = problems.join('\n').replace(/^/gm, '      ')
  return { ok: false, line: `FAIL  ${name.padEnd(18)} ${seconds.padStart(5)} s  ${steps}\n${indentedProblems}` }
}

const only = args.only?.split(',').map((s) => s.toLowerCase())
const selected = runtimes.filter((r) => !only || only.some((o) => `${r.label} ${r.binary}`.toLowerCase().includes(o)))
console.log(`runtime suite (${tests.length} shared tests) on ${dist}`)
let failed = 0
for (const runtime of selected) {
  const { ok, line } = await check(runtime)
  if (!ok) failed++
  console.log(line)
}
console.log(failed ? `${failed} of ${selected.length} runtimes FAILED` : `all ${selected.length} runtimes passed`)
process.exitCode = failed ? 1 : 0
