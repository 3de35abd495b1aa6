// Writes dist/: ESM and CJS bundles of each entry, .d.ts and .d.cts declarations, and prints sizes.
import { execFileSync } from 'node:child_process'
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

export const entries = ['index', 'testing', 'share']
const common = { bundle: true, platform: 'neutral', target: 'es2022', logLevel: 'error' }

/** The `apivideo-auth` command: a Node ESM bundle that imports the package's own dist/index.js and dist/testing.js. */
async function buildCli() {
  const external = ['./index.js', './testing.js']
  await build({ ...common, platform: 'node', entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', format: 'esm', external, banner: { js: '#!/usr/bin/env node' } })
  chmodSync('dist/cli.js', 0o755)
}

/** Minified, gzipped bytes of an entry as a bundler would ship it. */
export async function minGzip(entry) {
  const { outputFiles } = await build({ ...common, entryPoints: [`src/${entry}.ts`], format: 'esm', minify: true, splitting: true, outdir: 'out', write: false })
  const main = outputFiles.find((f) => f.path.endsWith(`/out/${entry}.js`))
  return gzipSync(main.contents, { level: 9 }).length
}

async function main() {
  rmSync('dist', { recursive: true, force: true })
  // ESM splits the lazily imported parts (the store, the authorized fetch) into their own files;
  // CJS cannot split, so they stay inline there.
  for (const format of ['esm', 'cjs']) {
    const split = format === 'esm' ? { splitting: true, chunkNames: '[name]' } : { outExtension: { '.js': '.cjs' } }
    await build({ ...common, entryPoints: entries.map((e) => `src/${e}.ts`), outdir: 'dist', format, ...split })
  }
  // The library is checked without Node's types, so a Node-only API in src/ fails the build; the CLI is checked with them.
  for (const config of ['tsconfig.json', 'tsconfig.cli.json']) execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', config], { stdio: 'inherit' })
  for (const file of readdirSync('dist').filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(`dist/${file}`, 'utf8').replace(/(from '\.\/[\w-]+)\.js'/g, "$1.cjs'")
    writeFileSync(`dist/${file.replace(/\.d\.ts$/, '.d.cts')}`, text)
  }
  await buildCli()
  const rows = []
  for (const entry of entries) {
    for (const file of [`${entry}.js`, `${entry}.cjs`]) {
      const bytes = readFileSync(`dist/${file}`)
      rows.push({ file: `dist/${file}`, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length })
    }
    rows.push({ file: `${entry} (min+gzip)`, raw: '', gzip: await minGzip(entry) })
  }
  for (const { file, raw, gzip } of rows) console.log(`${file.padEnd(24)} ${String(raw).padStart(7)} B raw ${String(gzip).padStart(6)} B gzip`)
}

if (process.argv[1] === new URL(import.meta.url).pathname) await main()
