// `npm run test:coverage`: the unit suites (as `npm run test:unit` runs them) under c8, which measures line and
// branch coverage of src/ and fails below the thresholds in .c8rc.json. The suites test dist/, so dist/'s
// JavaScript is written again with inline source maps for the run (c8 maps it back to src/), and put back as the
// build wrote it afterwards: the published files never carry a map. Run after `npm run build`.
// src/cli.ts is left out: it runs only as a child process, from an esbuild bundle, and what c8 maps back from that
// bundle is every line run once and no branch at all, which measures nothing.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)

// Everything tsc writes for tsconfig.json: the ESM files of the entries and of their parts in dist/testing/ and
// dist/internal/ (the CLI and the node:http adapter are esbuild's).
const files = readdirSync('dist', { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.js') && file !== 'cli.js' && file !== 'node-server.js')
  .map((file) => `dist/${file}`)
const built = new Map(files.map((file) => [file, readFileSync(file)]))
// The demo test runs the demo, some 7,000 calls, in a child process with a 60 s watchdog: under coverage it runs
// about 40% slower, and on a busy machine past the watchdog. It covers no line the other suites miss, so it runs
// after the coverage run, on the files as built.
const DEMO = 'demo\\.test\\.mjs$'
const run = (...args) => execFileSync(process.execPath, args, { stdio: 'inherit' })

let failed = false
try {
  run(
    'node_modules/typescript/bin/tsc',
    '-p',
    'tsconfig.json',
    '--inlineSourceMap',
    '--inlineSources',
    '--declaration',
    'false',
  )
  run('node_modules/c8/bin/c8.js', 'node_modules/uvu/bin.js', 'tests', '\\.test\\.mjs$', '-i', DEMO)
} catch {
  failed = true
} finally {
  for (const [file, bytes] of built) writeFileSync(file, bytes)
}
try {
  run('node_modules/uvu/bin.js', 'tests', DEMO)
} catch {
  failed = true
}
process.exitCode = failed ? 1 : 0
