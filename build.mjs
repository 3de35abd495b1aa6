// Writes dist/: each entry as ESM (.js) and CJS (.cjs) with its comments kept, .d.ts and .d.cts declarations,
// and the CLI bundle; then prints raw, gzip and min+gzip sizes.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** The package's entries: the core (one file, no imports), the stand-in, the share add-on. */
export const entries = ['index', 'testing', 'share', 'webhooks'].filter((entry) => existsSync(`src/${entry}.ts`))
const tsc = (...args) =>
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', ...args], { stdio: 'inherit' })

/** Minified, gzipped bytes of an entry as a bundler ships it (esbuild, neutral platform, gzip level 9). */
export async function minGzip(entry) {
  const { outputFiles } = await build({
    entryPoints: [`src/${entry}.ts`],
    bundle: true,
    platform: 'neutral',
    format: 'esm',
    minify: true,
    write: false,
    logLevel: 'error',
  })
  return gzipSync(outputFiles[0].contents, { level: 9 }).length
}

/** The `apivideo-auth` command: a Node ESM bundle that imports the package's own dist/index.js and dist/testing.js. */
async function buildCli() {
  const external = ['./index.js', './testing.js']
  await build({
    bundle: true,
    platform: 'node',
    target: 'es2022',
    logLevel: 'error',
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    format: 'esm',
    external,
    banner: { js: '#!/usr/bin/env node' },
  })
  chmodSync('dist/cli.js', 0o755)
}

async function main() {
  rmSync('dist', { recursive: true, force: true })
  rmSync('.tmp/cjs', { recursive: true, force: true })
  // TypeScript writes the JavaScript too, so dist/ reads like src/: unminified, comments kept, nothing bundled.
  // The library is checked without Node's types, so a Node-only API in src/ fails the build;
  // the CLI is checked with them.
  tsc('-p', 'tsconfig.json')
  tsc(
    '-p',
    'tsconfig.json',
    '--module',
    'commonjs',
    '--moduleResolution',
    'bundler',
    '--declaration',
    'false',
    '--outDir',
    '.tmp/cjs',
  )
  for (const entry of entries) copyFileSync(`.tmp/cjs/${entry}.js`, `dist/${entry}.cjs`)
  rmSync('.tmp/cjs', { recursive: true, force: true })
  tsc('-p', 'tsconfig.cli.json')
  for (const file of readdirSync('dist').filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(`dist/${file}`, 'utf8').replace(/(from '\.\/[\w-]+)\.js'/g, "$1.cjs'")
    writeFileSync(`dist/${file.replace(/\.d\.ts$/, '.d.cts')}`, text)
  }
  await buildCli()
  for (const entry of entries) {
    for (const file of [`${entry}.js`, `${entry}.cjs`]) {
      const bytes = readFileSync(`dist/${file}`)
      console.log(
        `${`dist/${file}`.padEnd(24)} ${String(bytes.length).padStart(7)} B raw ` +
          `${String(gzipSync(bytes, { level: 9 }).length).padStart(6)} B gzip`,
      )
    }
    console.log(
      `${`${entry} (min+gzip)`.padEnd(24)} ${''.padStart(7)}       ${String(await minGzip(entry)).padStart(6)} B gzip`,
    )
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) await main()
