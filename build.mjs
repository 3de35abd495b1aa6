// Writes dist/: each entry as ESM (.js) and CJS (.cjs) with its comments kept, .d.ts and .d.cts declarations,
// and the CLI bundle; then prints raw, gzip and min+gzip sizes.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** The package's entries: the core (one file, no imports), the stand-in, and the add-ons. */
export const entries = ['index', 'testing', 'share', 'webhooks', 'private'].filter((entry) =>
  existsSync(`src/${entry}.ts`),
)
const ROOT = fileURLToPath(new URL('.', import.meta.url))
const tsc = (...args) =>
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', ...args], { stdio: 'inherit' })

/**
 * One bundle of `contents` (an entry's source; its imports resolve from `dir`) as a user's bundler ships it: esbuild,
 * ES2022, minified, one file. Its min+gzip bytes (gzip level 9), its minified bytes, its code, and the minified bytes
 * each source file put in it. The build's sizes, the size tests and the bench all measure with this.
 */
export async function bundle({ contents, dir }, platform = 'neutral', extra = {}) {
  const { outputFiles, metafile } = await build({
    stdin: { contents, resolveDir: dir, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    platform,
    target: 'es2022',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    ...extra,
  })
  const [output] = outputFiles
  const meta = Object.values(metafile.outputs)[0]
  return {
    gzip: gzipSync(output.contents, { level: 9 }).length,
    min: output.contents.length,
    code: output.text,
    inputs: Object.entries(meta.inputs)
      .map(([file, { bytesInOutput }]) => ({ file, bytes: bytesInOutput }))
      .filter((i) => i.bytes),
  }
}

/** The files under `dir` (its subfolders' too) whose names end in `ending`, as paths relative to `dir`. */
function filesUnder(dir, ending) {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith(ending))
}

/** Minified, gzipped bytes of an entry as a bundler ships it: everything `src/<entry>.ts` exports. */
export async function minGzip(entry) {
  return (await bundle({ contents: `export * from './src/${entry}.ts'`, dir: ROOT })).gzip
}

/**
 * The `apivideo-auth` command: a Node ESM bundle that imports the package's own dist/index.js, dist/share.js and
 * dist/testing.js, and dist/node-server.js, the node:http adapter that scripts/loopback.mjs serves the tests with.
 */
async function buildCli() {
  const external = ['./index.js', './share.js', './testing.js', './node-server.js']
  await build({
    platform: 'node',
    target: 'es2022',
    logLevel: 'error',
    entryPoints: ['src/node-server.ts'],
    outfile: 'dist/node-server.js',
    format: 'esm',
  })
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

/**
 * The core names the package's version in the attribution header it sends (`AV-Origin-Sdk`), as one literal so that
 * the file can be pasted alone: it must be package.json's and jsr.json's, or the build stops.
 */
function checkVersion() {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8'))
  const sdk = `const ORIGIN_SDK = 'apivideo-auth:${version}'`
  if (!readFileSync('src/index.ts', 'utf8').includes(sdk))
    throw new Error(`src/index.ts must say ${sdk}: package.json's version`)
  if (JSON.parse(readFileSync('jsr.json', 'utf8')).version !== version)
    throw new Error(`jsr.json's version must be ${version}, package.json's`)
}

async function main() {
  checkVersion()
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
    '--verbatimModuleSyntax',
    'false',
    '--moduleResolution',
    'bundler',
    '--declaration',
    'false',
    '--outDir',
    '.tmp/cjs',
  )
  // Each module as a .cjs beside its .js (an entry's parts too: src/testing/, src/internal/), requiring the others'.
  for (const file of filesUnder('.tmp/cjs', '.js')) {
    const text = readFileSync(`.tmp/cjs/${file}`, 'utf8').replace(/(require\("\.\.?\/[\w/.-]+)\.js"\)/g, '$1.cjs")')
    writeFileSync(`dist/${file.replace(/\.js$/, '.cjs')}`, text)
  }
  rmSync('.tmp/cjs', { recursive: true, force: true })
  tsc('-p', 'tsconfig.cli.json')
  for (const file of filesUnder('dist', '.d.ts')) {
    // Both `from './x.js'` and the `import("./x.js")` types TypeScript writes for an inferred type.
    const text = readFileSync(`dist/${file}`, 'utf8')
      .replace(/(from '\.\.?\/[\w/.-]+)\.js'/g, "$1.cjs'")
      .replace(/(import\("\.\.?\/[\w/.-]+)\.js"\)/g, '$1.cjs")')
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
