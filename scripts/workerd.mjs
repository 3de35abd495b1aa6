// The workerd config that the copy-paste test, the examples and the doc test write: the Worker under test with
// its text bindings, outbound fetch to loopback only, and, when given, a harness service that tests the Worker.

/**
 * A workerd config, as capnp text. `modules` maps each module name to the file embedded for it, the Worker's entry
 * first; `bindings` are text bindings. A `harness` ({ file, binding }) is a second service whose `test()` reaches
 * the Worker through the service binding it names.
 * @example
 * writeFileSync('config.capnp', workerdConfig({ modules: { 'worker.js': 'worker.js' }, bindings: { KEY: 'k' } }))
 * // then: workerd test config.capnp
 */
export function workerdConfig({ modules, bindings = {}, compatibilityDate = '2025-01-01', harness }) {
  const embed = (entries) => entries.map(([name, file]) => `(name = "${name}", esModule = embed "${file}")`)
  const texts = Object.entries(bindings).map(([name, text]) => `(name = "${name}", text = "${text}")`)
  const worker = (name, modules, bindings) => `(name = "${name}", worker = (
      modules = [ ${modules.join(', ')} ],
      compatibilityDate = "${compatibilityDate}",
      bindings = [ ${bindings.join(', ')} ],
    ))`
  const services = [worker('worker', embed(Object.entries(modules)), texts)]
  if (harness) {
    const reach = `(name = "${harness.binding}", service = "worker")`
    services.push(worker('harness', embed([[harness.file, harness.file]]), [reach]))
  }
  services.push('(name = "internet", network = ( allow = ["local"] ))')
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${services.join(',\n    ')},
  ],
);
`
}
